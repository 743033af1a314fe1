import { isatty } from 'node:tty';
import type { RecapStyle } from '../report/recap.js';

// Colour only where a person reads a terminal: stdout a terminal whose TERM is set and not dumb.
// NO_COLOR with a value turns it off (no-color.org: present and not empty; `NO_COLOR=` left empty by
// a wrapper script does not); then FORCE_COLOR decides as Node's own getColorDepth reads it: empty,
// 1, 2, 3 or true turn it on, any other value (0, false) off. Decided here rather than by listr2's
// colorette, which also colours a redirected stdout on GitHub Actions, GitLab CI and CircleCI and
// reads FORCE_COLOR=0 as "on".

const FORCE_ON: ReadonlySet<string> = new Set(['', '1', '2', '3', 'true']);

export function colourWanted(env: NodeJS.ProcessEnv, stdoutIsTTY: boolean): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined) return FORCE_ON.has(env.FORCE_COLOR);
  return stdoutIsTTY && env.TERM !== undefined && env.TERM !== '' && env.TERM !== 'dumb';
}

const sgr =
  (code: number) =>
  (text: string): string =>
    `\u001b[${code}m${text}\u001b[39m`;

const painters: Record<string, (text: string) => string> = {
  ok: sgr(32),
  changed: sgr(33),
  failed: sgr(31),
  unreachable: sgr(31),
  interrupted: sgr(35),
};

const identity = (text: string): string => text;

// File descriptor 1 itself: listr2 stands in for process.stdout while its live list is drawn.
export const terminalRecapStyle: RecapStyle = {
  paint: colourWanted(process.env, isatty(1)) ? (status, text) => (painters[status] ?? identity)(text) : (_status, text) => text,
};
