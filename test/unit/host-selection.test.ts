import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { selectHosts } from '../../src/config/host-patterns.js';

// Choosing hosts and tasks before any host is contacted: --limit with globs and !exclusions,
// tags on tasks, role entries and plays with --tags/--skip-tags, and the --list-* views.

const hosts = ['edge1', 'lvs1', 'rs1', 'rs2', 'rs3', 'rs10'];
const groups = new Map([
  ['routers', ['edge1']],
  ['directors', ['lvs1']],
  ['realservers', ['rs1', 'rs2', 'rs3', 'rs10']],
]);

describe('--limit host patterns', () => {
  it.each([
    [['rs1'], ['rs1']],
    [['realservers'], ['rs1', 'rs2', 'rs3', 'rs10']],
    [['rs*', '!rs3'], ['rs1', 'rs2', 'rs10']],
    [['rs?'], ['rs1', 'rs2', 'rs3']],
    [['!realservers'], ['edge1', 'lvs1']],
    [['all', '!rs1*'], ['edge1', 'lvs1', 'rs2', 'rs3']],
    // `*s` matches the groups routers, directors and realservers by name.
    [['*s', '!directors'], ['edge1', 'rs1', 'rs2', 'rs3', 'rs10']],
    [['lvs1', 'routers'], ['edge1', 'lvs1']],
    [['rs.'], null],
  ])('%j selects %j', (terms, expected) => {
    const selection = selectHosts(terms, hosts, groups);
    if (expected === null) expect(selection.problems).toEqual(['unknown host or group rs.; did you mean `rs1`? (known: edge1, lvs1, rs1, rs2, rs3, rs10, routers, directors, realservers)']);
    else expect([selection.hosts, selection.problems]).toEqual([expected, []]);
  });

  it.each([
    [['!*'], '!* selects no host: its exclusions (!*) remove every host the rest names'],
    [['rs*', '!realservers'], 'rs*,!realservers selects no host: its exclusions (!realservers) remove every host the rest names'],
    [['!routers', '!directors', '!rs*'], '!routers,!directors,!rs* selects no host: its exclusions (!routers, !directors, !rs*) remove every host the rest names'],
  ])('%j, whose exclusions take back every host, is refused (a run on no host reported success)', (terms, message) => {
    expect(selectHosts(terms, hosts, groups)).toEqual({ hosts: [], problems: [message] });
  });

  it('matches a glob of many stars against long names at once (a RegExp backtracked for hours)', () => {
    const many = Array.from({ length: 200 }, (_, i) => `${'a'.repeat(60)}${i}`);
    const started = performance.now();
    expect(selectHosts([`${'*a'.repeat(30)}*b`], many, new Map()).problems).toEqual([`${'*a'.repeat(30)}*b matches no host or group`]);
    expect(selectHosts([`${'*a'.repeat(30)}*9`], many, new Map()).hosts).toHaveLength(20);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('shows a long term that matches nothing by its start and length, as a long key is shown', () => {
    const long = 'x'.repeat(5000);
    expect(selectHosts([long, `${'y'.repeat(3000)}*`], hosts, groups).problems).toEqual([
      `unknown host or group ${'x'.repeat(40)}...(5000 characters) (known: edge1, lvs1, rs1, rs2, rs3, rs10, routers, directors, realservers)`,
      `${'y'.repeat(40)}...(3001 characters) matches no host or group`,
    ]);
  });

  it('names every term that matches nothing, with a suggestion', () => {
    expect(selectHosts(['web*', '!rs4', 'realserver'], hosts, groups).problems).toEqual([
      'web* matches no host or group',
      'unknown host or group rs4; did you mean `rs1`? (known: edge1, lvs1, rs1, rs2, rs3, rs10, routers, directors, realservers)',
      'unknown host or group realserver; did you mean `realservers`? (known: edge1, lvs1, rs1, rs2, rs3, rs10, routers, directors, realservers)',
    ]);
  });
});

describe('tags and listings through the CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsprov-selection-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const inventory = join(dir, 'inventory.yaml');
  const playbook = join(dir, 'playbook.yaml');
  writeFileSync(
    inventory,
    [
      'ssh: { user: root, agent: false }',
      'groups:',
      '  routers: { hosts: [edge1], vars: { lan_interface: eth1 } }',
      '  realservers: { hosts: [rs1, rs2, rs3] }',
      'hosts:',
      '  edge1: { address: 192.0.2.1 }',
      '  rs1: { address: 192.0.2.11 }',
      '  rs2: { address: 192.0.2.12 }',
      '  rs3: { address: 192.0.2.13 }',
      'lvs:',
      '  vips: { web: { address: 198.51.100.50 } }',
      '  services:',
      '    - { vip: web, port: 80, scheduler: rr, directors: [edge1], real_servers: [{ host: rs1 }, { host: rs2 }, { host: rs3 }] }',
      '',
    ].join('\n'),
  );
  writeFileSync(
    playbook,
    [
      '- hosts: realservers',
      '  tags: [rs]',
      '  roles:',
      '    - { role: realserver-dr, tags: [arp] }',
      '  tasks:',
      '    - name: backlog',
      '      tags: tuning',
      '      sysctl: { file: /etc/sysctl.d/90-local.conf, values: { net.core.somaxconn: 4096 } }',
      '    - name: always there',
      '      tags: [always]',
      '      sysctl: { file: /etc/sysctl.d/91-local.conf, values: { net.core.netdev_max_backlog: 2000 } }',
      '- hosts: routers',
      '  roles: [router]',
      '',
    ].join('\n'),
  );

  const cli = async (...args: string[]): Promise<{ code: number; out: string; err: string }> => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(['node', 'lvsprov', ...args], { out: (line) => out.push(line), err: (line) => err.push(line), isTTY: false });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };

  it.each(['apply', 'reset', 'validate'])('%s --list-hosts prints the hosts --limit selects and contacts nobody', async (command) => {
    // The addresses lead nowhere: a contact attempt would fail, not list.
    const result = await cli(command, '-i', inventory, '-p', playbook, '--limit', 'rs*,!rs3,edge1', '--list-hosts');
    // In the order the run takes them: the real servers' play comes first.
    expect([result.code, result.out, result.err]).toEqual([0, 'hosts (3):\n  rs1\n  rs2\n  edge1', '']);
  });

  it('--list-tasks shows each task with its own, its role\'s and its play\'s tags', async () => {
    const result = await cli('apply', '-i', inventory, '-p', playbook, '--limit', 'rs1', '--list-tasks');
    expect(result.code).toBe(0);
    const lines = result.out.split('\n');
    expect(lines[0]).toMatch(/^rs1 \(\d+ tasks\):$/);
    expect(lines.filter((line) => line.startsWith('  realserver-dr: ')).every((line) => line.endsWith('tags: rs, arp'))).toBe(true);
    expect(lines).toContain('  backlog  (sysctl)  tags: rs, tuning');
    expect(lines).toContain('  always there  (sysctl)  tags: rs, always');
  });

  // `--json` promises JSON alone on stdout: a script listing what a run would touch
  // (`apply --list-hosts --json | jq`) got the text listing instead.
  it.each(['apply', 'reset'])('%s --list-hosts / --list-tasks with --json print the listing as JSON', async (command) => {
    const hosts = await cli(command, '-i', inventory, '-p', playbook, '--limit', 'rs*,!rs3,edge1', '--list-hosts', '--json');
    expect([hosts.code, JSON.parse(hosts.out), hosts.err]).toEqual([0, { hosts: [{ host: 'rs1' }, { host: 'rs2' }, { host: 'edge1' }] }, '']);
    const tasks = await cli(command, '-i', inventory, '-p', playbook, '--limit', 'rs1', '--tags', 'tuning', '--list-tasks', '--list-hosts', '--json');
    expect(tasks.code).toBe(0);
    expect(JSON.parse(tasks.out)).toEqual({
      hosts: [
        {
          host: 'rs1',
          tasks: [
            { name: 'backlog', type: 'sysctl', tags: ['rs', 'tuning'] },
            { name: 'always there', type: 'sysctl', tags: ['rs', 'always'] },
          ],
        },
      ],
    });
  });

  it('--tags keeps tagged tasks (and always), --skip-tags drops them; an unknown tag is a warning with a suggestion', async () => {
    const only = await cli('validate', '-i', inventory, '-p', playbook, '--tags', 'tuning', '--list-tasks');
    const perHost = (host: string): string[] => [`${host} (2 tasks):`, '  backlog  (sysctl)  tags: rs, tuning', '  always there  (sysctl)  tags: rs, always'];
    expect(only.out).toBe([...perHost('rs1'), '', ...perHost('rs2'), '', ...perHost('rs3'), '', 'edge1 (0 tasks):'].join('\n'));
    const skipped = await cli('validate', '-i', inventory, '-p', playbook, '--skip-tags', 'arp,always', '--limit', 'rs1', '--list-tasks');
    expect(skipped.out).toBe('rs1 (1 task):\n  backlog  (sysctl)  tags: rs, tuning');
    const typo = await cli('validate', '-i', inventory, '-p', playbook, '--tags', 'tunning');
    expect(typo.code).toBe(0);
    expect(typo.err).toBe(`warning: no task of ${playbook} has the tag tunning; did you mean \`tuning\`? (known: always, arp, rs, tuning)`);
  });

  it('a --limit that matches nothing is invalid input (exit 4) naming the term', async () => {
    const result = await cli('apply', '-i', inventory, '-p', playbook, '--limit', 'web*', '--list-hosts');
    expect(result.code).toBe(4);
    expect(result.err).toMatch(/^--limit:1:1: .*web\* matches no host or group/m);
  });
});
