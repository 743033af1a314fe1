import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, constants, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { commandWords } from '../../src/cli/lab-command.js';
import { inventoryJsonSchemaText } from '../../src/config/json-schema.js';
import { cliPath } from '../support/cli.js';
import { runMain } from '../support/main-io.js';
import { TmuxPane } from '../support/tmux.js';

// The command line's habits that need no host: --version, suggestions, several inventories to
// validate, the shipped schema, which playbook and roles are used, reset's confirmation.

const root = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'lvsprov-cli-habits-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const write = (name: string, content: unknown): string => {
  const file = join(dir, name);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, typeof content === 'string' ? content : stringify(content));
  return file;
};

/** A role `mine` of one file task, in the folder `base` (under the test's folder). */
const customRoleFor = (base: string): void => {
  write(`${base}/mine/tasks.yaml`, [{ name: 'my file', file: { path: '/etc/mine', content: 'mine\n' } }]);
};

const twoHosts = { ssh: { user: 'root', port: 1, agent: false }, hosts: { alpha: { address: '127.0.0.2', groups: ['directors'] }, beta: { address: '127.0.0.3', groups: ['realservers'] } } };

describe('lvsprov --version and suggestions', () => {
  it('prints the version from package.json', async () => {
    const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
    for (const flag of ['--version', '-V']) {
      const result = await runMain([flag]);
      expect(result).toEqual({ code: 0, stdout: version, stderr: '' });
    }
  });

  it('suggests the command meant by a typo and exits 4', async () => {
    const result = await runMain(['aply', '-i', 'x.yaml']);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/unknown command 'aply'\n\(Did you mean apply\?\)/);
    expect(result.stderr).toContain("(run 'lvsprov --help' for the commands)");
    expect(result.stderr).not.toContain('Usage:');
  });

  it.each([
    ['apply', '--chekc', '--check'],
    ['status', '--wach', '--watch'],
    ['verify', '--failovr', '--failover'],
  ])('tells `%s %s` without -i of its typo first, and only then that -i is missing (exit 4)', async (command, typo, meant) => {
    const result = await runMain([command, typo]);
    expect(result.code).toBe(4);
    expect(result.stderr).toContain(`unknown option '${typo}'\n(Did you mean ${meant}?)`);
    expect(result.stderr).not.toContain('required option');
    const missing = await runMain([command]);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain("error: required option '-i, --inventory <file>' not specified");
  });

  it('suggests the same for `help aply`; `help apply` and `help` still help (exit 0)', async () => {
    const typo = await runMain(['help', 'aply']);
    expect(typo.code).toBe(4);
    expect(typo.stderr).toMatch(/unknown command 'aply'\n\(Did you mean apply\?\)/);
    const known = await runMain(['help', 'apply']);
    expect(known.code).toBe(0);
    expect(known.stdout).toMatch(/^Usage: lvsprov apply \[options\]/);
    expect((await runMain(['help'])).code).toBe(0);
  });
});

describe('a file option given twice', () => {
  // `apply -i a.yaml -i b.yaml` ran on b.yaml alone, exit 0: the hosts of a.yaml were left out in
  // silence (Ansible merges its -i's; lvsprov validate checks several). One file each, or refused.
  it.each([
    ['apply', '-i'],
    ['reset', '-i'],
    ['status', '-i'],
    ['verify', '-i'],
    ['graph', '-i'],
    ['ssh-config', '-i'],
    ['apply', '-p'],
    ['status', '-p'],
    ['validate', '-p'],
    ['apply', '-F'],
    ['ssh-config', '-F'],
  ])('`%s` with %s given twice is refused (exit 4), naming both, and contacts nobody', async (command, flag) => {
    const inventory = write('twice.yaml', 'ssh: { user: root }\nhosts:\n  alpha: { address: 192.0.2.10 }\n');
    const args = flag === '-i' ? [command, '-i', inventory, '-i', 'second.yaml'] : [command, '-i', inventory, flag, 'first.conf', flag, 'second.conf'];
    const result = await runMain(args);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/is given twice \(.+, then second\.(yaml|conf)\)/);
    expect(result.stdout).toBe('');
  });
});

describe('--json on bad input', () => {
  it.each([['apply'], ['status'], ['verify']])('`%s --json` refuses a bad inventory on stdout as JSON too: exit code, problems with file, line and column', async (command) => {
    const file = write(`json-bad-${command}.yaml`, 'ssh: { user: root }\nhosts:\n  alpha: { address: 192.0.2.300 }\n');
    const result = await runMain([command, '-i', file, '--json']);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/:3:\d+: .*192\.0\.2\.300/);
    const report = JSON.parse(result.stdout) as { exitCode: number; error: string; problems: Array<{ file: string; line: number; col: number; path: string; message: string }> };
    expect(report.exitCode).toBe(4);
    expect(report.error).toMatch(/no host was contacted$/);
    expect(report.problems.length).toBeGreaterThan(0);
    expect(report.problems[0]).toMatchObject({ file, line: 3, path: 'hosts.alpha.address' });
  });

  // A script that runs `lvsprov apply ... --json | jq` reads stdout alone: a mistyped option or a
  // bad value refused by the command line parser is invalid input like a bad inventory.
  it.each([
    ['an unknown option', ['apply', '-i', 'INV', '--json', '--bogus'], "error: unknown option '--bogus'"],
    ['an unknown option before --json', ['status', '-i', 'INV', '--bogus', '--json'], "error: unknown option '--bogus'"],
    ['a value refused by its parser, --json after it', ['apply', '-i', 'INV', '--forks', '0', '--json'], "error: option '-f, --forks <n>' argument '0' is invalid"],
    ['a value missing', ['verify', '-i', 'INV', '--json', '--rate'], "error: option '--rate <n>' argument missing"],
    ['the inventory missing', ['reset', '--json'], "error: required option '-i, --inventory <file>' not specified"],
    ['an argument too many', ['apply', '-i', 'INV', '--json', 'extra'], "error: too many arguments for 'apply'"],
    ['a mistyped command', ['aply', '-i', 'INV', '--json'], "error: unknown command 'aply'\n(Did you mean apply?)"],
    ['a mistyped command, help asked of it', ['help', 'aply', '--json'], "error: unknown command 'aply'"],
  ])('`--json` with %s: the refusal is one JSON line on stdout too (exit 4)', async (_case, args, message) => {
    const file = write('json-cli-refusal.yaml', 'ssh: { user: root }\nhosts:\n  alpha: { address: 192.0.2.10 }\n');
    const result = await runMain(args.map((arg) => (arg === 'INV' ? file : arg)));
    expect(result.code).toBe(4);
    expect(result.stderr).toContain(message);
    expect(result.stdout.split('\n')).toHaveLength(1);
    const report = JSON.parse(result.stdout) as { exitCode: number; error: string; problems: unknown[] };
    expect(report).toEqual({ exitCode: 4, error: expect.stringContaining(message.replace(/^error: /, '')) as unknown, problems: [] });
  });

  it('prints no JSON for a command-line refusal of a command without --json, or when --json is only a value', async () => {
    for (const args of [['graph', '-i', 'x.yaml', '--json'], ['apply', '--json-x'], ['lab', 'exec'], ['aply', '--', '--json']]) {
      const result = await runMain(args);
      expect(result.code, args.join(' ')).toBe(4);
      expect(result.stdout, args.join(' ')).toBe('');
    }
  });

  it('prints nothing on stdout without --json', async () => {
    const file = write('json-bad-plain.yaml', 'ssh: { user: root }\nhosts:\n  alpha: { address: 192.0.2.300 }\n');
    const result = await runMain(['apply', '-i', file]);
    expect(result.code).toBe(4);
    expect(result.stdout).toBe('');
  });
});

describe('output nobody reads', () => {
  it('a closed stdout (`lvsprov schema | true`) ends the command with its own exit code, without a word on stderr', async () => {
    // The pipe's reading end is closed before node has even started: every write fails with EPIPE.
    const child = spawn(process.execPath, [cliPath, 'schema'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect([code, stderr]).toEqual([0, '']);
  });

  it.each([['schema'], ['--version'], ['--help'], ['apply', '--help'], ['help', 'apply']])('a full disk under stdout (`lvsprov %s > /dev/full`) is said on stderr and exits 1', async (...args) => {
    const full = openSync('/dev/full', 'w');
    const child = spawn(process.execPath, [cliPath, ...args], { cwd: root, stdio: ['ignore', full, 'pipe'] });
    closeSync(full);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect([code, stderr]).toEqual([1, 'lvsprov: cannot write to stdout (ENOSPC); its output from here on is lost\n']);
  });
});

describe('validate', () => {
  it('takes several inventories, with -i or as arguments, and reports the problems of each', async () => {
    const good = join(root, 'inventories/dr-lab.yaml');
    const prod = join(root, 'inventories/prod.yaml');
    const both = await runMain(['validate', '-i', good, '-i', prod]);
    expect(both.code, both.stderr).toBe(0);
    expect(both.stdout.split('\n')).toEqual([expect.stringMatching(new RegExp(`^${good}: valid; 4 hosts, \\d+ tasks$`)), expect.stringMatching(new RegExp(`^${prod}: valid; 5 hosts, \\d+ tasks$`))]);
    const positional = await runMain(['validate', good, prod]);
    expect(positional.stdout).toBe(both.stdout);

    const bad1 = write('bad1.yaml', { hosts: { a: { address: '127.0.0.2', port: 22 } } });
    const bad2 = write('bad2.yaml', { hosts: { b: { address: 'not an address!' } } });
    const mixed = await runMain(['validate', bad1, good, '-i', bad2]);
    expect(mixed.code).toBe(4);
    expect(mixed.stdout).toMatch(new RegExp(`^${good}: valid; 4 hosts, \\d+ tasks$`));
    expect(mixed.stderr.split('\n')).toEqual([
      expect.stringMatching(new RegExp(`^${bad2}:3:14: hosts\\.b\\.address: must be an IPv4 address or a host name`)),
      expect.stringMatching(new RegExp(`^${bad1}:4:5: hosts\\.a\\.port: unknown key`)),
      '2 problems; no host was contacted',
    ]);
  });

  it('refuses to run without an inventory', async () => {
    expect(await runMain(['validate'])).toMatchObject({ code: 4, stderr: expect.stringMatching(/validate needs an inventory/) });
  });
});

describe('the inventory JSON Schema', () => {
  it('is shipped as schema/inventory.schema.json, equal to what `lvsprov schema` generates from the zod schema', async () => {
    const shipped = readFileSync(join(root, 'schema/inventory.schema.json'), 'utf8');
    expect(shipped, 'refresh it: npm run build && node bin/lvsprov.cjs schema > schema/inventory.schema.json').toBe(inventoryJsonSchemaText());
    const printed = await runMain(['schema']);
    expect(`${printed.stdout}\n`).toBe(shipped);
    const schema = JSON.parse(shipped) as { properties: Record<string, unknown>; required: string[] };
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['hosts', 'ssh', 'lvs', 'playbook', 'roles_path']));
    expect(schema.required).toEqual(['hosts']);
  });

  it('is named by the yaml-language-server line of every example inventory', () => {
    for (const file of readdirSync(join(root, 'inventories'))) {
      expect(readFileSync(join(root, 'inventories', file), 'utf8').split('\n')[0], file).toBe('# yaml-language-server: $schema=../schema/inventory.schema.json');
    }
  });
});

describe('which playbook and which roles', () => {
  it('uses the shipped site playbook, not a playbooks/ folder of the current directory', async () => {
    // An Ansible project's playbook that lvsprov cannot read: it must not be picked up.
    write('project/playbooks/site.yaml', [{ hosts: 'all', tasks: [{ name: 'ansible', apt: { name: 'nginx' } }] }]);
    const inventory = write('project/inv.yaml', twoHosts);
    const cwd = process.cwd();
    process.chdir(join(dir, 'project'));
    try {
      const result = await runMain(['validate', '-i', inventory]);
      expect(result.code, result.stderr).toBe(0);
    } finally {
      process.chdir(cwd);
    }
  });

  it("uses the inventory's playbook and roles_path, and --roles-path before them", async () => {
    customRoleFor('roles-a');
    write('roles-b/mine/tasks.yaml', [{ name: 'other file', file: { path: '/etc/other', content: 'b\n' } }]);
    write('own/play.yaml', [{ hosts: 'all', roles: ['mine'] }]);
    const inventory = write('own/inv.yaml', { ...twoHosts, playbook: 'play.yaml', roles_path: ['../roles-a'] });
    const plain = await runMain(['validate', '-i', inventory]);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toBe(`${inventory}: valid; 2 hosts, 2 tasks`);
    const one = await runMain(['validate', '-i', inventory, '-l', 'alpha']);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).toBe(`${inventory}: valid; 1 host, 1 task`);

    const noRoles = write('own/inv-noroles.yaml', { ...twoHosts, playbook: 'play.yaml' });
    const missing = await runMain(['validate', '-i', noRoles]);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toMatch(/role mine not found/);
    const flag = await runMain(['validate', '-i', noRoles, '--roles-path', join(dir, 'roles-b')]);
    expect(flag.code, flag.stderr).toBe(0);
  });

  it('refuses a roles folder that is not there, rather than falling through to a shipped role of the same name', async () => {
    // `director` is a shipped role: with the folder ignored, the shipped one would be applied instead.
    write('typo/play.yaml', [{ hosts: 'all', roles: ['director'] }]);
    const inventory = write('typo/inv.yaml', `hosts:\n  alpha: { address: 127.0.0.2, groups: [directors] }\nplaybook: play.yaml\nroles_path:\n  - ../roles-a\n  - ../my-roles\n`);
    const fromInventory = await runMain(['validate', '-i', inventory]);
    expect(fromInventory.code).toBe(4);
    expect(fromInventory.stderr).toMatch(new RegExp(`^${inventory}:6:5: roles_path\\.1: ${join(dir, 'my-roles')} is not a folder`, 'm'));

    const good = write('typo/good.yaml', twoHosts);
    const fromFlag = await runMain(['validate', '-i', good, '--roles-path', join(dir, 'no-such-roles')]);
    expect(fromFlag.code).toBe(4);
    expect(fromFlag.stderr).toMatch(new RegExp(`--roles-path ${join(dir, 'no-such-roles')}: .* is not a folder`));
    const aFile = await runMain(['validate', '-i', good, '--roles-path', good]);
    expect(aFile.code).toBe(4);
    expect(aFile.stderr).toMatch(/is not a folder/);
  });
});

describe('standard input as -', () => {
  // The built CLI, as a pipeline runs it: `generate-inventory | lvsprov validate -i -`.
  const piped = (args: readonly string[], input: string, cwd = root) => spawnSync(process.execPath, [cliPath, ...args], { cwd, input, encoding: 'utf8' });

  it('reads the inventory from it, named <stdin> in what is printed', () => {
    const good = piped(['validate', '-i', '-'], stringify(twoHosts));
    expect([good.status, good.stdout.trim()], good.stderr).toEqual([0, expect.stringMatching(/^<stdin>: valid; 2 hosts, \d+ tasks$/)]);
    expect(good.stderr).toContain('no group or host named routers in <stdin>; play skipped');
    const bad = piped(['validate', '-i', '-'], 'hosts:\n  alpha: { address: 1.2.3 }\n');
    expect(bad.status).toBe(4);
    expect(bad.stderr).toMatch(/^<stdin>:2:21: hosts\.alpha\.address: /);
  });

  it("its inventory's relative paths start from the current folder", () => {
    customRoleFor('stdin/roles');
    write('stdin/play.yaml', [{ hosts: 'all', roles: ['mine'] }]);
    const result = piped(['validate', '-i', '-'], stringify({ ...twoHosts, playbook: 'play.yaml', roles_path: ['roles'] }), join(dir, 'stdin'));
    expect([result.status, result.stdout.trim()], result.stderr).toEqual([0, '<stdin>: valid; 2 hosts, 2 tasks']);
  });

  it('reads the playbook from it', () => {
    const inventory = write('stdin/inv.yaml', twoHosts);
    const result = piped(['validate', '-i', inventory, '-p', '-'], stringify([{ hosts: 'all', tasks: [{ name: 'one file', file: { path: '/etc/one', content: '1\n' } }] }]));
    expect([result.status, result.stdout.trim()], result.stderr).toEqual([0, `${inventory}: valid; 2 hosts, 2 tasks`]);
  });

  it('waits for data on a standard input left non-blocking, instead of failing with EAGAIN', async () => {
    // A FIFO opened for reading with O_NONBLOCK and a writer that sends its text only later: every
    // read before that finds the pipe empty and fails with EAGAIN.
    const fifo = join(dir, 'stdin.fifo');
    execFileSync('mkfifo', [fifo]);
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const writer = openSync(fifo, constants.O_WRONLY);
    const child = spawn(process.execPath, [cliPath, 'validate', '-i', '-'], { cwd: root, stdio: [reader, 'pipe', 'pipe'] });
    closeSync(reader);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    writeSync(writer, stringify(twoHosts));
    closeSync(writer);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect([code, stdout.trim()], stderr).toEqual([0, expect.stringMatching(/^<stdin>: valid; 2 hosts, \d+ tasks$/)]);
  });

  it('refuses it for both the inventory and the playbook', () => {
    const result = piped(['apply', '--check', '-i', '-', '-p', '-'], stringify(twoHosts));
    expect([result.status, result.stderr.trim()]).toEqual([4, '-i - and -p - would both read standard input: give one of them as a file']);
  });
});

describe('reset asks before it removes anything', () => {
  it('refuses without a terminal unless --yes, and warns when a director keeps sending traffic to a reset real server', async () => {
    const inventory = write('reset.yaml', {
      ...twoHosts,
      lvs: { vips: { web: { address: '198.51.100.9' } }, services: [{ vip: 'web', port: 80, real_servers: [{ host: 'beta', address: '198.51.100.20' }] }] },
    });
    const refused = await runMain(['reset', '-i', inventory, '--limit', 'beta']);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/^warning: beta is a real server of .* on alpha, which this reset leaves in place/m);
    expect(refused.stderr).toMatch(/there is no terminal to confirm on: re-run with --yes/);

    const declined = await runMain(['reset', '-i', inventory], { ask: () => Promise.resolve('no') });
    expect(declined).toMatchObject({ code: 0, stderr: expect.stringMatching(/reset cancelled; nothing was changed/) });
    expect(declined.stderr).not.toMatch(/warning: beta/);

    // --check never asks: it changes nothing. The hosts are unreachable (port 1 on loopback).
    const check = await runMain(['reset', '-i', inventory, '--check']);
    expect(check.code).toBe(3);
  });
});

describe("reset's prompt on a real terminal", () => {
  // readline rejects the question when the person presses Ctrl-D or Ctrl-C there; neither is a bug.
  const inventory = write('reset-prompt.yaml', twoHosts);
  it.each([
    ['C-d', 'declines, as an answer that is not yes (exit 0)', /type yes to go on:\nreset cancelled; nothing was changed\nEXIT=0\n/],
    ['C-c', 'is an interrupt (exit 130)', /type yes to go on:\nreset interrupted at its prompt; nothing was changed\nEXIT=130\n/],
  ])('%s at the prompt %s, without an internal error', async (key, _what, expected) => {
    const pane = new TmuxPane(200, 30);
    try {
      pane.start(`${process.execPath} ${cliPath} reset -i ${inventory}`);
      await pane.waitFor(/type yes to go on:/, 30_000);
      spawnSync('tmux', ['-L', pane.socketName, 'send-keys', '-t', 'test', key]);
      const screen = await pane.waitFor(/EXIT=\d+\n/, 30_000);
      expect(screen).not.toMatch(/internal error|AbortError/);
      expect(screen).toMatch(expected);
    } finally {
      pane.close();
    }
  });
});

describe('lab exec', () => {
  it('passes every word after the host to the command, options included, and drops a leading --', async () => {
    expect(commandWords(['curl', '-s', 'http://x/'])).toEqual(['curl', '-s', 'http://x/']);
    expect(commandWords(['--', 'curl', '-s'])).toEqual(['curl', '-s']);
    expect(() => commandWords(['--'])).toThrow(/needs a command/);
    // Parsing reaches the lab lookup instead of stopping at curl's -s.
    const result = await runMain(['lab', 'exec', '--dir', join(dir, 'nolab'), 'client', 'curl', '-s', '--max-time', '3', 'http://198.51.100.50/']);
    expect(result.stderr).toMatch(/^no lab is up in /);
    const withoutDir = await runMain(['lab', 'exec', 'client', 'curl', '-s', 'http://198.51.100.50/']);
    expect(withoutDir.stderr).not.toMatch(/unknown option/);
  });
});

describe('lab down --name', () => {
  // resolve('.lab', '..') is the folder holding .lab: a name that climbs out must never pick the
  // folder lab down removes.
  it.each(['..', '.', '../x', 'a/b', ''])('refuses %j as input (exit 4), never as an internal error', async (name) => {
    const result = await runMain(['lab', 'down', '--name', name]);
    expect(result.stderr).toMatch(/^lab name .*: use letters, digits, _ \. -/);
    expect(result.code).toBe(4);
  });
});
