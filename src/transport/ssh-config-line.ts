// One line of an ssh_config file split the way OpenSSH 9.2 splits it (readconf.c
// process_config_line_depth), so that lvsprov reads the same keyword and the same values as ssh:
// - the keyword by strdelim: ended by a blank or one `=`, a `"` quoting part of it; a line whose
//   keyword is empty or starts with `#` is passed over (a line of only `=` is blank);
// - the values by argv_split: blanks are spaces and tabs only, `'...'` and `"..."` quote (also
//   inside a word: `/k/a"b c"d` is `/k/ab cd`), a backslash escapes a quote, a backslash or (outside
//   quotes) a space, and `#` starts a comment only at the start of a word; a quote left open is
//   "invalid quotes". `=` inside the values is a character like any other;
// - the text after the keyword as it stands (`raw`), which ssh reads itself for Match (strdelim
//   again) and for ProxyJump and the commands.
// Columns are 1-based in the line as written, for messages at file:line:col.

export interface Word {
  readonly text: string;
  readonly col: number;
}

export type SshConfigLine =
  | { readonly kind: 'blank' }
  | { readonly kind: 'directive'; readonly keyword: string; readonly keywordCol: number; readonly raw: Word; readonly words: readonly Word[] }
  | { readonly kind: 'problem'; readonly col: number; readonly message: string };

/** A keyword as a message shows it: quoted when it holds anything but letters and digits (a BOM, a no-break space). */
export const shownKeyword = (keyword: string): string =>
  /^[A-Za-z0-9]+$/.test(keyword) ? keyword : JSON.stringify(keyword).replace(/[^\x20-\x7e]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** strdelim's separators; argv_split's are only space and tab. */
const WHITESPACE = ' \t\r\n';

const skip = (line: string, at: number, chars: string): number => {
  let i = at;
  while (i < line.length && chars.includes(line[i] as string)) i++;
  return i;
};

/**
 * misc.c strdelim: the next token from `at`, and where the one after it starts (undefined: none).
 * `token` undefined: an opening `"` without its closing one.
 */
export function strdelim(line: string, at: number): { readonly token: Word | undefined; readonly next: number | undefined } {
  let stop = at;
  while (stop < line.length && !`${WHITESPACE}"=`.includes(line[stop] as string)) stop++;
  if (stop === line.length) return { token: { text: line.slice(at), col: at + 1 }, next: undefined };
  if (line[stop] === '"') {
    const close = line.indexOf('"', stop + 1);
    if (close === -1) return { token: undefined, next: undefined };
    return { token: { text: line.slice(at, stop) + line.slice(stop + 1, close), col: at + 1 }, next: skip(line, close + 1, WHITESPACE) };
  }
  // One `=` is skipped, with the blanks around it.
  let next = skip(line, stop + 1, WHITESPACE);
  if (line[stop] !== '=' && line[next] === '=') next = skip(line, next + 1, WHITESPACE);
  return { token: { text: line.slice(at, stop), col: at + 1 }, next };
}

/** misc.c argv_split with terminate_on_comment, from `at`; a number: the column of a quote left open. */
export function argvSplit(line: string, at: number): Word[] | number {
  const words: Word[] = [];
  let i = at;
  while (i < line.length) {
    const char = line[i] as string;
    if (char === ' ' || char === '\t') {
      i++;
      continue;
    }
    if (char === '#') break;
    const start = i;
    let quote = '';
    let quoteAt = 0;
    let text = '';
    for (; i < line.length; i++) {
      const c = line[i] as string;
      const after = line[i + 1];
      if (c === '\\') {
        if (after === "'" || after === '"' || after === '\\' || (quote === '' && after === ' ')) i++;
        text += line[i];
      } else if (quote === '' && (c === ' ' || c === '\t')) break;
      else if (quote === '' && (c === '"' || c === "'")) {
        quote = c;
        quoteAt = i;
      } else if (quote !== '' && c === quote) quote = '';
      else text += c;
    }
    if (quote !== '') return quoteAt + 1;
    words.push({ text, col: start + 1 });
  }
  return words;
}

/** A line (without its `\n`) as ssh reads it. */
export function readSshConfigLine(written: string): SshConfigLine {
  // ssh's line is a C string: it ends at a NUL byte. Trailing blanks (and form feeds) are dropped.
  const nul = written.indexOf('\0');
  const line = (nul === -1 ? written : written.slice(0, nul)).replace(/[ \t\r\n\f]+$/, '');
  if (line === '') return { kind: 'blank' };
  let keyword = strdelim(line, 0);
  // Leading blanks (or a leading `=`) give an empty first token: the keyword is the next one.
  if (keyword.token?.text === '') keyword = keyword.next === undefined ? { token: undefined, next: undefined } : strdelim(line, keyword.next);
  const name = keyword.token;
  if (name === undefined || name.text === '' || name.text.startsWith('#')) return { kind: 'blank' };
  const at = keyword.next === undefined ? line.length : skip(line, keyword.next, WHITESPACE);
  if (at >= line.length) return { kind: 'problem', col: name.col, message: `${shownKeyword(name.text)} has no value after it (ssh refuses the file too: "no argument after keyword")` };
  const words = argvSplit(line, at);
  if (typeof words === 'number') return { kind: 'problem', col: words, message: `this quote is not closed (ssh refuses the file too: "invalid quotes")` };
  return { kind: 'directive', keyword: name.text, keywordCol: name.col, raw: { text: line.slice(at), col: at + 1 }, words };
}

/** A Match line's criteria as match_cfg_line reads them from `raw`: strdelim's tokens up to a `#` word. */
export function matchWords(raw: Word): Word[] {
  const words: Word[] = [];
  let at: number | undefined = 0;
  while (at !== undefined) {
    const { token, next } = strdelim(raw.text, at);
    if (token === undefined || token.text === '' || token.text.startsWith('#')) break;
    words.push({ text: token.text, col: raw.col + token.col - 1 });
    at = next;
  }
  return words;
}
