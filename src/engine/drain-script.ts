import { command, quote } from '../shell/quote.js';
import type { RealServerRef } from '../resources/types.js';
import { scriptEnvironment } from '../shell/script-environment.js';

// The drain of a director's leaving real servers: one exec that polls the director's own IPVS
// table once a second, over the connection the apply already holds, until no leaving server has
// an active connection or the time is up. ActiveConn counts established TCP connections (those a
// deletion would cut); persistence templates and closing connections are not in it, and UDP has
// none, so a UDP server drains at once.

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
