import type { ConfigProblem } from '../errors.js';

// A role applied to 500 hosts compiles its tasks 500 times, and a mistake in one of them (two tasks
// of one service, a relative path, a template's bad expression) would be said 500 times over, at
// the same line. An operator wants it once, at that line, with how many hosts it concerns and a
// few of them: problems found per host carry the host and say where in the message it goes, and
// are folded into one per place and wording.

/** How many hosts of a folded problem are named; the rest are counted. */
const NAMED = 3;

interface HostProblem extends ConfigProblem {
  readonly host: string;
  /** The message, given how the hosts are to be said (`host web1`, `500 hosts: web1, ...`). */
  readonly say: (hosts: string) => string;
}

/** `problem`, found for `host`, its message made by `say` from how the host (or hosts) are said. */
export function hostProblem(where: Omit<ConfigProblem, 'message'>, host: string, say: (hosts: string) => string): ConfigProblem {
  const problem: HostProblem = { file: where.file, line: where.line, col: where.col, path: where.path, message: say(`host ${host}`), host, say };
  return problem;
}

function isHostProblem(problem: ConfigProblem): problem is HostProblem {
  return typeof (problem as Partial<HostProblem>).say === 'function';
}

/** `host web1`, `hosts web1 and web2`, `500 hosts: web1, web2, web3 and 497 more`. */
export function sayHosts(hosts: readonly string[]): string {
  if (hosts.length === 1) return `host ${hosts[0]}`;
  if (hosts.length <= NAMED) return `hosts ${hosts.slice(0, -1).join(', ')} and ${hosts[hosts.length - 1]}`;
  return `${hosts.length} hosts: ${hosts.slice(0, NAMED).join(', ')} and ${hosts.length - NAMED} more`;
}

/** `problems` with each problem found on several hosts at one place, in one wording, said once where it first was. */
export function foldHosts(problems: readonly ConfigProblem[]): ConfigProblem[] {
  const groups = new Map<string, { readonly first: HostProblem; readonly hosts: Set<string> }>();
  const folded: Array<ConfigProblem | { readonly group: string }> = [];
  for (const problem of problems) {
    if (!isHostProblem(problem)) {
      folded.push(problem);
      continue;
    }
    const key = `${problem.file}:${problem.line}:${problem.col}:${problem.path}:${problem.say('\0')}`;
    const group = groups.get(key);
    if (group === undefined) {
      groups.set(key, { first: problem, hosts: new Set([problem.host]) });
      folded.push({ group: key });
    } else group.hosts.add(problem.host);
  }
  return folded.map((entry) => {
    if (!('group' in entry)) return entry;
    const { first, hosts } = groups.get(entry.group) as { readonly first: HostProblem; readonly hosts: Set<string> };
    return { file: first.file, line: first.line, col: first.col, path: first.path, message: first.say(sayHosts([...hosts])) };
  });
}
