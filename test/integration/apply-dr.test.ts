import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labAvailability, skipLabSuite, type Lab } from '../../src/lab/netns/index.js';
import { parseJson, runCli } from '../support/cli.js';
import { drInventory, startDrLab, VIP, writeInventory } from '../support/dr-lab.js';
import { labSh } from '../support/lab-sh.js';

// lvsprov against real sshd on network-namespace hosts. Everything it did is read back through
// nsenter (lab.exec), a path that shares nothing with lvsprov's SSH transport.

const availability = labAvailability();
const limit = ['--limit', 'routers,realservers'];

describe.skipIf(skipLabSuite(availability))(`apply on real hosts (${availability.reason})`, () => {
  let lab: Lab;
  let dir: string;
  let inventory: string;

  const sh = (host: string, script: string): Promise<string> => labSh(lab, host, script);
  const apply = (...args: string[]) => runCli(['apply', '-i', inventory, ...limit, ...args], { namespace: lab.controlNamespace });
  /** Everything the roles touch, for "nothing changed" comparisons. */
  const snapshot = async (): Promise<string> => {
    const parts = await Promise.all(
      ['router', 'rs1', 'rs2'].map((host) =>
        sh(
          host,
          'ip -o -4 addr; ip -4 route show table all; sysctl net.ipv4.ip_forward net.ipv4.conf.all.arp_ignore net.ipv4.conf.all.arp_announce ' +
            'net.ipv4.conf.lo.arp_ignore net.ipv4.conf.lo.arp_announce; ls -la /etc/sysctl.d /var/www 2>&1; cat /etc/sysctl.d/*lvsprov* /var/www/lvsprov/* 2>&1; ls /run; ' +
            // The boot hooks: their files and the links that make sysvinit run them.
            'cat /etc/lvsprov/* /etc/init.d/lvsprov-* 2>&1; ls -d /etc/rc?.d/*lvsprov-* 2>&1; true',
        ).then((text) => `## ${host}\n${text}`),
      ),
    );
    return parts.join('\n');
  };

  beforeAll(async () => {
    if (!availability.ok) throw new Error(`the netns lab is unavailable in CI: ${availability.reason}`);
    ({ lab, dir } = await startDrLab('itdr'));
    inventory = writeInventory(dir, 'inventory.yaml', drInventory(lab));
  });

  afterAll(async () => {
    const report = await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
    expect(report?.leftovers ?? []).toEqual([]);
  });

  it('first apply provisions router and real servers over one connection and two execs per host', async () => {
    const result = await apply('--json');
    const json = parseJson(result);
    expect(result.code, result.stderr).toBe(0);
    expect(json.hosts.map((host) => [host.host, host.status, host.stats])).toEqual([
      ['router', 'changed', { connections: 1, channels: 1, execs: 2 }],
      ['rs1', 'changed', { connections: 1, channels: 1, execs: 2 }],
      ['rs2', 'changed', { connections: 1, channels: 1, execs: 2 }],
    ]);

    // The router forwards and routes the VIP to its LAN port, at runtime and persisted.
    expect((await sh('router', 'sysctl -n net.ipv4.ip_forward')).trim()).toBe('1');
    expect(await sh('router', 'cat /etc/sysctl.d/90-lvsprov-router.conf')).toContain('net.ipv4.ip_forward = 1');
    expect((await sh('router', `ip -4 route show exact ${VIP}/32`)).trim()).toBe(`${VIP} dev eth1 scope link`);

    for (const host of ['rs1', 'rs2']) {
      // The VIP on lo with the seeds' label, ARP suppressed on all and lo, persisted.
      expect(await sh(host, 'ip -o -4 addr show dev lo')).toMatch(new RegExp(`inet ${VIP.replace(/\./g, '\\.')}/32 scope global lo:0`));
      for (const key of ['all', 'lo']) {
        expect((await sh(host, `sysctl -n net.ipv4.conf.${key}.arp_ignore`)).trim()).toBe('1');
        expect((await sh(host, `sysctl -n net.ipv4.conf.${key}.arp_announce`)).trim()).toBe('2');
      }
      expect(await sh(host, 'cat /etc/sysctl.d/90-lvsprov-realserver-dr.conf')).toContain('net.ipv4.conf.all.arp_ignore = 1');
      // The test page names the host and a real web server serves it.
      const page = await lab.runInControl(['curl', '-s', '--max-time', '5', `http://${host === 'rs1' ? '192.0.2.11' : '192.0.2.12'}/`]);
      expect(page.stdout).toContain(`<h1>${host}</h1>`);
    }
  });

  it('a second apply changes nothing: one read, no apply', async () => {
    const json = parseJson(await apply('--json'));
    expect(json.exitCode).toBe(0);
    expect(json.hosts.map((host) => [host.host, host.status, host.changes.length, host.stats])).toEqual([
      ['router', 'ok', 0, { connections: 1, channels: 1, execs: 1 }],
      ['rs1', 'ok', 0, { connections: 1, channels: 1, execs: 1 }],
      ['rs2', 'ok', 0, { connections: 1, channels: 1, execs: 1 }],
    ]);
  });

  it('--check --diff shows hand-made drift exactly and touches nothing; apply repairs only the drift', async () => {
    await sh('rs1', 'sysctl -q -w net.ipv4.conf.all.arp_ignore=0');
    await sh('rs2', `ip addr del ${VIP}/32 dev lo`);
    await sh('router', "printf 'net.ipv4.ip_forward = 0\\n' >> /etc/sysctl.d/90-lvsprov-router.conf");
    const before = await snapshot();

    const check = await apply('--check', '--diff');
    expect(check.code, check.stderr).toBe(0);
    expect(await snapshot()).toBe(before);
    expect(check.stdout).toContain('rs1: 1 would change');
    expect(check.stdout).toContain('set net.ipv4.conf.all.arp_ignore 0 -> 1');
    expect(check.stdout).toMatch(/rs2: 1 would change\n {2}~ address 198\.51\.100\.50 on lo: \(absent\) -> 198\.51\.100\.50\/32 label lo:0/);
    // Progress lines go to stderr only; stdout holds the plan and the recap.
    expect(check.stderr).toContain('rs1: would change (1 change)');
    expect(check.stdout).not.toContain('rs1: would change (1 change)');
    expect(check.stdout).toContain('router: 1 would change');
    // The unified diff of the sysctl file shows the line that will go.
    expect(check.stdout).toMatch(/--- .*90-lvsprov-router\.conf \(current\)/);
    expect(check.stdout).toContain('-net.ipv4.ip_forward = 0');
    expect(check.stdout).toContain('RECAP (check: nothing was changed)');

    // --exit-code makes pending changes an exit status (6) a cron job or CI can act on; -v shows
    // the commands each change would run.
    const alarm = await apply('--check', '--exit-code', '-v');
    expect(alarm.code, alarm.stderr).toBe(6);
    expect(alarm.stdout).toMatch(/~ set net\.ipv4\.conf\.all\.arp_ignore 0 -> 1 .*\n(?: {6}\$ .*\n)* {6}\$ .*> \/proc\/sys\/net\/ipv4\/conf\/all\/arp_ignore/);
    expect(await snapshot()).toBe(before);

    const dryRun = parseJson(await apply('--dry-run', '--json'));
    expect(dryRun.hosts.map((host) => host.changes.length)).toEqual([1, 1, 1]);
    expect(await snapshot()).toBe(before);

    const repair = parseJson(await apply('--json'));
    expect(repair.hosts.map((host) => [host.host, host.status, host.changes.map((change) => change.resource)])).toEqual([
      ['router', 'changed', ['file /etc/sysctl.d/90-lvsprov-router.conf']],
      ['rs1', 'changed', ['sysctl net.ipv4.conf.all.arp_ignore']],
      ['rs2', 'changed', [expect.stringContaining(VIP)]],
    ]);
    expect((await sh('rs1', 'sysctl -n net.ipv4.conf.all.arp_ignore')).trim()).toBe('1');
    expect(await sh('rs2', 'ip -o -4 addr show dev lo')).toContain(`${VIP}/32`);
    expect(parseJson(await apply('--json')).hosts.every((host) => host.status === 'ok')).toBe(true);
    expect((await apply('--check', '--exit-code')).code).toBe(0);
  });

  it('a copy of the VIP on a real server\'s eth0 is drift: --check --diff and status show it, apply removes it and only it', async () => {
    // As an old setup leaves it: the VIP on eth0, where arp_ignore lets the host answer ARP for it.
    await sh('rs1', `ip addr add ${VIP}/24 dev eth0 label eth0:9`);
    const before = await snapshot();

    const check = await apply('--check', '--diff');
    expect(check.code, check.stderr).toBe(0);
    expect(await snapshot()).toBe(before);
    expect(check.stdout).toMatch(/rs1: 1 would change\n {2}~ address 198\.51\.100\.50 on eth0 \(belongs on lo only\): 198\.51\.100\.50\/24 label eth0:9 -> \(absent\)/);
    expect(check.stdout).not.toMatch(/rs2: \d+ would change/);

    const status = await runCli(['status', '-i', inventory, ...limit], { namespace: lab.controlNamespace });
    expect(status.stdout).toMatch(/~ address 198\.51\.100\.50 on eth0 \(belongs on lo only\): 198\.51\.100\.50\/24 label eth0:9 -> \(absent\) +\[realserver-dr: VIP 198\.51\.100\.50 on no other device\]/);

    const repair = parseJson(await apply('--json'));
    expect(repair.hosts.map((host) => [host.host, host.status, host.changes.map((change) => change.resource)])).toEqual([
      ['router', 'ok', []],
      ['rs1', 'changed', [`address ${VIP} on eth0`]],
      ['rs2', 'ok', []],
    ]);
    // Read back from the kernel: the VIP only on lo, under its label; rs1's own address untouched.
    // `ip -o` ends each address's line with a backslash and its lifetimes: the label is the word before.
    expect((await sh('rs1', `ip -o -4 addr show to ${VIP}/32 | sed 's/\\\\.*//' | awk '{print $2, $4, $NF}'`)).trim()).toBe(`lo ${VIP}/32 lo:0`);
    expect(await sh('rs1', 'ip -o -4 addr show dev eth0')).toMatch(/inet 192\.0\.2\.11\/24 /);
    expect(parseJson(await apply('--json')).hosts.every((host) => host.status === 'ok')).toBe(true);
  });

  it('-v prints the commands of each change; -vv adds each exec with its exit status and output; -vvv adds the SSH layer', async () => {
    await sh('rs1', 'sysctl -q -w net.ipv4.conf.all.arp_ignore=0');
    const command = /~ set net\.ipv4\.conf\.all\.arp_ignore 0 -> 1 .*\n(?: {6}\$ .*\n)* {6}\$ .*> \/proc\/sys\/net\/ipv4\/conf\/all\/arp_ignore/;
    const exec = /^rs1: exec 1 script:\n(?:rs1\| {3}.*\n)*rs1\| {3}.*net\.ipv4\.conf\.all\.arp_ignore.*\n(?:rs1\| {3}.*\n)*rs1: exec 1 exit status 0\nrs1: exec 1 stdout:\n(?:rs1\| {3}.*\n)+/m;
    const ssh = [/^rs1: ssh: Handshake: \(local\) KEX method: /m, /^rs1: ssh: Outbound: Sending USERAUTH_REQUEST \(publickey\)$/m, /^rs1: ssh: Inbound: Received USERAUTH_SUCCESS$/m];

    const v1 = await apply('--check', '-v');
    expect(v1.code, v1.stderr).toBe(0);
    expect(v1.stdout).toMatch(command);
    expect(v1.stderr).not.toMatch(/exec 1 script:|: ssh: /);

    const v2 = await apply('--check', '-vv');
    expect(v2.code, v2.stderr).toBe(0);
    expect(v2.stdout).toMatch(command);
    // Each host's one read exec, with what it printed; --check runs no other.
    for (const host of ['router', 'rs1', 'rs2']) expect(v2.stderr).toContain(`${host}: exec 1 exit status 0`);
    expect(v2.stderr).toMatch(exec);
    expect(v2.stderr).not.toMatch(/exec 2 script:|: ssh: /);

    const v3 = await apply('--check', '-vvv');
    expect(v3.code, v3.stderr).toBe(0);
    expect(v3.stderr).toMatch(exec);
    for (const line of ssh) expect(v3.stderr).toMatch(line);

    // --json is the same document at every level; the traces stay on stderr.
    const json = await apply('--check', '--json', '-vv');
    expect(parseJson(json).hosts.map((host) => host.changes.length)).toEqual([0, 1, 0]);
    expect(json.stderr).toMatch(exec);

    // An apply's second exec is traced too, with its commands.
    const repair = await apply('-vv');
    expect(repair.code, repair.stderr).toBe(0);
    expect(repair.stderr).toMatch(/^rs1: exec 2 script:\n(?:rs1\| {3}.*\n)*rs1\| {3}.*\/proc\/sys\/net\/ipv4\/conf\/all\/arp_ignore.*\n(?:rs1\| {3}.*\n)*rs1: exec 2 exit status 0$/m);
    expect((await sh('rs1', 'sysctl -n net.ipv4.conf.all.arp_ignore')).trim()).toBe('1');
  });

  it('--check shows a boot hook that lost its links and touches nothing; apply links it again', async () => {
    await sh('rs1', 'update-rc.d -f lvsprov-realserver-dr remove >/dev/null');
    expect(await sh('rs1', 'ls /etc/rc2.d')).not.toContain('lvsprov-realserver-dr');
    const before = await snapshot();

    const check = await apply('--check', '--diff');
    expect(check.code, check.stderr).toBe(0);
    expect(await snapshot()).toBe(before);
    expect(check.stdout).toMatch(/rs1: 1 would change\n {2}~ run lvsprov-realserver-dr at boot/);

    const repair = parseJson(await apply('--json'));
    expect(repair.hosts.map((host) => [host.host, host.status, host.changes.map((change) => change.summary)])).toEqual([
      ['router', 'ok', []],
      ['rs1', 'changed', ['run lvsprov-realserver-dr at boot']],
      ['rs2', 'ok', []],
    ]);
    expect(await sh('rs1', 'ls /etc/rc2.d')).toMatch(/^S\d\dlvsprov-realserver-dr$/m);
    expect(parseJson(await apply('--json')).hosts.every((host) => host.status === 'ok')).toBe(true);
  });

  it('a boot hook someone disabled (K links) is started at boot again, by the real update-rc.d', async () => {
    await sh('rs1', 'update-rc.d lvsprov-realserver-dr disable >/dev/null');
    expect(await sh('rs1', 'ls /etc/rc2.d')).toMatch(/^K\d\dlvsprov-realserver-dr$/m);

    const repair = parseJson(await apply('--json'));
    expect(repair.hosts.map((host) => [host.host, host.status, host.changes.map((change) => change.summary)])).toEqual([
      ['router', 'ok', []],
      ['rs1', 'changed', ['run lvsprov-realserver-dr at boot']],
      ['rs2', 'ok', []],
    ]);
    for (const level of ['2', '3', '4', '5']) expect(await sh('rs1', `ls /etc/rc${level}.d`)).toMatch(/^S\d\dlvsprov-realserver-dr$/m);
    expect(await sh('rs1', 'ls /etc/rc?.d')).not.toMatch(/K\d\dlvsprov-realserver-dr/);
    expect(parseJson(await apply('--json')).hosts.every((host) => host.status === 'ok')).toBe(true);
  });

  it('a boot hook linked in one runlevel only, or by a K link only, is not enabled: --check shows it; apply makes the links update-rc.d makes from its header', async () => {
    const hook = 'lvsprov-realserver-dr';
    const links = async (): Promise<string[]> => (await sh('rs1', `ls -d /etc/rc?.d/*${hook} 2>/dev/null; true`)).trim().split('\n').filter((line) => line !== '');
    const everyLevel = ['2', '3', '4', '5'].map((level) => `/etc/rc${level}.d/S01${hook}`);
    expect(await links()).toEqual(everyLevel);
    for (const partial of [`/etc/rc3.d/S01${hook}`, `/etc/rc2.d/K01${hook}`]) {
      await sh('rs1', `update-rc.d -f ${hook} remove >/dev/null && ln -s ../init.d/${hook} ${partial}`);
      const before = await snapshot();
      const check = await apply('--check');
      expect(check.code, check.stderr).toBe(0);
      expect(check.stdout).toMatch(new RegExp(`rs1: 1 would change\\n {2}~ run ${hook} at boot`));
      expect(await snapshot()).toBe(before);

      const repair = parseJson(await apply('--json'));
      expect(repair.hosts.map((host) => [host.host, host.status, host.changes.map((change) => change.summary)])).toEqual([
        ['router', 'ok', []],
        ['rs1', 'changed', [`run ${hook} at boot`]],
        ['rs2', 'ok', []],
      ]);
      expect(await links()).toEqual(everyLevel);
      expect(parseJson(await apply('--json')).hosts.every((host) => host.status === 'ok')).toBe(true);
    }
  });

  it('refuses an unknown host key, and records it with --accept-new-host-keys', async () => {
    const emptyKnownHosts = join(dir, 'known_hosts_empty');
    writeFileSync(emptyKnownHosts, '');
    const strict = writeInventory(dir, 'inventory-unknown.yaml', drInventory(lab, { knownHosts: emptyKnownHosts }));
    const refused = await runCli(['apply', '-i', strict, ...limit, '--json'], { namespace: lab.controlNamespace });
    const json = parseJson(refused);
    expect(refused.code).toBe(3);
    expect(json.hosts.every((host) => host.status === 'unreachable' && /is not in .*known_hosts_empty/.test(host.error?.message ?? ''))).toBe(true);
    expect(readFileSync(emptyKnownHosts, 'utf8')).toBe('');

    const accepted = await runCli(['apply', '-i', strict, ...limit, '--json', '--accept-new-host-keys'], { namespace: lab.controlNamespace });
    expect(accepted.code, accepted.stdout).toBe(0);
    const recorded = readFileSync(emptyKnownHosts, 'utf8').trim().split('\n');
    expect(recorded).toHaveLength(3);
    // A later run without the flag now succeeds against what was recorded.
    expect((await runCli(['apply', '-i', strict, ...limit, '--json'], { namespace: lab.controlNamespace })).code).toBe(0);
  });

  it('refuses a changed host key with both fingerprints, and the other hosts still run', async () => {
    const knownHosts = join(dir, 'known_hosts_before_change');
    copyFileSync(lab.knownHostsPath, knownHosts);
    const pinned = writeInventory(dir, 'inventory-changed.yaml', drInventory(lab, { knownHosts, weights: [2, 4] }));
    await lab.restartSshdWithNewKey('rs1');
    const result = await runCli(['apply', '-i', pinned, ...limit, '--json', '--accept-new-host-keys'], { namespace: lab.controlNamespace });
    const json = parseJson(result);
    expect(result.code).toBe(3);
    const rs1 = json.hosts.find((host) => host.host === 'rs1');
    expect(rs1?.status).toBe('unreachable');
    expect(rs1?.error?.message).toMatch(/HOST KEY CHANGED: the host presented SHA256:\S+ but .* records ssh-ed25519 SHA256:\S+/);
    const [presented, recorded] = [...(rs1?.error?.message ?? '').matchAll(/SHA256:[A-Za-z0-9+/]+/g)].map((match) => match[0]);
    expect(presented).not.toBe(recorded);
    expect(json.hosts.filter((host) => host.host !== 'rs1').map((host) => host.status)).toEqual(['ok', 'ok']);
    await lab.writeKnownHosts();
  });

  it('a change that fails on one host fails that host (exit 2) with the command output; the others still converge', async () => {
    const playbook = join(dir, 'failing.yaml');
    writeFileSync(
      playbook,
      [
        '- hosts: rs1',
        '  tasks:',
        '    - name: a gateway that is not on any connected network',
        '      route: { destination: 203.0.113.0/24, via: 198.18.7.7 }',
        '    - name: never reached on rs1',
        '      file: { path: /etc/lvsprov-after-failure, content: "x" }',
        '- hosts: rs2',
        '  tasks:',
        '    - name: a plain file',
        '      file: { path: /etc/lvsprov-after-failure, content: "x" }',
        '',
      ].join('\n'),
    );
    const text = await runCli(['apply', '-i', inventory, '-p', playbook], { namespace: lab.controlNamespace });
    expect(text.code).toBe(2);
    expect(text.stdout).toMatch(/rs1: failed: .*203\.0\.113\.0\/24.* failed \(exit 2\)/);
    expect(text.stdout).toMatch(/Nexthop has invalid gateway|Network is unreachable/);
    expect(text.stdout).toMatch(/ {2}\s+.*\(not run\)/);
    // The plan section (rs1's part of each wave) and the recap give the same counts for the failed host.
    expect(text.stdout).toMatch(/^rs1: 0 changed, 1 failed, \d+ not run \(of \d+ planned\)$/m);
    const waveParts = [...text.stdout.matchAll(/^rs1: (\d+) changed(?:, (\d+) failed)?(?:, (\d+) not run)?(?: \(of \d+ planned\))?$/gm)];
    const sum = (group: number): number => waveParts.reduce((total, part) => total + Number(part[group] ?? 0), 0);
    const [changed, notRun] = [sum(1), sum(3)];
    expect(sum(2), text.stdout).toBe(1);
    expect(text.stdout).toMatch(new RegExp(`^rs1 +: failed +ok=0 {2}changed=${changed} {2}failed=1 {2}not-run=${notRun} `, 'm'));
    expect((await lab.exec('rs1', ['test', '-e', '/etc/lvsprov-after-failure'])).code).toBe(1);
    expect((await lab.exec('rs2', ['cat', '/etc/lvsprov-after-failure'])).stdout).toBe('x');
    await lab.exec('rs2', ['rm', '/etc/lvsprov-after-failure']);
  });

  it('invalid input exits 4 before any host is contacted', async () => {
    const before = await snapshot();
    const broken = writeInventory(dir, 'inventory-broken.yaml', { ...drInventory(lab, { weights: [2, 99999] }) });
    const result = await runCli(['apply', '-i', broken, ...limit], { namespace: lab.controlNamespace });
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/inventory-broken\.yaml:\d+:\d+: lvs\.services\.0\.real_servers\.1\.weight: expected an integer 0-65535, got 99999/);
    expect(result.stderr).toContain('no host was contacted');
    expect(await snapshot()).toBe(before);
  });

  it("a web server whose port changed is not restarted while it is weighted (exit 2, it keeps serving); at weight 0 it restarts in the retire wave; a re-run changes nothing", async () => {
    const withRs1 = (weights: [number, number], port: number): string => {
      const base = drInventory(lab, { weights });
      const hosts = base.hosts as Record<string, Record<string, unknown>>;
      return writeInventory(dir, `inventory-rs1-${weights.join('-')}-${port}.yaml`, { ...base, hosts: { ...hosts, rs1: { ...hosts.rs1, vars: { web_port: port } } } });
    };
    const listening = async (host: string): Promise<string[]> =>
      [...new Set((await sh(host, "ss -ltnH | awk '{print $4}'")).trim().split('\n').map((address) => address.slice(address.lastIndexOf(':') + 1)))].filter((port) => port !== '22').sort();
    expect((await apply()).code).toBe(0);
    expect(await listening('rs1')).toEqual(['80']);

    const refused = await runCli(['apply', '-i', withRs1([2, 4], 8080), ...limit], { namespace: lab.controlNamespace });
    expect(refused.code, refused.stdout + refused.stderr).toBe(2);
    expect(refused.stdout).toMatch(/rs1: failed: .*service lvsprov-web runs with other arguments than declared \(\/bin\/busybox httpd -f -p 80 .* -> \/bin\/busybox httpd -f -p 8080 /);
    expect(refused.stdout).toContain("Set rs1's weight to 0 in the services that list it and apply");
    expect(refused.stdout).toMatch(/^rs2 +: ok /m);
    expect(await listening('rs1')).toEqual(['80']);

    const quiesced = withRs1([0, 4], 8080);
    const check = await runCli(['apply', '-i', quiesced, ...limit, '--check', '--diff'], { namespace: lab.controlNamespace });
    expect(check.stdout).toContain('restart lvsprov-web (start-stop-daemon): its arguments changed');
    expect(check.stdout).toContain('-p 80 -h /var/www/lvsprov');
    expect(await listening('rs1')).toEqual(['80']);
    const restarted = await runCli(['apply', '-i', quiesced, ...limit, '--json'], { namespace: lab.controlNamespace });
    expect(restarted.code, restarted.stderr).toBe(0);
    const report = parseJson(restarted) as unknown as { hosts: Array<{ host: string; changes: Array<{ summary: string; phase: string }> }> };
    const rs1Changes = report.hosts.find((entry) => entry.host === 'rs1')?.changes ?? [];
    expect(rs1Changes.filter((change) => change.summary.startsWith('restart')).map((change) => change.phase)).toEqual(['retire']);
    expect(await listening('rs1')).toEqual(['8080']);
    const again = await runCli(['apply', '-i', quiesced, ...limit, '--check', '--exit-code', '--diff'], { namespace: lab.controlNamespace });
    expect(again.code, again.stdout).toBe(0);

    // Back as it was: port 80 at weight 0, then the weights.
    expect((await runCli(['apply', '-i', withRs1([0, 4], 80), ...limit], { namespace: lab.controlNamespace })).code).toBe(0);
    expect(await listening('rs1')).toEqual(['80']);
    const settled = await apply('--check', '--exit-code', '--diff');
    expect(settled.code, settled.stdout).toBe(0);
  });

  it('a service added ahead of the others adds its VIP and leaves the VIP already on lo untouched, under its label; removing it again too', async () => {
    // Labels are numbered in VIP order, so the new service's VIP would take lo:0 from the old
    // one; a relabel is a delete and an add, and packets to the VIP in between would be dropped.
    const added = '198.51.100.60';
    const base = drInventory(lab);
    const lvs = base.lvs as { vips: Record<string, unknown>; services: Array<Record<string, unknown>> };
    const withAdded = writeInventory(dir, 'inventory-vip-ahead.yaml', {
      ...base,
      lvs: { vips: { ...lvs.vips, api: { address: added } }, services: [{ ...lvs.services[0], vip: 'api', port: 8000 }, ...lvs.services] },
    });
    const monitor = async (): Promise<string> => (await sh('rs1', 'nohup ip -ts monitor address dev lo > /tmp/lo-mon.log 2>&1 < /dev/null & echo $!')).trim();
    const events = async (pid: string): Promise<string[]> => {
      await sh('rs1', `kill ${pid}`);
      return (await sh('rs1', 'cat /tmp/lo-mon.log')).split('\n').filter((line) => line.includes(' inet '));
    };
    /** `ADDRESS/LEN LABEL` of each address on rs1's lo (`ip -o` ends the label's line at a backslash). */
    const lo = async (): Promise<string[]> =>
      (await sh('rs1', 'ip -o -4 addr show dev lo'))
        .trim()
        .split('\n')
        .map((line) => {
          const words = (line.split('\\')[0] ?? '').trim().split(/\s+/);
          return `${words[3]} ${words[words.length - 1]}`;
        })
        .sort();

    let pid = await monitor();
    const grown = await runCli(['apply', '-i', withAdded, ...limit], { namespace: lab.controlNamespace });
    expect(grown.code, grown.stdout + grown.stderr).toBe(0);
    const grownEvents = await events(pid);
    expect(grownEvents.filter((line) => line.includes(` ${VIP}/32 `))).toEqual([]);
    expect(grownEvents.filter((line) => line.includes(` ${added}/32 `) && !line.includes('Deleted'))).toHaveLength(1);
    expect(await lo()).toEqual([`${added}/32 lo:1`, '127.0.0.1/8 lo', `${VIP}/32 lo:0`].sort());
    const again = await runCli(['apply', '-i', withAdded, ...limit, '--check', '--exit-code', '--diff'], { namespace: lab.controlNamespace });
    expect(again.code, again.stdout).toBe(0);

    pid = await monitor();
    expect((await apply()).code).toBe(0);
    const shrunkEvents = await events(pid);
    expect(shrunkEvents.filter((line) => line.includes(` ${VIP}/32 `))).toEqual([]);
    expect(shrunkEvents.filter((line) => line.includes(` ${added}/32 `) && line.includes('Deleted'))).toHaveLength(1);
    expect(await lo()).toEqual(['127.0.0.1/8 lo', `${VIP}/32 lo:0`].sort());
    const settled = await apply('--check', '--exit-code', '--diff');
    expect(settled.code, settled.stdout).toBe(0);
  });
});
