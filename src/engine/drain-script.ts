import { command, quote } from '../shell/quote.js';
import type { RealServerRef } from '../resources/types.js';
import { scriptEnvironment } from '../shell/script-environment.js';

// The drain of a director's leaving real servers: one exec that polls the director's own IPVS
// table once a second, over the connection the apply already holds, until no leaving server has
// a connection in flight or the time is up. ActiveConn counts established TCP connections (those
// a deletion would cut); persistence templates and closing connections are not in it, and UDP
// has none, so a UDP server drains at once. A connection still opening (SYN_RECV: the client's
// SYN went to the server, its ACK has not reached the director yet) is not in ActiveConn either,
// yet deleting its server then drops the rest of it: with expire_nodest_conn=0 the director
// drops every later packet of it, and the client's request hangs. So once ActiveConn is 0, one
// look at the connection table confirms that no connection of a leaving server is opening.

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

/**
 * The connection-table check for TCP services (`-t VIP:PORT`): the SYN_RECV and ESTABLISHED
 * entries of each server, in `ipvsadm -L -n -c` lines `TCP EXPIRE STATE CLIENT VIRTUAL DEST`.
 * Fwmark services do not name their VIP, and UDP has no opening state: they are not looked up.
 */
function openingCheck(servers: readonly RealServerRef[]): string[] {
  const looked = servers.flatMap((server, index) => (server.service[0] === '-t' && server.service[1] ? [{ index, key: `${server.service[1]} ${server.server}` }] : []));
  if (looked.length === 0) return [];
  const table = command('ipvsadm', '-L', '-n', '-c');
  const count = `awk -v keys=${quote(looked.map((entry) => entry.key).join('|'))} 'BEGIN { n = split(keys, k, "|"); for (i = 1; i <= n; i++) { c[k[i]] = 0; order[i] = k[i] } } $1 == "TCP" && ($3 == "SYN_RECV" || $3 == "ESTABLISHED") && (($5 " " $6) in c) { c[$5 " " $6]++ } END { for (i = 1; i <= n; i++) printf "%d ", c[order[i]] }'`;
  return [
    '  if [ "$left" -eq 0 ]; then',
    `    set -- $(${table} 2>/dev/null | ${count})`,
    ...looked.map((entry) => `    a${entry.index}=\${1:-0}; left=$((left + a${entry.index})); shift`),
    '  fi',
  ];
}

/** The drain poll; a prelude (the host lock's check) runs first and may end the script before any poll. */
export function drainScript(servers: readonly RealServerRef[], timeoutSeconds: number, prelude?: string): string {
  const polls = servers.map((server, index) => `  a${index}=${activeOf(server)}; left=$((left + a${index}))`);
  const report = servers.map((_, index) => `$a${index}`).join(' ');
  return [
    scriptEnvironment,
    ...(prelude ? [prelude] : []),
    `start=$(date +%s); polls=0`,
    'while :; do',
    '  left=0; polls=$((polls + 1))',
    ...polls,
    ...openingCheck(servers),
    `  now=$(date +%s)`,
    `  if [ "$left" -eq 0 ]; then printf 'drained %s %s ${'%s '.repeat(servers.length).trim()}\\n' "$((now - start))" "$polls" ${report}; exit 0; fi`,
    `  if [ "$((now - start))" -ge ${Math.floor(timeoutSeconds)} ]; then printf 'timeout %s %s ${'%s '.repeat(servers.length).trim()}\\n' "$((now - start))" "$polls" ${report}; exit 0; fi`,
    '  sleep 1',
    'done',
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
