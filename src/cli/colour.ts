import { isatty } from 'node:tty';
import type { RecapStyle } from '../report/recap.js';

// Colour only where a person reads a terminal: stdout a terminal whose TERM is not dumb. NO_COLOR
// (any value) turns it off; FORCE_COLOR turns it on, except FORCE_COLOR=0 or false, which turn it
// off as in Node itself. Decided here rather than by listr2's colorette, which also colours
// a redirected stdout on GitHub Actions, GitLab CI and CircleCI and reads FORCE_COLOR=0 as "on".

export function colourWanted(env: NodeJS.ProcessEnv, stdoutIsTTY: boolean): boolean {
  if (env.NO_COLOR !== undefined) return false;
  if (env.FORCE_COLOR !== undefined) return !['0', 'false'].includes(env.FORCE_COLOR.toLowerCase());
  return stdoutIsTTY && env.TERM !== undefined && env.TERM !== 'dumb';
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
