import Handlebars from 'handlebars';
import { controlCharacterIn, describeCharacter } from './text-safety.js';

// What a template renders decides how a value may be written into it. Every value a template
// prints goes through its format's writer, which returns the value escaped for that format or
// refuses it (RefusedValue) when the format cannot carry it safely: a value is never mangled
// into something else, and never ends a quoted string, a line or a directive of the file.

export const OUTPUT_FORMATS = ['shell-env', 'systemd-unit', 'sysctl', 'ip-batch', 'ipvsadm-rules', 'memcached-conf', 'ifupdown', 'words', 'php-ini', 'php', 'html', 'text'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export class RefusedValue extends Error {
  override name = 'RefusedValue';
}

/** Words of a line-oriented command file: no blank, quote, comment sign, backslash or control character. */
const WORD = /^[A-Za-z0-9_.,:/@+=-]+$/;
/** A unit's word may also hold `%`, which the writer doubles so that it is not a specifier. */
const UNIT_WORD = /^[A-Za-z0-9_.,:/@+=%-]+$/;

function refuseControl(text: string, format: OutputFormat): void {
  const found = controlCharacterIn(text);
  if (found !== undefined) throw new RefusedValue(`contains the control character ${describeCharacter(found)}, which a file of format ${format} cannot carry`);
}

function word(text: string, format: OutputFormat, what: string, pattern = WORD): string {
  refuseControl(text, format);
  if (!pattern.test(text)) {
    throw new RefusedValue(`must be one word of letters, digits and _ . , : / @ + = - in ${what}${text === '' ? ' (it is empty)' : ''}`);
  }
  return text;
}

const writers: Record<OutputFormat, (text: string) => string> = {
  // A file `sh` sources (/etc/default/*): the template puts each value alone in double quotes
  // (KEY="{{value}}", checked when the role loads), so escaping the four characters that are
  // special inside double quotes keeps the value literal. Line breaks are refused.
  'shell-env': (text) => {
    refuseControl(text, 'shell-env');
    return text.replace(/[\\"$`]/g, (character) => `\\${character}`);
  },
  // Unit files: a value is one word (a blank would split an Exec line into more arguments, a
  // quote or backslash would be parsed), and `%` starts a specifier, written `%%` for itself.
  'systemd-unit': (text) => word(text, 'systemd-unit', 'a systemd unit (and %)', UNIT_WORD).replace(/%/g, '%%'),
  // sysctl.d: `key = value` lines; `#` and `;` start comments, `=` splits key from value.
  sysctl: (text) => {
    refuseControl(text, 'sysctl');
    if (!/^[A-Za-z0-9_.:/@+ -]*$/.test(text)) throw new RefusedValue('may hold only letters, digits, blanks and _ . : / @ + - in a sysctl.d file');
    return text;
  },
  // `ip -batch` and ipvsadm-restore read a line as words: a blank, quote or `#` would change them.
  'ip-batch': (text) => word(text, 'ip-batch', 'an ip -batch file'),
  'ipvsadm-rules': (text) => word(text, 'ipvsadm-rules', 'an ipvsadm rules file'),
  // Debian's memcached.conf: each line's options are joined into one command that a shell runs
  // (start-memcached, the systemd wrapper), so a value is one word without shell syntax.
  'memcached-conf': (text) => word(text, 'memcached-conf', 'a memcached.conf file'),
  // ifupdown's interfaces files: an option's value is words, and the up, down, pre-up and post-down
  // lines are handed to sh, so a value is one word without shell syntax (`;`, `$(...)`, a quote).
  ifupdown: (text) => word(text, 'ifupdown', 'an ifupdown interfaces file'),
  // A file of another program some of whose lines reach a shell, quoted by that program's own
  // rules or not at all (modprobe.d's install lines, logrotate's scripts, apt's hooks, udev's RUN,
  // csh's startup files, sudoers' commands): a value is one word of no syntax anywhere.
  words: (text) => word(text, 'words', 'a file whose lines a program may hand to a shell'),
  // PHP's ini files: quotes, `$` and `{` (variable expansion), `;` (a comment) and the operators
  // ~ ! ^ | & ( ) change what PHP reads, and none is in a word.
  'php-ini': (text) => word(text, 'php-ini', 'a PHP ini file'),
  // PHP source: a value stands in a single-quoted string, which only a quote or a backslash ends
  // or changes, and a word holds neither.
  php: (text) => word(text, 'php', 'a PHP page'),
  // HTML: the library's escaping (& < > " ' ` =), so a value is text, never markup.
  html: (text) => {
    refuseControl(text, 'html');
    return Handlebars.Utils.escapeExpression(text);
  },
  // Plain text nobody parses still stays one line per value.
  text: (text) => {
    refuseControl(text, 'text');
    return text;
  },
};

/** The value as it may appear in a file of `format`, or a RefusedValue saying why it cannot. */
export function writeValue(value: unknown, format: OutputFormat): string {
  if (typeof value === 'string') return writers[format](value);
  if (typeof value === 'number' || typeof value === 'boolean') return writers[format](String(value));
  throw new RefusedValue(`is ${Array.isArray(value) ? 'a list' : value === null ? 'null' : typeof value === 'object' ? 'an object' : `a ${typeof value}`}; a template prints only strings, numbers and booleans (loop over a list with {{#each}})`);
}
