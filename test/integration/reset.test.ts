import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labAvailability, skipLabSuite, type Lab } from '../../src/lab/netns/index.js';
import { parseJson, runCli } from '../support/cli.js';
import { drInventory, startDrLab, VIP, writeInventory } from '../support/dr-lab.js';
import { labSh } from '../support/lab-sh.js';

// `lvsprov reset` against real sshd on network-namespace hosts: it must remove exactly what apply
// put there - nothing the test placed beside it beforehand - put every sysctl back to the value
// it had before, change nothing when run again, and leave hosts that a new apply rebuilds to the
// same state. Everything is read back through nsenter (lab.exec), not through lvsprov's SSH.

const availability = labAvailability();
const limit = ['--limit', 'routers,realservers'];
const hosts = ['router', 'rs1', 'rs2'] as const;
const SYSCTLS = [
  'net.ipv4.ip_forward',
  'net.ipv4.conf.all.arp_ignore',
  'net.ipv4.conf.all.arp_announce',
  'net.ipv4.conf.lo.arp_ignore',
  'net.ipv4.conf.lo.arp_announce',
  'net.ipv4.conf.eth0.log_martians',
];
const RECORDS = '/var/lib/lvsprov/sysctl-originals';
// As if another playbook had recorded a key of its own on rs1 before this one ran.
const FOREIGN_RECORD = 'net.ipv4.conf.eth0.log_martians=0\n';
const OPERATOR_FILE = '/etc/sysctl.d/50-operator.conf';

describe.skipIf(skipLabSuite(availability))(`reset on real hosts (${availability.reason})`, () => {
  let lab: Lab;
  let dir = '';
  let inventory: string;
  let pristine: string;
  let provisioned: string;
  const originals = new Map<string, string>();

  const sh = (host: string, script: string): Promise<string> => labSh(lab, host, script);
  const cli = (command: 'apply' | 'reset', ...args: string[]) => runCli([command, '-i', inventory, ...limit, ...args], { namespace: lab.controlNamespace });
  /** Addresses, routes, the sysctls in play, every file under the paths lvsprov writes, boot hooks, the web daemon. */
  const snapshot = async (): Promise<string> => {
    const parts = await Promise.all(
      hosts.map((host) =>
        sh(
          host,
          `ip -o -4 addr; ip -4 route show table all; sysctl ${SYSCTLS.join(' ')}; ` +
            'for f in $(find /etc/sysctl.d /etc/lvsprov /var/www /var/lib/lvsprov -type f 2>/dev/null | sort); do printf "== %s %s\\n" "$f" "$(stat -c %a "$f")"; cat "$f"; done; ' +
            'ls -d /etc/init.d/lvsprov-* /etc/rc?.d/*lvsprov-* 2>/dev/null; ' +
            // /run/lvsprov holds the run lock: every run, reset included, takes it, so no run can remove it.
            'ls /run | grep -vx lvsprov; if start-stop-daemon --status --pidfile /run/lvsprov-lvsprov-web.pid --exec /bin/busybox; then echo web running; else echo web stopped; fi',
        ).then((text) => `## ${host}\n${text}`),
      ),
    );
    return parts.join('\n');
  };
  const sysctlValue = async (host: string, name: string) => (await sh(host, `sysctl -n ${name}`)).trim();

  beforeAll(async () => {
    if (!availability.ok) throw new Error(`the netns lab is unavailable in CI: ${availability.reason}`);
    ({ lab, dir } = await startDrLab('itreset'));
    inventory = writeInventory(dir, 'inventory.yaml', drInventory(lab));

    // What an operator had there before lvsprov, and must still have after a reset.
    await sh('router', `ip route add 198.18.0.0/24 via 192.0.2.254 dev eth1; printf 'net.ipv4.conf.eth0.log_martians = 1\\n' > ${OPERATOR_FILE}`);
    await sh(
      'rs1',
      `ip addr add 198.18.1.11/32 dev lo label lo:7; sysctl -q -w net.ipv4.conf.eth0.log_martians=1; ` +
        `printf 'net.ipv4.conf.eth0.log_martians = 1\\n' > ${OPERATOR_FILE}; mkdir -p /var/lib/lvsprov; printf '${FOREIGN_RECORD.trim()}\\n' > ${RECORDS}`,
    );
    // Not the kernel default: reset must put back this value, which only the record knows.
    await sh('rs2', 'ip route add 198.18.2.0/24 via 192.0.2.254; sysctl -q -w net.ipv4.conf.lo.arp_announce=1');
    for (const host of hosts) for (const name of SYSCTLS) originals.set(`${host} ${name}`, await sysctlValue(host, name));
    pristine = await snapshot();
  });

  afterAll(async () => {
    const report = await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
    expect(report?.leftovers ?? []).toEqual([]);
  });

  it('apply provisions the cluster and records each sysctl it takes over, as it was', async () => {
    const result = await cli('apply', '--json');
    expect(result.code, result.stderr).toBe(0);
    expect(parseJson(result).hosts.map((host) => host.status)).toEqual(['changed', 'changed', 'changed']);
    expect(await sh('router', `cat ${RECORDS}`)).toBe(`net.ipv4.ip_forward=${originals.get('router net.ipv4.ip_forward')}\n`);
    const dr = ['all.arp_ignore', 'all.arp_announce', 'lo.arp_ignore', 'lo.arp_announce'].map((key) => `net.ipv4.conf.${key}`);
    for (const host of ['rs1', 'rs2']) {
      const recorded = dr.map((name) => `${name}=${originals.get(`${host} ${name}`)}\n`).join('');
      expect(await sh(host, `cat ${RECORDS}`)).toBe(`${host === 'rs1' ? FOREIGN_RECORD : ''}${recorded}`);
    }
    expect(await sh('rs2', `grep arp_announce ${RECORDS}`)).toContain('net.ipv4.conf.lo.arp_announce=1\n');
    provisioned = await snapshot();
    expect(provisioned).not.toBe(pristine);
  });

  it('reset --check --diff previews every removal and restore, and changes nothing', async () => {
    const check = await cli('reset', '--check', '--diff');
    expect(check.code, check.stderr).toBe(0);
    expect(await snapshot()).toBe(provisioned);
    const out = check.stdout;
    expect(out).toContain('router: 7 would change');
    expect(out).toContain('~ stop running lvsprov-router at boot');
    expect(out).toContain('~ remove /etc/init.d/lvsprov-router');
    expect(out).toContain(`-route replace ${VIP}/32 dev eth1`);
    expect(out).toContain(`~ route ${VIP}/32: dev eth1 -> (absent)`);
    expect(out).toContain('~ restore net.ipv4.ip_forward 1 -> 0');
    expect(out).toContain(`~ forget 1 recorded original in ${RECORDS}`);
    expect(out).toContain('rs1: 12 would change');
    // Addresses first (a VIP never outlives what guards it), then newest first: the web server
    // stops before its page goes.
    const rs1Changes = out.slice(out.indexOf('rs1: 12 would change')).split('\n').filter((line) => line.startsWith('  ~ '));
    expect(rs1Changes[0]).toMatch(new RegExp(`^  ~ address ${VIP.replace(/\./g, '\\.')} on lo: `));
    expect(rs1Changes[1]).toBe('  ~ stop lvsprov-web (start-stop-daemon)    [webpage: serve the test page]');
    expect(out.indexOf('~ stop lvsprov-web')).toBeLessThan(out.indexOf('~ remove /var/www/lvsprov/index.html'));
    expect(out).toContain('~ remove /var/www/lvsprov/index.html');
    expect(out).toContain('-<h1>rs1</h1>');
    expect(out).toContain(`~ address ${VIP} on lo: ${VIP}/32 label lo:0 -> (absent)`);
    expect(out).toContain('~ restore net.ipv4.conf.all.arp_ignore 1 -> 0');
    expect(out).toMatch(/--- .*90-lvsprov-realserver-dr\.conf \(current\)/);
    expect(out).toContain('-net.ipv4.conf.all.arp_ignore = 1');
    // The value only rs2's record holds.
    expect(out).toContain('~ restore net.ipv4.conf.lo.arp_announce 2 -> 1');
    expect(out).toContain('RECAP (check: nothing was changed)');

    const json = parseJson(await cli('reset', '--check', '--json'));
    expect(json.exitCode).toBe(0);
    expect(json.hosts.map((host) => [host.host, host.status, host.changes.length, host.stats])).toEqual([
      ['router', 'changed', 7, { connections: 1, channels: 1, execs: 1 }],
      ['rs1', 'changed', 12, { connections: 1, channels: 1, execs: 1 }],
      ['rs2', 'changed', 12, { connections: 1, channels: 1, execs: 1 }],
    ]);
    expect(await snapshot()).toBe(provisioned);
  });

  it('reset removes exactly what apply added, over one read and one apply per host', async () => {
    const result = await cli('reset', '--json', '--yes');
    expect(result.code, result.stderr).toBe(0);
    const json = parseJson(result);
    expect(json.hosts.map((host) => [host.host, host.status, host.applied, host.stats])).toEqual([
      ['router', 'changed', 7, { connections: 1, channels: 1, execs: 2 }],
      ['rs1', 'changed', 12, { connections: 1, channels: 1, execs: 2 }],
      ['rs2', 'changed', 12, { connections: 1, channels: 1, execs: 2 }],
    ]);

    // Byte for byte what the hosts held before the first apply: addresses, routes, sysctls, files.
    expect(await snapshot()).toBe(pristine);

    expect((await sh('router', `ip -4 route show exact ${VIP}/32`)).trim()).toBe('');
    expect(await sh('router', 'ip -4 route show 198.18.0.0/24')).toContain('via 192.0.2.254');
    expect(await sh('rs2', 'ip -4 route show 198.18.2.0/24')).toContain('via 192.0.2.254');
    for (const host of hosts) {
      expect(await sh(host, 'ls /etc/sysctl.d /etc/init.d /etc/rc2.d /etc/rcS.d')).not.toContain('lvsprov');
      for (const name of SYSCTLS) expect(`${host} ${name}=${await sysctlValue(host, name)}`).toBe(`${host} ${name}=${originals.get(`${host} ${name}`)}`);
    }
    expect(await sysctlValue('rs2', 'net.ipv4.conf.lo.arp_announce')).toBe('1');
    expect(await sysctlValue('rs1', 'net.ipv4.conf.eth0.log_martians')).toBe('1');
    expect(await sh('router', `cat ${OPERATOR_FILE}`)).toBe('net.ipv4.conf.eth0.log_martians = 1\n');
    // The record file goes with its last line; rs1 keeps the line another playbook recorded.
    expect(await sh('rs1', `cat ${RECORDS}`)).toBe(FOREIGN_RECORD);
    expect((await lab.exec('router', ['test', '-e', '/var/lib/lvsprov'])).code).toBe(1);
    for (const [host, address] of [['rs1', '192.0.2.11'], ['rs2', '192.0.2.12']] as const) {
      const lo = await sh(host, 'ip -o -4 addr show dev lo');
      expect(lo).not.toContain(VIP);
      if (host === 'rs1') expect(lo).toContain('198.18.1.11/32 scope global lo:7');
      expect((await lab.exec(host, ['test', '-e', '/var/www/lvsprov/index.html'])).code).toBe(1);
      // Stopped, not merely unlisted: nothing answers on the web port any more.
      const curl = await lab.runInControl(['curl', '-s', '--max-time', '5', `http://${address}/`]);
      expect(curl.code).toBe(7);
      // The web root directory stays (empty): `mkdir -p` never said whether lvsprov created it.
      expect(await sh(host, 'find /var/www -mindepth 1')).toBe('/var/www/lvsprov\n');
    }
  });

  it('a second reset changes nothing: one read, no apply', async () => {
    const json = parseJson(await cli('reset', '--json', '--yes'));
    expect(json.exitCode).toBe(0);
    expect(json.hosts.map((host) => [host.host, host.status, host.changes.length, host.stats])).toEqual([
      ['router', 'ok', 0, { connections: 1, channels: 1, execs: 1 }],
      ['rs1', 'ok', 0, { connections: 1, channels: 1, execs: 1 }],
      ['rs2', 'ok', 0, { connections: 1, channels: 1, execs: 1 }],
    ]);
    expect(await snapshot()).toBe(pristine);
  });

  it('apply after reset rebuilds exactly the state of the first apply', async () => {
    const result = await cli('apply', '--json');
    expect(result.code, result.stderr).toBe(0);
    expect(parseJson(result).hosts.map((host) => host.status)).toEqual(['changed', 'changed', 'changed']);
    expect(await snapshot()).toBe(provisioned);
    const page = await lab.runInControl(['curl', '-s', '--max-time', '5', 'http://192.0.2.12/']);
    expect(page.stdout).toContain('<h1>rs2</h1>');
  });
});
