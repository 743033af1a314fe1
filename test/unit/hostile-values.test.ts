import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { prepareRun } from '../../src/cli/load-run.js';
import { formatImplied } from '../../src/config/file-content-format.js';
import { ConfigError } from '../../src/errors.js';
import {
  emptyHostOutput,
  HOSTILE,
  INJECTED,
  leavesOf,
  MARKER,
  offsetOf,
  pathsAgree,
  shapeOf,
  shellContexts,
  syntaxProblems,
  variantOf,
  type Leaf,
} from '../support/hostile-values.js';

// The hostile-value sweep: every scalar leaf of a few lab inventories (DR with lvs.sessions, TUN,
// NAT with an lvs.ha director pair, the production template), and every map key (the names an
// operator chooses renamed wherever they are used), written as each of HOSTILE's values. Each
// variant must be either refused, at the replaced node (or a key on the path to it) with a
// message whose path names the field, or accepted with the value inert wherever it lands: in
// every probe script and change command an empty host would get, the marker only inside single
// quotes (or a quoted here-document, or a comment) and every script still parses (dash -n); in
// every file written, no line the value started (a line break's `INJ=`), and in a file sh sources
// or runs, the marker quoted as in a command. Leaves of one shape (rs1's address and rs2's) are
// swept once.

const root = join(import.meta.dirname, '../..');
const INVENTORIES = ['lab-dr', 'lab-tun', 'lab-ha-nat', 'prod'] as const;
const scratch = mkdtempSync(join(tmpdir(), 'lvsprov-hostile-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const LINE_BREAKS = /\r\n|[\n\r\u2028\u2029\u0085\v\f]/;
const SAFE_IN_SHELL = new Set(['single', 'quoted-heredoc', 'comment']);

interface Outcome {
  readonly refused: number;
  readonly accepted: number;
  readonly findings: string[];
}

function sweep(name: string): Outcome {
  const file = join(root, 'inventories', `${name}.yaml`);
  const text = readFileSync(file, 'utf8');
  const leaves = leavesOf(text);
  const seen = new Set<string>();
  const chosen = leaves.filter((leaf) => {
    if (leaf.isKey && !leaf.freeName) return false;
    const shape = shapeOf(leaf);
    if (seen.has(shape)) return false;
    seen.add(shape);
    return true;
  });
  const path = join(scratch, `${name}.yaml`);
  const baseline = outputOf(path, text);
  const findings: string[] = [];
  let refused = 0;
  let accepted = 0;
  for (const leaf of chosen) {
    for (const hostile of HOSTILE) {
      if (leaf.isKey && !hostile.key) continue;
      // The inventory's name cannot be both the anchor and the alias.
      if (hostile.alias && leaf.path.join('.') === 'name') continue;
      const variant = variantOf(text, leaves, leaf, hostile);
      const where = `${name} ${leaf.isKey ? 'key ' : ''}${leaf.path.join('.')} = ${hostile.label}`;
      let output: ReturnType<typeof emptyHostOutput>;
      try {
        output = outputOf(path, variant.text);
      } catch (error) {
        if (!(error instanceof ConfigError)) {
          findings.push(`${where}: not a ConfigError: ${(error as Error).stack?.split('\n').slice(0, 3).join(' | ')}`);
          continue;
        }
        refused += 1;
        const problem = locatedProblem(error, variant.text, variant.replaced, leaf);
        if (problem) findings.push(`${where}: ${problem}`);
        continue;
      }
      accepted += 1;
      findings.push(...unsafe(output, baseline.unplanned).map((problem) => `${where}: accepted, ${problem}`));
    }
  }
  return { refused, accepted, findings };
}

function outputOf(path: string, text: string): ReturnType<typeof emptyHostOutput> {
  writeFileSync(path, text);
  return emptyHostOutput(prepareRun({ inventory: path, sshConfig: 'none' }).run);
}

/** Why the error is not located at the replaced node, or undefined when it is. */
function locatedProblem(error: ConfigError, text: string, replaced: ReadonlyArray<readonly [number, number]>, leaf: Leaf): string | undefined {
  const renamed = leaf.isKey && leaf.freeName;
  for (const problem of error.problems) {
    const offset = offsetOf(text, problem.line, problem.col);
    const inside = replaced.some(([start, end]) => offset >= start && offset <= end);
    const onPath = !renamed && leaf.ancestors.includes(offset);
    // A value that conflicts with another (a port twice) may be said at the other, naming this one.
    const names = [leaf.path.slice(-2).join('.'), ...leaf.path.map((_, index) => leaf.path.slice(0, index + 1).join('.')).slice(2)];
    const named = !renamed && !inside && names.some((name) => problem.message.includes(name));
    if (!inside && !onPath && !named) return `refused away from the node: ${problem.line}:${problem.col} ${problem.path}: ${problem.message.slice(0, 160)}`;
    if (!renamed && !named && !pathsAgree(problem.path, leaf.path)) return `refused at the node, but the path says ${problem.path || '(none)'}: ${problem.message.slice(0, 160)}`;
  }
  return undefined;
}

/** How the value accepted is not inert in the output, one line each. */
function unsafe(output: ReturnType<typeof emptyHostOutput>, baselineUnplanned: readonly string[]): string[] {
  const problems: string[] = [];
  const newlyUnplanned = output.unplanned.filter((task) => !baselineUnplanned.includes(task));
  if (newlyUnplanned.length > 0) problems.push(`no empty-host plan for ${newlyUnplanned.join(', ')}`);
  for (const script of output.shell) {
    const { contexts, unterminated } = shellContexts(script, MARKER);
    if (unterminated) problems.push(`a shell script ends inside a quote: ${script.slice(0, 200)}`);
    const loose = contexts.filter((context) => !SAFE_IN_SHELL.has(context));
    if (loose.length > 0) problems.push(`the marker reaches sh ${loose.join(', ')}: ${excerpt(script)}`);
  }
  const withMarker = output.shell.filter((script) => script.includes(MARKER) || /[^\x20-\x7e\n\t]/.test(script));
  if (withMarker.length > 0) problems.push(...syntaxProblems(withMarker).map((problem) => `dash -n: ${problem}`));
  for (const { path, content } of output.files) {
    const started = content.split(LINE_BREAKS).find((line) => line.trimStart().startsWith(INJECTED));
    if (started !== undefined) problems.push(`${path} has a line the value started: ${started.slice(0, 120)}`);
    if (formatImplied(path).format === 'shell-env' && content.includes(MARKER)) {
      const { contexts } = shellContexts(content, MARKER);
      const loose = contexts.filter((context) => !SAFE_IN_SHELL.has(context));
      if (loose.length > 0) problems.push(`${path} (sh reads it) has the marker ${loose.join(', ')}: ${excerpt(content)}`);
    }
  }
  return problems;
}

function excerpt(text: string): string {
  const at = text.indexOf(MARKER);
  return JSON.stringify(text.slice(Math.max(0, at - 80), at + 60));
}

describe('hostile values in the lab inventories', () => {
  for (const name of INVENTORIES) {
    it(`${name}: each is refused at its node or inert wherever it lands`, () => {
      const { refused, accepted, findings } = sweep(name);
      console.log(`${name}: ${refused} refused, ${accepted} accepted, ${findings.length} findings`);
      if (process.env.HOSTILE_DUMP) writeFileSync(`${process.env.HOSTILE_DUMP}-${name}.txt`, findings.join("\n"));
      expect(findings).toEqual([]);
    });
  }
});


// The inventory's values reach a playbook's own tasks through `{{opt}}`: each sink alone in a
// playbook, so that one refusing does not hide another. A refusal is located at the inventory's
// value or at the task that prints it.
const SINKS: Readonly<Record<string, string>> = {
  'a file sh sources': 'file: { path: /etc/default/site, content: "OPT={{opt}}\\n" }',
  'a systemd unit': 'file: { path: /etc/systemd/system/site.service, content: "[Service]\\nEnvironment=OPT={{opt}}\\nExecStart=/bin/true\\n" }',
  'a crontab line': 'file: { path: /etc/cron.d/site, content: "0 3 * * * root /opt/site/run --opt {{opt}}\\n" }',
  'a text file': 'file: { path: /etc/motd, content: "{{opt}}\\n" }',
  'a file path': 'file: { path: "/etc/lvsprov/{{opt}}.conf", content: "x\\n" }',
  'a sysctl value': 'sysctl: { file: /etc/sysctl.d/90-site.conf, values: { net.core.somaxconn: "{{opt}}" } }',
  "a service's argument": 'service: { name: site, exec: [/bin/busybox, httpd, "-h", "{{opt}}"] }',
  'a package name': 'package: { name: "{{opt}}" }',
  'a module name': 'kmod: { name: "{{opt}}" }',
};

function sinkSweep(): { refused: number; accepted: number; findings: string[] } {
  const inventory = join(scratch, 'sink-inventory.yaml');
  const playbook = join(scratch, 'sink-playbook.yaml');
  const text = 'name: sinks\nssh: { user: root }\nhosts:\n  h1:\n    address: 192.0.2.10\n    vars:\n      opt: value\n';
  const leaves = leavesOf(text);
  const leaf = leaves.find((item) => !item.isKey && item.path.join('.') === 'hosts.h1.vars.opt')!;
  const findings: string[] = [];
  let refused = 0;
  let accepted = 0;
  for (const [sink, task] of Object.entries(SINKS)) {
    const playbookText = `- hosts: h1\n  tasks:\n    - name: the sink\n      ${task}\n`;
    writeFileSync(playbook, playbookText);
    for (const hostile of HOSTILE) {
      if (hostile.alias) continue;
      const variant = variantOf(text, leaves, leaf, hostile);
      writeFileSync(inventory, variant.text);
      const where = `${sink} = ${hostile.label}`;
      let output: ReturnType<typeof emptyHostOutput>;
      try {
        output = emptyHostOutput(prepareRun({ inventory, playbook, sshConfig: 'none' }).run);
      } catch (error) {
        if (!(error instanceof ConfigError)) {
          findings.push(`${where}: not a ConfigError: ${(error as Error).stack?.split('\n').slice(0, 3).join(' | ')}`);
          continue;
        }
        refused += 1;
        for (const problem of error.problems) {
          const atTask = problem.file === playbook && problem.line >= 3;
          const atValue = problem.file === inventory && problem.line === 7;
          if (!atTask && !atValue) findings.push(`${where}: refused elsewhere: ${problem.file}:${problem.line}:${problem.col} ${problem.message.slice(0, 160)}`);
        }
        continue;
      }
      accepted += 1;
      findings.push(...unsafe(output, []).map((problem) => `${where}: accepted, ${problem}`));
    }
  }
  return { refused, accepted, findings };
}

describe("hostile values printed by a playbook's own tasks", () => {
  it('each is refused at the value or the task, or inert in the file, command or unit it lands in', () => {
    const { refused, accepted, findings } = sinkSweep();
    console.log(`sinks: ${refused} refused, ${accepted} accepted, ${findings.length} findings`);
    if (process.env.HOSTILE_DUMP) writeFileSync(`${process.env.HOSTILE_DUMP}-sinks.txt`, findings.join('\n'));
    expect(findings).toEqual([]);
  });
});

describe('the checks of the sweep', () => {
  it('find the marker outside single quotes, and a line a value started', () => {
    expect(shellContexts(`echo '$(${MARKER})' "x$(echo '${MARKER}')" $(${MARKER}) "$(${MARKER})" # ${MARKER}`, MARKER).contexts).toEqual(['single', 'single', 'plain', 'plain', 'comment']);
    expect(shellContexts(`cat <<'EOF'\n$(${MARKER})\nEOF\ncat <<EOF\n$(${MARKER})\nEOF\n`, MARKER).contexts).toEqual(['quoted-heredoc', 'heredoc']);
    expect(shellContexts(`echo 'a`, MARKER).unterminated).toBe(true);
    const output = { shell: [`printf %s '${MARKER}'`], files: [{ path: '/etc/systemd/system/a.service', content: `[Service]\nEnvironment=A=a\n${INJECTED}${MARKER}\n` }], unplanned: [] };
    expect(unsafe(output, [])).toEqual([expect.stringContaining('has a line the value started')]);
    expect(unsafe({ ...output, files: [{ path: '/etc/default/a', content: `A="$(${MARKER})"\n` }] }, [])).toEqual([expect.stringContaining('(sh reads it) has the marker plain')]);
  });
});
