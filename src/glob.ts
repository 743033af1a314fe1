// Shell-style globs as ssh_config, known_hosts and --limit use them: `*` any run of characters,
// `?` exactly one, everything else itself.

/**
 * Whether `name` matches `glob`. Not by a RegExp: `*a*a*a*...*b` as `.*a.*a.*...b` backtracks
 * through every way to split a name among the stars, and a few dozen characters of name hang
 * the run. Here a star that fails is moved on by one character from the last star alone, so the
 * match takes at most glob length x name length steps.
 */
export function globMatches(glob: string, name: string, ignoreCase = false): boolean {
  if (ignoreCase) return globMatches(glob.toLowerCase(), name.toLowerCase());
  let g = 0;
  let n = 0;
  let star = -1;
  let resume = 0;
  while (n < name.length) {
    if (g < glob.length && (glob[g] === '?' || (glob[g] !== '*' && glob[g] === name[n]))) {
      g += 1;
      n += 1;
    } else if (g < glob.length && glob[g] === '*') {
      star = g;
      resume = n;
      g += 1;
    } else if (star >= 0) {
      g = star + 1;
      resume += 1;
      n = resume;
    } else return false;
  }
  while (g < glob.length && glob[g] === '*') g += 1;
  return g === glob.length;
}
