// A static reading of generated shell: which variables a piece of shell reads before any
// assignment to them earlier in its text. Single-quoted strings are literal and skipped. It is a
// check on lvsprov's own generated shell (a handful of forms), not a shell parser.

const ALWAYS_SET = new Set(['PATH', 'HOME', 'lvsprov_prefetched']);

export function readsBeforeSet(shell: string): string[] {
  const text = shell.replace(/'[^']*'/g, "''");
  const unset: string[] = [];
  for (const match of text.matchAll(/\$\{?#?([A-Za-z_][A-Za-z0-9_]*)/g)) {
    const name = match[1] as string;
    if (ALWAYS_SET.has(name)) continue;
    const before = text.slice(0, match.index);
    const set = new RegExp(`(^|[\\s;({|&])${name}=|\\bfor\\s+${name}\\b|\\bread\\b[^\\n;]*\\b${name}\\b|\\b${name}\\(\\)`).test(before);
    if (!set) unset.push(name);
  }
  return unset;
}

/** The variables a piece of shell assigns. */
export const assignedNames = (shell: string): string[] => [...new Set([...shell.replace(/'[^']*'/g, "''").matchAll(/\b([a-z_][a-z0-9_]*)=/g)].map((match) => match[1] as string))];
