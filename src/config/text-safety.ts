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

// Characters that show as a blank or as nothing: the no-break and other Unicode spaces, the
// zero-width ones and joiners, the soft hyphen, the direction marks and overrides, the byte order
// mark. A copy from a web page or a word processor brings them; in a key, a name or an
// indentation they make text read as what it is not (`web_port` and `web\u200bport` look alike).
export const INVISIBLE = /[\u00a0\u00ad\u034f\u061c\u115f\u1160\u1680\u17b4\u17b5\u180b-\u180e\u2000-\u200f\u202a-\u202f\u205f-\u206f\u3000\u3164\ufeff\uffa0]/u;

/** For a message about a key or name: what invisible character it holds, or ''. */
export function invisibleNote(text: string): string {
  const found = INVISIBLE.exec(text)?.[0];
  return found === undefined ? '' : ` (it holds ${describeCharacter(found)}, an invisible character)`;
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
  0xa0: 'no-break space',
  0xad: 'soft hyphen',
  0x2002: 'en space',
  0x2003: 'em space',
  0x2007: 'figure space',
  0x2009: 'thin space',
  0x200b: 'zero-width space',
  0x200c: 'zero-width non-joiner',
  0x200d: 'zero-width joiner',
  0x200e: 'left-to-right mark',
  0x200f: 'right-to-left mark',
  0x202e: 'right-to-left override',
  0x202f: 'narrow no-break space',
  0x2060: 'word joiner',
  0x3000: 'ideographic space',
  0xfeff: 'zero-width no-break space',
};

/** A zod refinement: one line of text, no control character. */
export function refuseControlCharacters(value: string, ctx: z.RefinementCtx): void {
  const found = controlCharacterIn(value);
  if (found !== undefined) ctx.addIssue({ code: 'custom', message: `must not contain the control character ${describeCharacter(found)}` });
}

// The bidirectional embeddings, overrides and isolates reorder what follows them on the line a
// terminal shows: a task name holding U+202E prints backwards and drags the rest of the plan line
// with it. Right-to-left text itself needs none of them.
const BIDI_CONTROL = /[\u202a-\u202e\u2066-\u2069]/u;

/** A name printed on the operator's terminal: no control character, nothing that reorders the line. */
export function refuseTerminalTricks(value: string, ctx: z.RefinementCtx): void {
  refuseControlCharacters(value, ctx);
  const found = BIDI_CONTROL.exec(value)?.[0];
  if (found !== undefined) ctx.addIssue({ code: 'custom', message: `must not contain ${describeCharacter(found)}, a bidirectional control: it reorders how a terminal shows the rest of the line` });
}
