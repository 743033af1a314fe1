import { LOCK_FD_CLOSED } from '../lock/lock-script.js';
import { command, quote } from '../shell/quote.js';
import type { RealServerRef } from '../resources/types.js';
import { scriptEnvironment } from '../shell/script-environment.js';
import { boundEntry } from '../resources/ipvs/bound-connections.js';

// The drain of a director's leaving real servers: one exec that polls the director's own IPVS
// table once a second, over the connection the apply already holds, until no leaving server has
// a connection in flight or the time is up. ActiveConn counts established TCP connections (those
// a deletion would cut); persistence templates and closing connections are not in it, and UDP
// has none, so a UDP server drains at once. A connection still opening (SYN_RECV: the client's
// SYN went to the server, its ACK has not reached the director yet) is not in ActiveConn either,
// yet deleting its server then drops the rest of it: with expire_nodest_conn=0 the director
// drops every later packet of it, and the client's request hangs. So once ActiveConn is 0, one
// look at the connection table confirms that no connection of a leaving server is opening.
//
// Only a director that holds the service's VIP at a poll has traffic for it. The other director
// of a keepalived pair keeps the entries of the connections it carried while it was master, each
// ESTABLISHED until its 15-minute timeout since their FIN never reaches it; waiting on those
// would hold every apply after a failover for the whole drain timeout. So each poll asks the
// kernel whether it would deliver the VIP locally (`ip route get`: an address or a local route)
// and counts a server's connections only while it does; should the VIP move back mid-drain, the
// next poll counts them again.
//
// A VIP that moves to another director in the same apply leaves this one first thing in balance
// (engine/vip-handover.ts), before any drain, which then no longer counts its servers. Should it
// still be here at the drain (its removal did not run in balance), the router sends its packets
// to the new holder all the same from balance on (its gratuitous ARP): the entries here get no
// packet again and stay ESTABLISHED for the 15-minute timeout, and the drain would wait its whole
// timeout for connections that moved with the VIP (and end there: no connection sync). So for a
// VIP another director announced (`moved`), a server's connections count only while its inbound
// packet counter (`ipvsadm -L -n --stats --exact`) still grows: once it has stood still for
// QUIET_SECONDS, nothing reaches them here. Should the router still send here (no arping on the
// new holder), the counter grows and the drain waits as ever.
//
// A fwmark service's table names no VIP: its server references carry the addresses the director's
// firewall marks give its mark (engine/mark-vips.ts), one or several. ActiveConn cannot tell them
// apart, so such a server's connections are counted in the connection table instead, by the
// address each came to (the VIRTUAL column is the packet's destination): those to a VIP count
// under the same two tests as a port service's, and where only some of a mark's VIPs moved, only
// the connections to the others keep the drain waiting; an opening one (SYN_RECV) counts too.
// Two approximations, each making the drain longer, never shorter: the packet counter is the
// server's, not a VIP's, so a moved VIP still here whose server also gets packets through another
// VIP counts as long as those arrive; and a connection of another service to the same VIP and
// server (a port the mark leaves out) is counted with them. A mark no lvsprov fwmark table names
// leaves the server with no VIP, and its connections always count.

// A real server whose forwarding method this director switched in balance stays in its service,
// and takes new connections by the new method: only those made by the old one (listed as the
// switch ran, resources/ipvs/bound-connections.ts) are waited for, each by its client, VIP and
// server in the connection table, while it is opening or established (a UDP one: until its entry
// expires, UDP's timeout after its last datagram), under the same VIP tests.

/** How long a moved VIP's leaving server must receive no packet here before its connections stop counting. */
export const QUIET_SECONDS = 5;

export interface DrainOutcome {
  /** Active connections per leaving server at the last poll, in the order they were given. */
  readonly active: readonly number[];
  readonly drained: boolean;
  readonly seconds: number;
  readonly polls: number;
}

/** `ipvsadm -L -n SELECTOR` lines `  -> RIP:PORT  Forward Weight ActiveConn InActConn`; a missing server counts 0. */
function activeOf(server: RealServerRef): string {
  const list = command('ipvsadm', '-L', '-n', ...server.service);
  return `$(${list} 2>/dev/null | awk -v rs=${quote(server.server)} '$1 == "->" && $2 == rs { n = $5 } END { print n + 0 }')`;
}

/** The server's inbound packet count, from `ipvsadm -L -n --stats --exact` lines `  -> RIP:PORT Conns InPkts ...`. */
function inPacketsOf(server: RealServerRef): string {
  const list = command('ipvsadm', '-L', '-n', '--stats', '--exact', ...server.service);
  return `$(${list} 2>/dev/null | awk -v rs=${quote(server.server)} '$1 == "->" && $2 == rs { n = $4 } END { print n + 0 }')`;
}

/** The addresses the server's connections come to: its service's VIP, or the VIPs its mark covers. */
function vipsOf(server: RealServerRef): readonly string[] {
  return server.vip !== undefined ? [server.vip] : (server.vips ?? []);
}

/** A fwmark server whose VIPs are known: counted in the connection table, by VIP. */
const byVip = (server: RealServerRef): boolean => server.vip === undefined && vipsOf(server).length > 0;

/**
 * Per poll, for each server of a moved VIP: `t<I>`, when its inbound packet count last changed
 * (the first poll counts as a change).
 */
function packetWatch(servers: readonly RealServerRef[], moved: ReadonlySet<string>): string[] {
  return servers.flatMap((server, index) =>
    vipsOf(server).some((vip) => moved.has(vip)) ? [`  n${index}=${inPacketsOf(server)}; if [ "$n${index}" != "\${p${index}:-}" ]; then p${index}=$n${index}; t${index}=$now; fi`] : [],
  );
}

/**
 * `ipvsadm -L -n -c` lines `TCP EXPIRE STATE CLIENT VIRTUAL DEST` -> the SYN_RECV and ESTABLISHED
 * entries per key, printed in the keys' order. A key is `VIP:PORT RIP:PORT`, or `VIP RIP` with
 * the ports left out, for connections that come to any port: a fwmark service's, and a port-0
 * service's, whose entries carry the port the client came to while its servers are listed with 0.
 */
function tableCount(keys: readonly string[]): string {
  const pick = 'e = $5 " " $6; v = $5; sub(/:[0-9]+$/, "", v); d = $6; sub(/:[0-9]+$/, "", d); a = v " " d; if (e in c) c[e]++; else if (a in c) c[a]++';
  const count = `awk -v keys=${quote(keys.join('|'))} 'BEGIN { n = split(keys, k, "|"); for (i = 1; i <= n; i++) { c[k[i]] = 0; order[i] = k[i] } } $1 == "TCP" && ($3 == "SYN_RECV" || $3 == "ESTABLISHED") { ${pick} } END { for (i = 1; i <= n; i++) printf "%d ", c[order[i]] }'`;
  return `set -- $(${command('ipvsadm', '-L', '-n', '-c')} 2>/dev/null | ${count})`;
}

/** The opening-check key of a port service's server: by address where the service takes every port. */
function openingKey(server: RealServerRef, virtual: string): string {
  return virtual.endsWith(':0') ? `${virtual.replace(/:0$/, '')} ${server.address}` : `${virtual} ${server.server}`;
}

/**
 * Per poll, the fwmark servers whose VIPs are known: `a<I>`, their connections in the table to
 * each VIP that passes its tests, one read of the table for all of them.
 */
function vipCounts(servers: readonly RealServerRef[], vips: readonly string[], moved: ReadonlySet<string>, counted: (index: number) => boolean): string[] {
  const marked = (server: RealServerRef, index: number): boolean => byVip(server) && counted(index);
  const pairs = servers.flatMap((server, index) => (marked(server, index) ? vipsOf(server).map((vip) => ({ index, vip, key: `${vip} ${server.address}` })) : []));
  if (pairs.length === 0) return [];
  return [
    `  ${tableCount(pairs.map((pair) => pair.key))}`,
    ...servers.flatMap((server, index) => (marked(server, index) ? [`  a${index}=0`] : [])),
    ...pairs.map(({ index, vip }) => `  if ${vipTest(vip, index, vips, moved)}; then a${index}=$((a${index} + \${1:-0})); fi; shift`),
    ...servers.flatMap((server, index) => (marked(server, index) ? [`  left=$((left + a${index}))`] : [])),
  ];
}

/**
 * The connection-table check for TCP services (`-t VIP:PORT`): the SYN_RECV and ESTABLISHED
 * entries of each server. UDP has no opening state, and fwmark servers are counted in the table
 * at every poll (vipCounts), or, with no VIP known, not looked up.
 */
function openingCheck(servers: readonly RealServerRef[], vips: readonly string[], moved: ReadonlySet<string>, counted: (index: number) => boolean): string[] {
  const looked = servers.flatMap((server, index) => (counted(index) && server.service[0] === '-t' && server.service[1] ? [{ index, server, key: openingKey(server, server.service[1]) }] : []));
  if (looked.length === 0) return [];
  return [
    '  if [ "$left" -eq 0 ]; then',
    `    ${tableCount(looked.map((entry) => entry.key))}`,
    ...looked.map((entry) => `    if ${heldTest(entry.server, entry.index, vips, moved)}; then a${entry.index}=\${1:-0}; left=$((left + a${entry.index})); fi; shift`),
    '  fi',
  ];
}

/**
 * Per poll, `v<N>=1` while this host would deliver VIP number N locally, 0 when it would route it
 * away; 1 too when `ip route get` says nothing, so an unanswered question never ends a drain.
 */
function vipChecks(vips: readonly string[]): string[] {
  return vips.map((vip, index) => `  v${index}=$(ip route get ${quote(vip)} 2>/dev/null | awk 'NR == 1 { print ($1 == "local") }'); v${index}=\${v${index}:-1}`);
}

/**
 * The shell test that this director delivers `vip` here; for a moved VIP, also that server
 * number `index` received a packet here within QUIET_SECONDS.
 */
function vipTest(vip: string, index: number, vips: readonly string[], moved: ReadonlySet<string>): string {
  const held = `[ "$v${vips.indexOf(vip)}" = 1 ]`;
  return moved.has(vip) ? `${held} && [ "$((now - t${index}))" -lt ${QUIET_SECONDS} ]` : held;
}

/** The shell test that this server's service is delivered here, or `true` when it names no VIP. */
function heldTest(server: RealServerRef, index: number, vips: readonly string[], moved: ReadonlySet<string>): string {
  return server.vip === undefined ? 'true' : vipTest(server.vip, index, vips, moved);
}

/**
 * Per poll, the servers whose old method's connections are listed (`bound`, by server index):
 * `a<I>`, how many of those are still opening or established (a UDP one: still in the table),
 * one read of the table for all.
 * The list goes to awk ahead of the table, as a here-document: it may be long.
 */
function boundCounts(servers: readonly RealServerRef[], bound: ReadonlyArray<readonly string[] | undefined>, vips: readonly string[], moved: ReadonlySet<string>): string[] {
  const listed = servers.flatMap((server, index) => (bound[index] === undefined ? [] : [{ server, index }]));
  if (listed.length === 0) return [];
  const keys = listed.flatMap(({ index }) => (bound[index] ?? []).map((key) => `${index} ${key}`));
  const count = `awk -v n=${servers.length} 'p == 0 { if ($0 == "--") p = 1; else m[$2 " " $3 " " $4] = $1; next } ${boundEntry} && (($4 " " $5 " " $6) in m) { c[m[$4 " " $5 " " $6]]++ } END { for (i = 0; i < n; i++) printf "%d ", c[i] }'`;
  return [
    `  set -- $({ cat <<'LVSPROV_BOUND'`,
    ...keys,
    'LVSPROV_BOUND',
    `  echo --; ${command('ipvsadm', '-L', '-n', '-c')} 2>/dev/null; } | ${count})`,
    ...servers.map((server, index) => (bound[index] === undefined ? '  shift' : `  a${index}=0; if ${heldTest(server, index, vips, moved)}; then a${index}=\${1:-0}; fi; left=$((left + a${index})); shift`)),
  ];
}

/**
 * The drain poll; a prelude (the host lock's check) runs first and may end the script before any
 * poll. `movedVips`: the VIPs another director announced in this run. `bound`, by server index:
 * the connections made by a switched server's old method (`CLIENT VIRTUAL DESTINATION` each), the
 * only ones waited for on that server.
 */
export function drainScript(servers: readonly RealServerRef[], timeoutSeconds: number, prelude?: string, movedVips: readonly string[] = [], bound: ReadonlyArray<readonly string[] | undefined> = []): string {
  const vips = [...new Set(servers.flatMap(vipsOf))];
  const moved = new Set(movedVips);
  const counted = (index: number): boolean => bound[index] === undefined;
  const polls = servers.flatMap((server, index) => (byVip(server) || !counted(index) ? [] : [`  a${index}=0; if ${heldTest(server, index, vips, moved)}; then a${index}=${activeOf(server)}; fi; left=$((left + a${index}))`]));
  const report = servers.map((_, index) => `$a${index}`).join(' ');
  return [
    scriptEnvironment,
    ...(prelude ? [prelude] : []),
    // The loop ends with `break`, not `exit`: the script runs in the session's shell, whose exit
    // would give the host lock up while the run still has waves to apply here. Its programs run
    // without the lock's descriptor.
    '{',
    `start=$(date +%s); polls=0`,
    'while :; do',
    '  left=0; polls=$((polls + 1)); now=$(date +%s)',
    ...vipChecks(vips),
    ...packetWatch(servers, moved),
    ...polls,
    ...vipCounts(servers, vips, moved, counted),
    ...boundCounts(servers, bound, vips, moved),
    ...openingCheck(servers, vips, moved, counted),
    `  now=$(date +%s)`,
    `  if [ "$left" -eq 0 ]; then printf 'drained %s %s ${'%s '.repeat(servers.length).trim()}\\n' "$((now - start))" "$polls" ${report}; break; fi`,
    `  if [ "$((now - start))" -ge ${Math.floor(timeoutSeconds)} ]; then printf 'timeout %s %s ${'%s '.repeat(servers.length).trim()}\\n' "$((now - start))" "$polls" ${report}; break; fi`,
    // One empty line per poll, into the channel: once the run stopped listening (an interrupt
    // closes the channel, a killed run its connection) the write fails and the poll ends, and
    // with it the shell that holds the host lock (at once by SIGPIPE, or by the end of its input
    // where SIGPIPE is ignored). Without it the shell polled on to the drain timeout, 300 s by
    // default, and the operator's re-run found the director locked by a run that had ended.
    "  printf '\\n' || break",
    '  sleep 1',
    'done',
    `} ${LOCK_FD_CLOSED}`,
    '',
  ].join('\n');
}

/** The script's last line: `drained|timeout SECONDS POLLS ACTIVE...`; undefined when it never printed one. */
export function parseDrain(stdout: string, count: number): DrainOutcome | undefined {
  const line = stdout.trim().split('\n').at(-1) ?? '';
  const words = line.trim().split(/\s+/);
  const [state, seconds, polls, ...active] = words;
  if ((state !== 'drained' && state !== 'timeout') || active.length !== count || ![seconds, polls, ...active].every((word) => /^\d+$/.test(word ?? ''))) {
    return undefined;
  }
  return { drained: state === 'drained', seconds: Number(seconds), polls: Number(polls), active: active.map(Number) };
}
