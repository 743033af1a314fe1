// "Did you mean ...?" for names a user misspelt: keys, task types, roles, groups, hosts, commands.
// Distance is the optimal-string-alignment form of Damerau-Levenshtein, so a swapped pair of
// letters (`adress` -> `address`, `wieght` -> `weight`) costs one edit like a missing letter does.

/** Edits (insert, delete, substitute, swap two neighbours) turning `a` into `b`, compared case-insensitively. */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  // Three rolling rows: the swap needs the row before the previous one.
  let before: number[] = [];
  let previous = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= t.length; j += 1) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      let best = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) best = Math.min(best, before[j - 2]! + 1);
      current.push(best);
    }
    before = previous;
    previous = current;
  }
  return previous[t.length]!;
}

/**
 * The most edits a suggestion may be away: about a third of the name, at least one, so `prot` finds
 * `port` but `vip` does not find `ssh`.
 */
export function suggestionThreshold(name: string): number {
  return Math.max(1, Math.floor(name.length / 3));
}

/** Candidates close enough to `name` to be what was meant, nearest first (ties in the given order). */
export function nearestNames(name: string, candidates: Iterable<string>, limit = 3): string[] {
  const threshold = suggestionThreshold(name);
  return [...new Set(candidates)]
    .filter((candidate) => candidate !== name)
    .map((candidate, index) => ({ candidate, index, distance: editDistance(name, candidate) }))
    .filter((entry) => entry.distance <= threshold)
    .sort((x, y) => x.distance - y.distance || x.index - y.index)
    .slice(0, limit)
    .map((entry) => entry.candidate);
}

const MAX_LISTED = 20;

/** `a, b, c` (or the first 20 and a count of the rest), for "(known: ...)". */
export function listNames(names: Iterable<string>): string {
  const all = [...new Set(names)];
  if (all.length === 0) return 'none';
  const shown = all.slice(0, MAX_LISTED).join(', ');
  return all.length > MAX_LISTED ? `${shown} and ${all.length - MAX_LISTED} more` : shown;
}

/**
 * The tail of an "unknown X" message, its separator included: "; did you mean `address`? (known:
 * address, ssh, groups, vars)" (`separator` before the question), or " (known: ...)" when nothing
 * is close, so that the list never follows a bare "; " or ": ".
 */
export function suggestion(name: string, candidates: Iterable<string>, separator = '; '): string {
  const all = [...candidates];
  const [nearest] = nearestNames(name, all, 1);
  const known = `(known: ${listNames(all)})`;
  return nearest === undefined ? ` ${known}` : `${separator}did you mean \`${nearest}\`? ${known}`;
}
