import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadInventory } from '../../src/config/inventory.js';
import { compile } from '../../src/config/compile.js';
import { ConfigError } from '../../src/errors.js';
import { problemsOf } from '../support/config-problems.js';

// Each bad inventory states on its first line where the error must point and what it must say:
// `# expect: LINE:COL: path: message fragment`.

const bad = join(import.meta.dirname, '../fixtures/config/bad');

describe('inventory errors point at the YAML node', () => {
  for (const name of readdirSync(bad).filter((file) => file.endsWith('.yaml'))) {
    const file = join(bad, name);
    const expectation = /^# expect: (.*)$/m.exec(readFileSync(file, 'utf8'))?.[1];
    it(name, () => {
      expect(expectation).toBeDefined();
      const problems = problemsOf(() => loadInventory(file));
      const [position = '', ...rest] = (expectation ?? '').split(': ');
      expect(problems.filter((problem) => problem.startsWith(`${file}:${position}: `) && problem.includes(rest.join(': ')))).toHaveLength(1);
    });
  }
});

describe('playbook and role errors', () => {
  const dir = join(import.meta.dirname, '../fixtures/config');
  const inventory = () => loadInventory(join(dir, 'good-inventory.yaml'));

  it('a variable a role requires and nobody set is reported at the role, naming the variable and the host', () => {
    const file = join(dir, 'playbooks/router-without-lan.yaml');
    expect(problemsOf(() => compile(inventory(), file))).toEqual([
      `${file}:2:11: 0.roles.0: role router needs variable lan_interface on host gw; set it in the inventory (vars, group vars or host vars)`,
    ]);
  });

  it('a variable a task uses and nobody set is reported at the task', () => {
    const file = join(dir, 'playbooks/missing-variable.yaml');
    expect(problemsOf(() => compile(inventory(), file))).toEqual([
      `${file}:7:17: 0.tasks.0.route.device: variable uplink is not set; set it in the inventory (vars, group vars or host vars) (host gw)`,
    ]);
  });

  it('an unknown task type names the known ones', () => {
    const file = join(dir, 'playbooks/unknown-task.yaml');
    const problems = problemsOf(() => compile(inventory(), file));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^${file}:5:7: 0\\.tasks\\.0\\.sysctls: unknown task type sysctls: did you mean \`sysctl\`\\? \\(known: .*sysctl.*\\)`));
  });

  it('an unknown role is located at its mention in the play', () => {
    const file = join(dir, 'playbooks/unknown-role.yaml');
    expect(problemsOf(() => compile(inventory(), file))).toEqual([expect.stringMatching(new RegExp(`^${file}:3:7: 0\\.roles\\.0: role no-such-role not found`))]);
  });

  it('a value a template renders is validated like a literal one, at the inventory line that set it', () => {
    const file = join(dir, 'playbooks/bad-rendered-value.yaml');
    const set = join(dir, 'good-inventory.yaml');
    expect(problemsOf(() => compile(inventory(), file))).toEqual([
      expect.stringMatching(
        new RegExp(`^${set}:6:19: hosts\\.gw\\.vars\\.bad_device: must be a network interface name .*\\(read by 0\\.tasks\\.0\\.address\\.device at ${file}:7:17, host gw\\)$`),
      ),
    ]);
  });

  it('a field that mixes text and variables is reported at the task', () => {
    const file = join(dir, 'playbooks/bad-rendered-mixed-value.yaml');
    expect(problemsOf(() => compile(inventory(), file))).toEqual([
      expect.stringMatching(new RegExp(`^${file}:7:17: 0\\.tasks\\.0\\.address\\.device: must be a network interface name .*\\(host gw\\)$`)),
    ]);
  });

  it('the example inventories and the site playbook compile', () => {
    for (const name of ['dr-lab', 'tun-lab', 'prod']) {
      const loaded = loadInventory(join(import.meta.dirname, `../../inventories/${name}.yaml`));
      const run = compile(loaded, join(import.meta.dirname, '../../playbooks/site.yaml'));
      expect(run.hosts.size).toBeGreaterThan(0);
    }
  });
});

describe('a value of megabytes in a message', () => {
  // A 2 MB interface name or a pasted blob made one error line of megabytes, in the text and in --json.
  it('is shown by its start and length, in the text and in the problems, the rest of the message kept', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lvsprov-long-value-'));
    try {
      const file = join(dir, 'inventory.yaml');
      writeFileSync(file, `name: long\nhosts:\n  h1: { address: a${'1'.repeat(300_000)} }\n`);
      let error: unknown;
      try {
        loadInventory(file);
      } catch (thrown) {
        error = thrown;
      }
      expect(error).toBeInstanceOf(ConfigError);
      const { message, problems } = error as InstanceType<typeof ConfigError>;
      expect(message.length).toBeLessThan(1000);
      expect(message).toContain(`"a${'1'.repeat(38)}...(300003 characters) is 300001 characters long; a host name has at most 253`);
      expect(problems[0]?.message.length).toBeLessThan(1000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
