// A Match line's criteria checked as OpenSSH 9.2's readconf.c (match_cfg_line) checks them, so a
// line ssh refuses ("Bad Match condition") is refused here too rather than read another way.

/** Criteria that take no argument. */
const bare = new Set(['all', 'canonical', 'final']);
/** Criteria followed by their argument. */
const withArgument = new Set(['host', 'originalhost', 'user', 'localuser', 'exec']);

/** Why ssh would refuse these criteria, or undefined when it reads them. */
export function matchCriteriaProblem(criteria: readonly string[]): string | undefined {
  if (criteria.length === 0) return 'Bad Match condition: Match needs one or more criteria (ssh refuses it too)';
  let before = 0;
  for (let i = 0; i < criteria.length; i++) {
    // A leading `!` negates any criterion, `all` included.
    const name = (criteria[i] ?? '').replace(/^!/, '').toLowerCase();
    // ssh takes `all` last, after at most one other criterion (`Match final all`, not `Match all final`).
    if (name === 'all') return i === criteria.length - 1 && before <= 1 ? undefined : "Bad Match condition: 'all' cannot be combined with other Match attributes (ssh refuses it too)";
    before++;
    if (bare.has(name)) continue;
    if (!withArgument.has(name)) return `Bad Match condition: unsupported attribute ${criteria[i]} (ssh refuses it too)`;
    if (criteria[++i] === undefined) return `Bad Match condition: ${criteria[i - 1]} needs an argument (ssh refuses it too)`;
  }
  return undefined;
}
