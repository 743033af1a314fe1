import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { arptables } from '../../src/resources/arptables.js';
import { lineKey } from '../../src/resources/arptables-save.js';
import { packageResource, type PackageFacts } from '../../src/resources/package.js';
import { service, type ServiceFacts } from '../../src/resources/service.js';
import type { Change } from '../../src/resources/types.js';

// What the fixture table cannot say: specs that must be refused, plans that must refuse, and
// managers this build machine does not have (dnf, zypper, apk, a running systemd), planned from
// in-memory facts because no real probe output for them can be captured here.

const host = { host: 'rs1' };

function refusal(schema: { safeParse(value: unknown): { success: boolean; error?: { issues: Array<{ path: PropertyKey[] }> } } }, value: unknown): string[] {
  const result = schema.safeParse(value);
  expect(result.success, JSON.stringify(value)).toBe(false);
  return (result.error?.issues ?? []).map((issue) => issue.path.join('.'));
}

describe('package', () => {
  it('refuses names and paths that are not one', () => {
    expect(refusal(packageResource.schema, { name: 'nginx; reboot' })).toContain('name');
    expect(refusal(packageResource.schema, { name: '-y' })).toContain('name');
    expect(refusal(packageResource.schema, { name: 'busybox', creates: 'usr/bin/busybox' })).toContain('creates');
    expect(refusal(packageResource.schema, { name: 'busybox', creates: '/usr/../bin/sh' })).toContain('creates');
    expect(refusal(packageResource.schema, { name: 'busybox', state: 'absent' })).toContain('state');
    expect(refusal(packageResource.schema, { name: 'busybox', version: '1.0' })).toEqual(['']);
  });

  it('counts a removed package whose config files remain as not installed', () => {
    // dpkg-query(1) Status for `apt-get remove` without purge; none exists on this machine to capture.
    const spec = packageResource.schema.parse({ name: 'arptables' });
    const facts = packageResource.parse({ stdout: 'M apt\nS deinstall ok config-files\n', status: 0 }, spec);
    expect(facts).toEqual({ manager: 'apt', installed: false, creates: null });
    expect(packageResource.parse({ stdout: 'M apt\nS hold ok installed\n', status: 0 }, spec).installed).toBe(true);
  });

  it.each([
    ['dnf', 'dnf install -y -q ipvsadm'],
    ['yum', 'yum install -y -q ipvsadm'],
    ['zypper', 'zypper --non-interactive --quiet install --no-recommends ipvsadm'],
    ['apk', 'apk add --quiet --no-progress ipvsadm'],
  ] as const)('installs with %s non-interactively', (manager, line) => {
    const spec = packageResource.schema.parse({ name: 'ipvsadm' });
    const facts: PackageFacts = { manager, installed: false, creates: null };
    expect(packageResource.plan(spec, facts, host).map((change) => change.commands)).toEqual([[line]]);
  });

  it('fails the task with a clear message when the host has no package manager', () => {
    const spec = packageResource.schema.parse({ name: 'ipvsadm', creates: '/usr/sbin/ipvsadm' });
    const facts = packageResource.parse({ stdout: 'M none\nC no\n', status: 0 }, spec);
    expect(() => packageResource.plan(spec, facts, host)).toThrow(
      'cannot install package ipvsadm on rs1: no supported package manager found (looked for apt-get, dnf, yum, zypper, apk) and /usr/sbin/ipvsadm does not exist',
    );
  });
});

describe('service', () => {
  it('refuses names, argv and keys it cannot pass safely', () => {
    expect(refusal(service.schema, { name: 'web server' })).toContain('name');
    expect(refusal(service.schema, { name: '$(reboot)' })).toContain('name');
    expect(refusal(service.schema, { name: '--now' })).toContain('name');
    expect(refusal(service.schema, { name: 'web', exec: ['busybox', 'httpd'] })).toContain('exec.0');
    expect(refusal(service.schema, { name: 'web', exec: [] })).toContain('exec.0');
    expect(refusal(service.schema, { name: 'web', exec: ['/usr/bin/busybox', 'httpd\nreboot'] })).toContain('exec.1');
    expect(refusal(service.schema, { name: 'web', state: 'restarted' })).toContain('state');
    expect(refusal(service.schema, { name: 'web', enabled: 'yes' })).toContain('enabled');
  });

  it('passes every exec argument to the daemon as one word, whatever it contains', () => {
    const args = ['httpd', '-h', "/srv/it's $(here)", '`x`', 'two  spaces', ''];
    const spec = service.schema.parse({ name: 'web', exec: ['/usr/bin/busybox', ...args] });
    const [start] = service.plan(spec, service.parse({ stdout: 'D none\nP 3\n', status: 0 }, spec), host)[0]?.commands ?? [];
    // A shell function stands in for the program so the real shell's word splitting is what is
    // tested; it prints to descriptor 3, as the start sends the program's own output to /dev/null.
    const shell = `exec 3>&1; start_stop_daemon() { for a; do printf '<%s>' "$a"; done >&3; }\n${start?.replace(/^start-stop-daemon/, 'start_stop_daemon')}`;
    const printed = spawnSync('/bin/sh', ['-c', shell], { encoding: 'utf8' }).stdout;
    expect(printed).toBe(
      ['--start', '--quiet', '--background', '--no-close', '--make-pidfile', '--pidfile', '/run/lvsprov-web.pid', '--exec', '/usr/bin/busybox', '--', ...args].map((a) => `<${a}>`).join(''),
    );
  });

  it('drives systemd units with systemctl', () => {
    // The strings systemctl(1) prints; this machine has systemctl but no running systemd.
    const spec = service.schema.parse({ name: 'ssh' });
    const facts = service.parse({ stdout: 'D systemd\nL LoadState=loaded\nA inactive\nE disabled\nF-\n', status: 0 }, spec);
    expect(facts).toEqual({ manager: 'systemd', running: false, enabled: false, enabler: null, missing: false, dropIn: { exists: false, content: '' } });
    expect(service.plan(spec, facts, host).map((change) => change.commands)).toEqual([['systemctl enable ssh'], ['systemctl start ssh']]);
    expect(service.plan(spec, service.after(spec, facts), host)).toEqual([]);
  });

  it('leaves the boot setting of a static unit alone and treats activating as running', () => {
    const spec = service.schema.parse({ name: 'dbus', enabled: false });
    const facts = service.parse({ stdout: 'D systemd\nL LoadState=loaded\nA activating\nE static\n', status: 0 }, spec);
    expect(facts.enabled).toBeNull();
    expect(service.plan(spec, facts, host)).toEqual([]);
  });

  it('falls back to a pidfile daemon where systemd has no unit of that name', () => {
    const spec = service.schema.parse({ name: 'lvsprov-web', exec: ['/usr/bin/busybox', 'httpd', '-f'] });
    const facts = service.parse({ stdout: 'D systemd\nL LoadState=not-found\nA inactive\nE \nP 3\n', status: 0 }, spec);
    expect(facts.manager).toBe('pidfile');
  });

  it('refuses to plan what no manager on the host can run', () => {
    const bare = service.schema.parse({ name: 'web' });
    expect(() => service.plan(bare, service.parse({ stdout: 'D none\n', status: 0 }, bare), host)).toThrow(
      'cannot manage service web on rs1: no systemd, no /etc/init.d script and no exec given',
    );
    const daemon = service.schema.parse({ name: 'web', exec: ['/usr/bin/busybox', 'httpd'] });
    expect(() => service.plan(daemon, service.parse({ stdout: 'D none\nP-\n', status: 0 }, daemon), host)).toThrow('start-stop-daemon is not installed');
    const unit = service.parse({ stdout: 'D systemd\nL LoadState=not-found\nA inactive\nE \n', status: 0 }, bare);
    expect(() => service.plan(bare, unit, host)).toThrow('systemd has no such unit');
    const noTool: ServiceFacts = { manager: 'sysv', running: true, enabled: false, enabler: null, missing: false };
    expect(() => service.plan(bare, noTool, host)).toThrow('neither update-rc.d nor chkconfig found');
  });

  it('runs around_start around every start and restart it makes, never a stop, and records the start last', () => {
    const spec = service.schema.parse({
      name: 'memcached',
      package: 'memcached',
      restart_on: ['/etc/memcached.conf'],
      one_at_a_time: 'session-stores',
      around_start: { before: [['/usr/sbin/nft', 'insert', 'rule', 'x; reboot']], after: [['/usr/bin/perl', '/usr/local/lib/seed', "it's"], ['/usr/sbin/nft', '-f', '/etc/x.nft']] },
    });
    const sysv = (running: boolean, stale: string[] = []): ServiceFacts => ({ manager: 'sysv', running, enabled: true, enabler: 'update-rc.d', missing: false, stale });
    const record = ': > /var/lib/lvsprov/service-memcached.started';
    const wrapped = (core: string): string[] => ["/usr/sbin/nft insert rule 'x; reboot'", core, "/usr/bin/perl /usr/local/lib/seed 'it'\\''s'", '/usr/sbin/nft -f /etc/x.nft', expect.stringContaining(record) as unknown as string];
    const [start] = service.plan(spec, sysv(false), host);
    expect(start?.commands).toEqual(wrapped('/etc/init.d/memcached start'));
    expect(start?.turn).toBe('session-stores');
    const [restart] = service.plan(spec, sysv(true, ['/etc/memcached.conf']), host);
    expect(restart?.commands).toEqual(wrapped('/etc/init.d/memcached restart'));
    expect(restart?.turn).toBe('session-stores');
    // After its package's install: wrapped, but no turn (it held nothing).
    const [installed] = service.plan(spec, { manager: null, running: false, enabled: null, enabler: null, missing: false }, { ...host, installing: new Set(['memcached']) });
    expect(installed?.commands[0]).toBe("/usr/sbin/nft insert rule 'x; reboot'");
    expect(installed?.commands.slice(2, 4)).toEqual(["/usr/bin/perl /usr/local/lib/seed 'it'\\''s'", '/usr/sbin/nft -f /etc/x.nft']);
    expect(installed?.turn).toBeUndefined();
    // A stop runs none of them.
    const [stop] = service.plan({ ...spec, state: 'stopped' }, sysv(true), host);
    expect(stop?.commands).toEqual(['/etc/init.d/memcached stop']);
    expect(stop?.turn).toBeUndefined();
    // A pidfile daemon's start too, its record written after the hooks.
    const daemon = service.schema.parse({ name: 'web', exec: ['/usr/bin/busybox', 'httpd'], restart_on: ['/etc/web.conf'], around_start: { after: [['/bin/true']] } });
    const [daemonStart] = service.plan(daemon, service.parse({ stdout: 'D none\nP 3\n', status: 0 }, daemon), host);
    expect(daemonStart?.commands.slice(-2)).toEqual(['/bin/true', expect.stringContaining(': > /var/lib/lvsprov/service-web.started')]);
    // Without around_start, nothing is added.
    const plain = service.schema.parse({ name: 'memcached', restart_on: ['/etc/memcached.conf'] });
    expect(service.plan(plain, sysv(true, ['/etc/memcached.conf']), host)[0]?.commands).toEqual(['/etc/init.d/memcached restart', expect.stringContaining(record)]);
  });

  it('where systemd runs the service, puts around_start into a drop-in before the start, so systemd runs it around every start', () => {
    const spec = service.schema.parse({
      name: 'memcached',
      restart_on: ['/etc/memcached.conf'],
      around_start: { before: [['/usr/sbin/nft', 'insert', 'rule', 'x; reboot']], after: [['/usr/bin/perl', '/seed', 'say "100%" $HOME \\n', ';']], timeout_s: 360 },
    });
    const path = '/etc/systemd/system/memcached.service.d/lvsprov-around-start.conf';
    const content = [
      '# Managed by lvsprov (service memcached, around_start): run around every start of memcached, whoever starts it.',
      '[Service]',
      'ExecStartPre=+/usr/sbin/nft "insert" "rule" "x; reboot"',
      'ExecStartPost=+/usr/bin/perl "/seed" "say \\"100%%\\" $$HOME \\\\n" ";"',
      'TimeoutStartSec=360',
      '',
    ].join('\n');
    const probe = (dropIn: string, active = 'active', stale = ''): ServiceFacts =>
      service.parse({ stdout: `D systemd\nL LoadState=loaded\nA ${active}\nE enabled\n${dropIn}\n${stale}`, status: 0 }, spec);
    const absent = probe('F-', 'inactive');
    const [write, start, ...rest] = service.plan(spec, absent, host);
    expect(rest).toEqual([]);
    expect(write?.summary).toBe(`create ${path}`);
    expect(write?.diff).toEqual({ kind: 'file', before: '', after: content });
    expect(write?.commands.at(-1)).toBe('systemctl daemon-reload');
    expect(write?.commands.join('\n')).toContain("memcached.service.d/lvsprov-around-start.conf.lvsprov-tmp");
    // systemd runs the commands: lvsprov only starts it, and records the start.
    expect(start?.commands).toEqual(['systemctl start memcached', expect.stringContaining(': > /var/lib/lvsprov/service-memcached.started')]);
    expect(service.plan(spec, service.after(spec, absent), host)).toEqual([]);

    const written = probe(`F 644 ${Buffer.from(content).toString('base64')}`, 'active', 'W /etc/memcached.conf');
    expect(written.dropIn).toEqual({ exists: true, mode: '644', content });
    expect(service.plan(spec, written, host).map((change) => change.commands[0])).toEqual(['systemctl restart memcached']);
    // A drop-in with other commands is rewritten; a restart is not needed for that alone.
    const older = probe(`F 644 ${Buffer.from(content.replace('360', '90')).toString('base64')}`);
    expect(service.plan(spec, older, host).map((change) => change.summary)).toEqual([`update ${path}`]);

    // No around_start any more: lvsprov's drop-in goes, another's stays.
    const { around_start: _around, ...withoutHooks } = spec;
    const [removal] = service.plan(withoutHooks, written, host).filter((change) => change.resource === `file ${path}`);
    expect(removal?.commands).toEqual([`rm -f -- ${path}`, 'systemctl daemon-reload']);
    const foreign = probe(`F 644 ${Buffer.from('[Service]\nExecStartPre=/bin/true\n').toString('base64')}`);
    expect(service.plan(withoutHooks, foreign, host)).toEqual([]);
    // Reset stops the service, disables it and takes the drop-in away.
    expect(service.reset?.plan(spec, written, host).map((change) => change.summary)).toEqual([`remove ${path}`, 'disable memcached at boot', 'stop memcached']);
    // Under sysvinit nothing is written: lvsprov runs the commands around its starts.
    expect(service.plan(spec, { manager: 'sysv', running: false, enabled: true, enabler: 'update-rc.d', missing: false }, host)[0]?.commands[0]).toBe("/usr/sbin/nft insert rule 'x; reboot'");
  });

  it('with wave: balance, starts and restarts in the balance wave (after its package too); stops, enablement and the drop-in stay in prepare', () => {
    const spec = service.schema.parse({ name: 'memcached', package: 'memcached', restart_on: ['/etc/memcached.conf'], wave: 'balance', around_start: { after: [['/bin/true']] } });
    const sysv = (running: boolean, stale: string[] = []): ServiceFacts => ({ manager: 'sysv', running, enabled: false, enabler: 'update-rc.d', missing: false, stale });
    const phases = (changes: readonly Change[]): Array<[string, string]> => changes.map((change) => [change.summary, change.phase ?? 'prepare']);
    expect(phases(service.plan(spec, sysv(false), host))).toEqual([
      ['enable memcached at boot', 'prepare'],
      ['start memcached', 'balance'],
    ]);
    expect(phases(service.plan(spec, sysv(true, ['/etc/memcached.conf']), host))).toEqual([
      ['enable memcached at boot', 'prepare'],
      ['restart memcached: /etc/memcached.conf changed since it started', 'balance'],
    ]);
    const fresh = service.parse({ stdout: 'D systemd\nL LoadState=not-found\nA inactive\nE \nF-\nW -\n', status: 0 }, spec);
    expect(phases(service.plan(spec, fresh, { ...host, installing: new Set(['memcached']) }))).toEqual([
      ['create /etc/systemd/system/memcached.service.d/lvsprov-around-start.conf', 'prepare'],
      ['restart memcached after installing memcached', 'balance'],
    ]);
    expect(phases(service.plan({ ...spec, state: 'stopped' }, { ...sysv(true), enabled: true }, host))).toEqual([['stop memcached', 'prepare']]);
    expect(refusal(service.schema, { name: 'web', exec: ['/usr/bin/busybox', 'httpd'], pool: 'weighted', wave: 'balance' })).toContain('wave');
    expect(refusal(service.schema, { name: 'web', wave: 'retire' })).toContain('wave');
  });

  it('refuses around_start commands and turn names it cannot pass safely', () => {
    expect(refusal(service.schema, { name: 'm', around_start: { before: [['/usr/local/my tool']] } })).toContain('around_start.before.0.0');
    expect(refusal(service.schema, { name: 'm', around_start: { before: [['/bin/$x']] } })).toContain('around_start.before.0.0');
    expect(refusal(service.schema, { name: 'm', around_start: { timeout_s: 0 } })).toContain('around_start.timeout_s');
    expect(refusal(service.schema, { name: 'm', around_start: { before: [['nft', 'x']] } })).toContain('around_start.before.0.0');
    expect(refusal(service.schema, { name: 'm', around_start: { after: [['/bin/x', 'a\nb']] } })).toContain('around_start.after.0.1');
    expect(refusal(service.schema, { name: 'm', around_start: { during: [] } })).toContain('around_start');
    expect(refusal(service.schema, { name: 'm', one_at_a_time: 'Stores; reboot' })).toContain('one_at_a_time');
  });

  it('enables sysvinit scripts with chkconfig on the RHEL family', () => {
    const spec = service.schema.parse({ name: 'ipvsadm', state: 'stopped' });
    const facts: ServiceFacts = { manager: 'sysv', running: false, enabled: false, enabler: 'chkconfig', missing: false };
    expect(service.plan(spec, facts, host).map((change) => change.commands)).toEqual([['chkconfig --add ipvsadm', 'chkconfig ipvsadm on']]);
  });
});

describe('arptables', () => {
  const drop = { chain: 'INPUT', destination: '198.51.100.50', target: 'DROP' };
  const mangle = { chain: 'OUTPUT', source: '198.51.100.50', target: 'mangle', mangle_source: '192.0.2.11' };

  it('refuses rules it would not write safely', () => {
    expect(refusal(arptables.schema, { rules: [{ ...drop, destination: '198.51.100.50/32' }] })).toContain('rules.0.destination');
    expect(refusal(arptables.schema, { rules: [{ ...drop, destination: '198.51.100.50 -j ACCEPT' }] })).toContain('rules.0.destination');
    expect(refusal(arptables.schema, { rules: [{ ...drop, chain: 'FORWARD' }] })).toContain('rules.0.chain');
    expect(refusal(arptables.schema, { rules: [{ ...drop, target: 'ACCEPT' }] })).toContain('rules.0.target');
    expect(refusal(arptables.schema, { rules: [{ ...mangle, mangle_source: undefined }] })).toContain('rules.0.mangle_source');
    expect(refusal(arptables.schema, { rules: [{ ...drop, mangle_source: '192.0.2.11' }] })).toContain('rules.0.mangle_source');
    expect(refusal(arptables.schema, { rules: [{ chain: 'INPUT', target: 'DROP' }] })).toContain('rules.0');
    expect(refusal(arptables.schema, { rules: [drop, mangle, drop] })).toContain('rules.2');
    expect(refusal(arptables.schema, { rules: [] })).toContain('rules');
    expect(refusal(arptables.schema, { rules: [drop], save_file: 'arptables.rules' })).toContain('save_file');
    expect(arptables.schema.safeParse({ rules: [drop, mangle], state: 'absent' }).success).toBe(true);
  });

  it('fails the task when arptables-save cannot read the tables', () => {
    // Real output: the probe run as nobody in a namespace on this machine (arptables 0.0.5).
    const message = "arptables v0.0.5: can't initialize arptables table `filter': Permission denied (you must be root)\nPerhaps arptables or your kernel needs to be upgraded.\n";
    const spec = arptables.schema.parse({ rules: [drop] });
    const facts = arptables.parse({ stdout: `A 255 ${Buffer.from(message).toString('base64')}\nF-\n`, status: 0 }, spec);
    expect(facts.error).toBe(message.trim());
    expect(() => arptables.plan(spec, facts, host)).toThrow(`arptables-save failed on rs1: arptables v0.0.5: can't initialize`);
  });

  it('never takes a rule with more conditions, or a negated one, for a managed rule', () => {
    expect(lineKey('-A INPUT -j DROP -d 198.51.100.50 ')).toBe('INPUT DROP s= d=198.51.100.50 m=');
    expect(lineKey('-A INPUT -d 198.51.100.50/255.255.255.255 -j DROP')).toBe('INPUT DROP s= d=198.51.100.50 m=');
    expect(lineKey('-A INPUT -j DROP ! -d 198.51.100.50 ')).toBeNull();
    expect(lineKey('-A INPUT -j DROP -d 198.51.100.50 -i eth0 ')).toBeNull();
    expect(lineKey('-A INPUT -j DROP -s 192.0.2.0/24 -d 198.51.100.51 ')).toBe('INPUT DROP s=192.0.2.0/24 d=198.51.100.51 m=');
    expect(lineKey('-A OUTPUT -j mangle -s 198.51.100.60 --mangle-ip-s 192.0.2.11 --mangle-target DROP ')).toBeNull();
    expect(lineKey('-A OUTPUT -j mangle -s 198.51.100.61 --mangle-ip-s 192.0.2.11 --mangle-target ACCEPT')).toBe('OUTPUT mangle s=198.51.100.61 d= m=192.0.2.11');
  });
});
