import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labAvailability, skipLabSuite, type Lab } from '../../src/lab/netns/index.js';
import { parseJson, runCli } from '../support/cli.js';
import { drInventory, startDrLab, VIP, writeInventory } from '../support/dr-lab.js';
import { labSh } from '../support/lab-sh.js';

// `become`: operators log in as an ordinary user and let sudo make them root, as Ansible's
// `become: true` does. Real users on real sshd hosts (each with its own /etc/passwd and
// /etc/sudoers.d in its overlay), real sudo: `deploy` may run anything without a password,
// `nosudo` may not use sudo at all. Everything is read back through nsenter, as root.

const availability = labAvailability();
const hosts = ['rs1', 'rs2'] as const;

describe.skipIf(skipLabSuite(availability))(`become: a non-root login and sudo (${availability.reason})`, () => {
  let lab: Lab;
  let dir = '';
  const sh = (host: string, script: string): Promise<string> => labSh(lab, host, script);
  const applyAs = (user: string, become: boolean, ...args: string[]) => {
    const base = drInventory(lab) as { ssh: Record<string, unknown> };
    const inventory = writeInventory(dir, `inventory-${user}-${become}.yaml`, { ...base, ssh: { ...base.ssh, user, become } });
    return runCli(['apply', '-i', inventory, '--limit', 'realservers', ...args], { namespace: lab.controlNamespace });
  };

  beforeAll(async () => {
    if (!availability.ok) throw new Error(`the netns lab is unavailable in CI: ${availability.reason}`);
    ({ lab, dir } = await startDrLab('itbecome'));
    for (const host of hosts) {
      // `*`, not useradd's locked `!`: with UsePAM no, sshd refuses logins to locked accounts.
      await sh(
        host,
        "useradd -m -s /bin/sh -p '*' deploy && useradd -m -s /bin/sh -p '*' nosudo && " +
          "printf 'deploy ALL=(ALL) NOPASSWD: ALL\\n' > /etc/sudoers.d/deploy && chmod 440 /etc/sudoers.d/deploy",
      );
    }
  });

  afterAll(async () => {
    const report = await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
    expect(report?.leftovers ?? []).toEqual([]);
  });

  it('without become, the same login cannot change the hosts: each fails (exit 2) on permissions', async () => {
    const result = await applyAs('deploy', false, '--json');
    expect(result.code, result.stderr).toBe(2);
    const json = parseJson(result);
    expect(json.hosts.map((host) => [host.host, host.status])).toEqual(hosts.map((host) => [host, 'failed']));
    for (const host of json.hosts) {
      // The host lock, taken by the read before any change, is the first thing a non-root login cannot write.
      expect(host.error?.message).toBe('cannot lock the host: cannot write /run/lvsprov/run.lock');
    }
    for (const host of hosts) expect(await sh(host, 'ip -o -4 addr show dev lo')).not.toContain(VIP);
  });

  it('with become, the non-root login provisions the real servers through sudo -n, files owned by root', async () => {
    const result = await applyAs('deploy', true, '--json');
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(parseJson(result).hosts.map((host) => [host.host, host.status, host.stats])).toEqual(
      hosts.map((host) => [host, 'changed', { connections: 1, channels: 1, execs: 2 }]),
    );
    for (const host of hosts) {
      expect(await sh(host, 'ip -o -4 addr show dev lo')).toContain(`inet ${VIP}/32 scope global lo:0`);
      expect((await sh(host, 'sysctl -n net.ipv4.conf.all.arp_ignore')).trim()).toBe('1');
      expect(await sh(host, 'stat -c %U:%G:%a /etc/sysctl.d/90-lvsprov-realserver-dr.conf /etc/lvsprov/realserver-dr.ip /var/www/lvsprov/index.html')).toBe(
        'root:root:644\nroot:root:644\nroot:root:644\n',
      );
      // The web server runs as root too: started by the sudo'd script, not by deploy.
      expect((await sh(host, 'ps -o user= -p "$(cat /run/lvsprov-lvsprov-web.pid)"')).trim()).toBe('root');
    }
  });

  it('a second apply through sudo changes nothing', async () => {
    const json = parseJson(await applyAs('deploy', true, '--json'));
    expect(json.hosts.map((host) => [host.host, host.status, host.changes.length])).toEqual(hosts.map((host) => [host, 'ok', 0]));
  });

  it('a user sudo refuses fails at once with sudo\'s own message (sudo -n never waits for a password)', async () => {
    const result = await applyAs('nosudo', true, '--json');
    expect(result.code).toBe(2);
    const json = parseJson(result);
    expect(json.hosts.map((host) => [host.host, host.status])).toEqual(hosts.map((host) => [host, 'failed']));
    for (const host of json.hosts) expect(host.error?.message).toMatch(/sudo: a password is required|not in the sudoers file/);
  });
});
