import { command, quote } from '../../shell/quote.js';
import { parseFileLine, readFileSnippet, type FileState } from '../file-state.js';
import { LIVE_TABLE_SNIPPET, parseStatus, type IpvsStatus } from '../ipvs/probe.js';
import { parsePinnedRoute, pinsSnippet } from '../ipvs/next-hop-pin.js';
import type { Table } from '../ipvs/model.js';
import { parseRules } from '../ipvs/rules-format.js';
import { enablerProbe, RUNLEVEL_LINK_DIRS, startLinkProbe } from '../sysv-links.js';
import type { ProbeOutput } from '../types.js';
import type { ServiceManager } from './daemon.js';
import type { KeepalivedSpec } from './schema.js';
import { serversToCheck } from './table.js';
import { ADDRESSES_SNIPPET, parseAddressLines, type HostAddresses } from './vrrp-source.js';

// One read of everything the keepalived task plans from: the program, its config, whether the
// daemon runs and starts at boot, the live IPVS table, and - only for real servers the table
// lacks - the director's own try of their health check, so that a server keepalived took out
// (down by health check) is told apart from one deleted by hand (drift). An unchanged director
// whose table is whole runs no check at all.

export const PIDFILE = '/run/keepalived.pid';

/**
 * Shell: the pid file holds a process number, left in $ka_pid. Builtins only: every director's
 * read asks whether keepalived runs, and a `$(cat ...)` there was a fork and a program each time.
 * Anything but digits is no pid: `kill` would take "-1" for every process the user may signal.
 */
const readPid = `{ ka_pid=; read -r ka_pid < ${PIDFILE}; } 2>/dev/null; case "$ka_pid" in '' | *[!0-9]*) false ;; esac`;

/** Shell: keepalived's pid file names a live process, whose number is left in $ka_pid. */
export const keepalivedAlive = `{ ${readPid} && kill -0 "$ka_pid" 2>/dev/null; }`;

/**
 * Shell: keepalived's pid file names a live process called keepalived (a stale pid file's number
 * may have gone to another process), whose number is left in $ka_pid.
 */
export const keepalivedRunsAsPidfileSays = `{ ${readPid} && { ka_comm=; read -r ka_comm < "/proc/$ka_pid/comm"; } 2>/dev/null && [ "$ka_comm" = keepalived ]; }`;

export interface KeepalivedFacts {
  readonly installed: boolean;
  readonly file: FileState;
  readonly running: boolean;
  readonly manager: ServiceManager;
  /** Starts at boot; null where nothing can say (no systemd unit, no init script). */
  readonly enabled: boolean | null;
  readonly enabler: 'update-rc.d' | 'chkconfig' | null;
  readonly ipvs: IpvsStatus;
  readonly table: Table;
  /** `service real-server` keys (ipvs names) of real servers missing from the table whose check fails here. */
  readonly down: readonly string[];
  /** The same for real servers missing from the table that answer their check: drift. */
  readonly answering: readonly string[];
  /** The next-hop pins on the host (addresses): a run stopped in a forwarding switch leaves its own. */
  readonly pins: readonly string[];
  /** The host's devices and IPv4 addresses, where the read listed them (a spec with VRRP instances). */
  readonly addresses?: HostAddresses;
}

/**
 * Shell functions: is a real server in the live table at a weight above 0; does it pass a TCP or
 * HTTP check. The check's bash reads no startup file: Debian's bash runs ~/.bashrc when it thinks
 * sshd started it (SSH_CLIENT set), even for `bash -c`, and a slow one (pyenv init) outlasted the
 * check's timeout, so every missing real server looked down. `--norc` stops that, an empty
 * BASH_ENV the file a non-interactive bash would source.
 */
const CHECK_FUNCTIONS = String.raw`ka_in_table() { printf '%s\n' "$ipvs_rules" | grep -F -e "$1" | grep -v -e ' -w 0$' -e ' -w 0 ' | grep -q .; }
ka_tcp() { BASH_ENV= timeout "$3" bash --norc --noprofile -c 'exec 3<>"/dev/tcp/$1/$2"' ka "$1" "$2" 2>/dev/null; }
ka_http() { BASH_ENV= timeout "$3" bash --norc --noprofile -c 'exec 3<>"/dev/tcp/$1/$2" && printf "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n" "$4" "$1" >&3 && read -r v s r <&3 && [ "$s" = "$5" ]' ka "$1" "$2" "$3" "$4" "$5" 2>/dev/null; }
ka_try() { ka_left=$1; shift; while [ "$ka_left" -gt 0 ]; do "$@" && return 0; ka_left=$((ka_left - 1)); done; return 1; }`;

function checkSnippets(spec: KeepalivedSpec): string[] {
  const lines: string[] = [];
  for (const server of spec.virtual_servers) {
    const check = server.health_check;
    if (!check) continue;
    // Every real server of a checked service is a candidate; the shell tests the table first.
    for (const candidate of serversToCheck({ ...spec, virtual_servers: [server] }, [])) {
      const rule = `-a ${candidate.selector.join(' ')} -r ${candidate.server} `;
      // keepalived takes a server out after `retries` failed checks in a row, not one: tried once,
      // a check that failed by chance (a slow answer on a busy host) called a healthy server down,
      // and a server deleted by hand was then never re-added, keepalived counting it as in.
      const probe =
        check.type === 'http'
          ? command('ka_try', check.retries, 'ka_http', candidate.address, candidate.port, check.timeout, check.path ?? '/', check.expect_status ?? 200)
          : command('ka_try', check.retries, 'ka_tcp', candidate.address, candidate.port, check.timeout);
      const key = quote(`${candidate.service}|${candidate.server}`);
      lines.push(`if ! ka_in_table ${quote(rule)}; then if ${probe}; then printf 'H up %s\\n' ${key}; else printf 'H down %s\\n' ${key}; fi; fi`);
    }
  }
  return lines;
}

export function probeSnippet(spec: KeepalivedSpec): string {
  return [probeSnippetWithoutAddresses(spec), ...(spec.instances.length > 0 ? [ADDRESSES_SNIPPET] : [])].join('\n');
}

/** The probe before it listed the host's addresses (lvsprov until 2026-12-07): manifests record it. */
export function probeSnippetWithoutAddresses(spec: KeepalivedSpec): string {
  return [probeSnippetWithoutPins(spec), pinsSnippet('P')].join('\n');
}

/** The probe before it read the pins: manifests an older lvsprov wrote record it, and its output parses (no pins). */
export function probeSnippetWithoutPins(spec: KeepalivedSpec): string {
  return [
    `if command -v keepalived >/dev/null 2>&1; then printf 'K 1\\n'; else printf 'K 0\\n'; fi`,
    readFileSnippet(spec.path),
    `if ${keepalivedAlive}; then printf 'R 1\\n'; else printf 'R 0\\n'; fi`,
    `if [ -d /run/systemd/system ]; then printf 'M systemd\\nE %s\\n' "$(systemctl is-enabled keepalived 2>/dev/null)"`,
    `elif [ -f /etc/init.d/keepalived ]; then printf 'M sysv\\n'; ${startLinkProbe(RUNLEVEL_LINK_DIRS, 'keepalived')}; ${enablerProbe}`,
    `else printf 'M none\\n'; fi`,
    LIVE_TABLE_SNIPPET,
    CHECK_FUNCTIONS,
    ...checkSnippets(spec),
  ].join('\n');
}

export function parseProbe(output: ProbeOutput): KeepalivedFacts {
  const fields = new Map<string, string>();
  const rules: string[] = [];
  const down: string[] = [];
  const answering: string[] = [];
  const pins: string[] = [];
  let fileLine: string | undefined;
  let addressLines: string[] | undefined;
  let listing = false;
  for (const line of output.stdout.split('\n')) {
    if (line === 'A+') {
      listing = true;
      addressLines = [];
    } else if (line === 'A-') listing = false;
    else if (listing) addressLines?.push(line);
    else if (line.startsWith('S ')) rules.push(line.slice(2));
    else if (line.startsWith('P ')) {
      const pinned = parsePinnedRoute(line.slice(2));
      if (pinned !== undefined) pins.push(pinned);
    }
    else if (line.startsWith('H down ')) down.push(line.slice(7));
    else if (line.startsWith('H up ')) answering.push(line.slice(5));
    else if (line.startsWith('F')) fileLine = line;
    else if (/^[A-Z] /.test(line)) fields.set(line.charAt(0), line.slice(2).trim());
  }
  const status = fields.get('I');
  if (status === undefined) throw new Error('the keepalived probe printed no IPVS status line');
  const ipvs = parseStatus(status);
  const manager = fields.get('M');
  const enabledAnswer = fields.get('E') ?? '';
  const tool = fields.get('T');
  return {
    installed: fields.get('K') === '1',
    file: parseFileLine(fileLine),
    running: fields.get('R') === '1',
    manager: manager === 'systemd' || manager === 'sysv' ? manager : 'none',
    enabled: manager === 'systemd' ? (enabledAnswer === '' ? null : enabledAnswer === 'enabled') : manager === 'sysv' ? enabledAnswer === 'enabled' : null,
    enabler: tool === 'update-rc.d' || tool === 'chkconfig' ? tool : null,
    ipvs,
    table: ipvs.state === 'ok' ? parseRules(rules.join('\n')) : [],
    down: down.map((key) => key.replace('|', ' ')),
    answering: answering.map((key) => key.replace('|', ' ')),
    pins,
    ...(addressLines !== undefined ? { addresses: parseAddressLines(addressLines) } : {}),
  };
}
