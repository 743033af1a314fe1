import { color } from 'listr2';
import type { RecapStyle } from '../report/recap.js';

// Colour only where a person reads a terminal: listr2's colorette turns itself off when stdout is
// not a terminal, when NO_COLOR is set (any value) or TERM is dumb, and on with FORCE_COLOR.

const painters: Record<string, (text: string) => string> = {
  ok: color.green,
  changed: color.yellow,
  failed: color.red,
  unreachable: color.red,
  interrupted: color.magenta,
};

export const terminalRecapStyle: RecapStyle = {
  paint: (status, text) => (painters[status] ?? ((value: string) => value))(text),
};
