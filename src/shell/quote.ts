// Every value that reaches a remote shell goes through here. Values are validated by their
// schema first (an IPv4 is an IPv4); quoting is the second, independent line of defence.

/** POSIX single-quote a word: safe for any byte sequence except NUL. */
export function quote(word: string | number): string {
  const text = String(word);
  if (text.includes('\0')) throw new Error('a shell word cannot contain a NUL byte');
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(text)) return text;
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** Build a command line from words, quoting each one. */
export function command(...words: Array<string | number>): string {
  return words.map(quote).join(' ');
}
