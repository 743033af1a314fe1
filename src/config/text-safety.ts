import type { z } from 'zod';

// Characters that end or break a line somewhere: C0 controls (NUL, TAB, LF, CR, ESC, ...), DEL,
// the C1 controls (NEL, U+0085, ends a line for some parsers) and Unicode's line and paragraph
// separators. systemd, for one, ends a unit file line at CR as well as LF, so a CR in a value
// written into a unit starts a new directive. No value that goes into a generated file may hold
// one of these.
const LINE_BREAKING = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/u;

/** The first control or line-separator character in `text`, or undefined. */
export function controlCharacterIn(text: string): string | undefined {
  return LINE_BREAKING.exec(text)?.[0];
}

/** `U+000D (carriage return)` for a message. */
export function describeCharacter(character: string): string {
  const code = character.codePointAt(0) ?? 0;
  const name = NAMES[code];
  return `U+${code.toString(16).toUpperCase().padStart(4, '0')}${name ? ` (${name})` : ''}`;
}

const NAMES: Record<number, string> = {
  0x00: 'NUL',
  0x09: 'tab',
  0x0a: 'line feed',
  0x0d: 'carriage return',
  0x1b: 'escape',
  0x7f: 'delete',
  0x85: 'next line',
  0x2028: 'line separator',
  0x2029: 'paragraph separator',
};

/** A zod refinement: one line of text, no control character. */
export function refuseControlCharacters(value: string, ctx: z.RefinementCtx): void {
  const found = controlCharacterIn(value);
  if (found !== undefined) ctx.addIssue({ code: 'custom', message: `must not contain the control character ${describeCharacter(found)}` });
}
