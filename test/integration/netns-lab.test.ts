import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, destroyLab, labAvailability, loadState, openLab, skipLabSuite, type Lab } from '../../src/lab/netns/index.js';
import { generateKeyPair } from '../../src/lab/netns/keys.js';
import { run } from '../../src/lab/netns/process.js';
import { identify, isRunning, processesInNamespaces } from '../../src/lab/netns/processes.js';
import { drLabSpec } from '../support/dr-lab.js';

// Real namespaces, real sshd, real OpenSSH client. Writes go through one path (SSH or exec) and
// are read back through the other, so neither path can vouch for itself.

const availability = labAvailability();

/** Pids of sshd processes whose binary lies under a lab's work directory (its hosts' overlays). */
function labSshdPids(workDir: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readlinkSync(`/proc/${pid}/exe`).startsWith(`${workDir}/`);
      } catch {
        return false;
      }
    })
    .map(Number);
}

async function labNamespaces(name: string): Promise<string[]> {
  const listed = await run(['ip', 'netns', 'list']);
  return listed.stdout.split('\n').map((line) => line.split(' ')[0] ?? '').filter((ns) => ns.startsWith(`${name}-`));
}

describe.skipIf(skipLabSuite(availability))(`netns lab (${availability.reason})`, () => {
  const name = `t${randomBytes(3).toString('hex')}`;
  let workDir = '';
  let lab: Lab | undefined;

  beforeAll(async () => {
    // Reached without a lab only in CI, where it must fail rather than skip.
    expect(availability.ok, availability.reason).toBe(true);
    workDir = await mkdtemp(join(tmpdir(), 'netns-lab-'));
    lab = await createLab(drLabSpec(name), workDir);
  });

  afterAll(async () => {
    await lab?.destroy();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  const theLab = (): Lab => {
    if (!lab) throw new Error('lab not created');
    return lab;
  };

  /** The login the brief asks for, spelled out rather than built by the lab under test. */
  const login = (address: string, ...remote: string[]) =>
    theLab().runInControl([
      'ssh', '-F', '/dev/null', '-i', theLab().clientKeyPath, '-o', `UserKnownHostsFile=${theLab().knownHostsPath}`,
      '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', `root@${address}`, ...remote,
    ]);

  it('logs into every address of every host with OpenSSH, the lab key and strict host keys', async () => {
    for (const host of theLab().hosts) {
      for (const address of host.addresses) {
        const result = await login(address, 'hostname');
        expect(result.stderr).toBe('');
        expect(result.stdout.trim()).toBe(host.name);
      }
    }
  });

  it('refuses a key it was not given', async () => {
    const otherKey = join(workDir, 'stranger_ed25519');
    await generateKeyPair(otherKey, 'stranger');
    const result = await theLab().runInControl([
      'ssh', '-F', '/dev/null', '-i', otherKey, '-o', 'IdentitiesOnly=yes', '-o', `UserKnownHostsFile=${theLab().knownHostsPath}`,
      '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', 'root@192.0.2.11', 'true',
    ]);
    expect(result.code).toBe(255);
    expect(result.stderr).toMatch(/Permission denied \(publickey\)/);
  });

  it('gives each host its own filesystem', async () => {
    const marker = `/etc/lab-marker-${name}`;
    const write = await login('192.0.2.11', `echo rs1-was-here > ${marker}`);
    expect(write.code).toBe(0);
    expect((await theLab().exec('rs1', ['cat', marker])).stdout).toBe('rs1-was-here\n');
    expect((await theLab().exec('rs2', ['test', '-e', marker])).code).toBe(1);
    expect((await login('192.0.2.1', `test -e ${marker}; echo $?`)).stdout.trim()).toBe('1');
    expect(existsSync(marker)).toBe(false);
  });

  it('gives each host its own sysctls', async () => {
    const rootBefore = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8');
    expect((await login('192.0.2.1', 'sysctl -w net.ipv4.ip_forward=1')).code).toBe(0);
    expect((await theLab().exec('router', ['sysctl', '-n', 'net.ipv4.ip_forward'])).stdout.trim()).toBe('1');
    expect((await theLab().exec('rs1', ['sysctl', '-n', 'net.ipv4.ip_forward'])).stdout.trim()).toBe('0');
    expect((await login('192.0.2.12', 'cat /proc/sys/net/ipv4/ip_forward')).stdout.trim()).toBe('0');
    expect(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8')).toBe(rootBefore);
  });

  it('names each host and shows the same host through exec as through SSH', async () => {
    for (const host of theLab().hosts) {
      expect((await theLab().exec(host.name, ['hostname'])).stdout.trim()).toBe(host.name);
      expect((await theLab().exec(host.name, ['cat', '/etc/hostname'])).stdout.trim()).toBe(host.name);
      const viaSsh = await login(host.addresses[0] ?? '', 'ip -4 -o addr show scope global');
      const viaExec = await theLab().exec(host.name, ['ip', '-4', '-o', 'addr', 'show', 'scope', 'global']);
      expect(viaSsh.stdout).toBe(viaExec.stdout);
      for (const address of host.addresses) expect(viaExec.stdout).toContain(` ${address}/`);
    }
  });

  it('keeps every lab address and device out of the root namespace', async () => {
    const rootAddresses = (await run(['ip', '-4', '-o', 'addr'])).stdout;
    const rootLinks = (await run(['ip', '-o', 'link'])).stdout;
    for (const host of theLab().hosts) {
      for (const iface of host.interfaces) {
        expect(rootAddresses).not.toContain(` ${iface.address}/`);
        expect(rootLinks).not.toMatch(new RegExp(`^\\d+: ${iface.peer}[@:]`, 'm'));
      }
    }
    const controlAddresses = (await theLab().runInControl(['ip', '-4', '-o', 'addr'])).stdout;
    for (const subnet of theLab().subnets) expect(controlAddresses).toContain(` ${subnet.controlAddress}/${subnet.prefixLength}`);
  });

  it('passes every word of a remote command through sshArgv unharmed', async () => {
    const result = await theLab().runInControl(theLab().sshArgv('rs1', ['printf', '%s|', 'a  b', "it's", '$HOME', ';true']));
    expect(result.stdout).toBe("a  b|it's|$HOME|;true|");
  });

  it('restarts a host sshd with a new host key that strict clients then refuse', async () => {
    const before = theLab().host('rs2');
    expect((await theLab().exec('rs2', ['sh', '-c', 'echo kept > /root/survivor'])).code).toBe(0);
    const newKey = await theLab().restartSshdWithNewKey('rs2');
    expect(newKey).not.toBe(before.publicKey);
    expect(theLab().host('rs2').publicKey).toBe(newKey);
    const scanned = await theLab().runInControl(['ssh-keyscan', '-t', 'ed25519', '192.0.2.12']);
    expect(scanned.stdout).toContain(newKey);
    const inside = await theLab().exec('rs2', ['cat', '/etc/lvsprov-lab/ssh_host_ed25519_key.pub']);
    expect(inside.stdout).toContain(newKey);

    const refused = await login('192.0.2.12', 'true');
    expect(refused.code).toBe(255);
    expect(refused.stderr).toMatch(/REMOTE HOST IDENTIFICATION HAS CHANGED/);

    await theLab().writeKnownHosts();
    expect((await login('192.0.2.12', 'cat /root/survivor')).stdout).toBe('kept\n');
    expect(theLab().host('rs2').sshdPid).toBe(before.sshdPid);
  });

  it('cleans up after itself when a start fails half-way, without touching a lab already up', async () => {
    const otherDir = await mkdtemp(join(tmpdir(), 'netns-lab-fail-'));
    const otherName = `f${randomBytes(3).toString('hex')}`;
    try {
      // A zero wait fails the first host once its namespaces exist and its sshd was spawned.
      const failed = createLab(drLabSpec(otherName), otherDir, { readyTimeoutMs: 0 });
      await expect(failed).rejects.toThrow(/did not answer within 0 ms/);
      await expect(failed).rejects.toThrow(/everything it started was removed/);
      expect(await labNamespaces(otherName)).toEqual([]);
      expect(labSshdPids(otherDir)).toEqual([]);
      expect(existsSync(join(otherDir, 'state.json'))).toBe(false);
      expect((await login('192.0.2.11', 'hostname')).stdout.trim()).toBe('rs1');
    } finally {
      await rm(otherDir, { recursive: true, force: true });
    }
  });

  it('takes over the name or directory of a lab whose run was killed, and refuses one that still runs', async () => {
    const firstDir = await mkdtemp(join(tmpdir(), 'netns-lab-killed-'));
    const secondDir = await mkdtemp(join(tmpdir(), 'netns-lab-next-'));
    const otherName = `k${randomBytes(3).toString('hex')}`;
    const spec = {
      name: otherName,
      subnets: [{ name: 'lan', cidr: '192.0.2.0/24', controlAddress: '192.0.2.254' }],
      hosts: [{ name: 'rs', interfaces: [{ subnet: 'lan', address: '192.0.2.31' }] }],
    };
    /** What a killed run leaves: the host's sshd gone, a daemon it started, namespaces and state.json. */
    const kill = async (lab: Lab): Promise<number> => {
      const daemon = await lab.exec('rs', ['sh', '-c', 'sleep 600 >/dev/null 2>&1 </dev/null & echo $!']);
      const sshd = identify(lab.host('rs').sshdPid);
      if (!sshd) throw new Error('the host has no sshd');
      process.kill(sshd.pid, 'SIGKILL');
      while (isRunning(sshd)) await new Promise((resolve) => setTimeout(resolve, 20));
      return Number(daemon.stdout.trim());
    };
    const login = async (lab: Lab): Promise<string> => (await lab.runInControl(lab.sshArgv('rs', ['hostname']))).stdout.trim();
    const labs: Lab[] = [];
    try {
      const first = await createLab(spec, firstDir);
      labs.push(first);
      await expect(createLab(spec, secondDir)).rejects.toThrow(`lab ${otherName} is up in ${firstDir}; run \`down ${firstDir}\` first`);
      expect(await login(first)).toBe('rs');

      const firstDaemon = await kill(first);
      expect(await labNamespaces(otherName)).toHaveLength(2);
      const second = await createLab(spec, secondDir);
      labs.unshift(second);
      expect(second.replaced.map((replaced) => replaced.workDir)).toEqual([firstDir]);
      expect(second.replaced[0]?.stopped.map((stopped) => stopped.pid)).toEqual([firstDaemon]);
      expect(isRunning({ pid: firstDaemon, startTime: identify(firstDaemon)?.startTime ?? -1 })).toBe(false);
      expect(existsSync(join(firstDir, 'state.json'))).toBe(false);
      expect(readFileSync(`/run/lvsprov-lab/${otherName}`, 'utf8')).toBe(`${secondDir}\n`);
      expect(await login(second)).toBe('rs');

      // The same directory after its lab died (as after a reboot): taken over the same way.
      await kill(second);
      const third = await createLab(spec, secondDir);
      labs.unshift(third);
      expect(third.replaced.map((replaced) => replaced.workDir)).toEqual([secondDir]);
      expect(await login(third)).toBe('rs');
      expect((await third.destroy()).leftovers).toEqual([]);
      expect(existsSync(`/run/lvsprov-lab/${otherName}`)).toBe(false);
      expect(await labNamespaces(otherName)).toEqual([]);
    } finally {
      // Newest first: a state-based teardown deletes namespaces by name, which a newer lab reuses.
      for (const lab of labs) await lab.destroy();
      await rm(firstDir, { recursive: true, force: true });
      await rm(secondDir, { recursive: true, force: true });
    }
  });

  it("takes over a lab whose creating process was killed, its sshd still running, but not one `up` left for later processes", async () => {
    const dirs = await Promise.all(['netns-lab-orphan-', 'netns-lab-up-', 'netns-lab-after-'].map((prefix) => mkdtemp(join(tmpdir(), prefix))));
    const [orphanDir, upDir, afterDir] = dirs as [string, string, string];
    const otherName = `o${randomBytes(3).toString('hex')}`;
    const spec = {
      name: otherName,
      subnets: [{ name: 'lan', cidr: '192.0.2.0/24', controlAddress: '192.0.2.254' }],
      hosts: [{ name: 'rs', interfaces: [{ subnet: 'lan', address: '192.0.2.31' }] }],
    };
    const labs: Lab[] = [];
    try {
      // A test run killed while its lab is up: the lab's sshd outlives the process that started it.
      const module = join(process.cwd(), 'dist/lab/netns/index.js');
      const script = `const { createLab } = await import(${JSON.stringify(module)}); await createLab(${JSON.stringify(spec)}, ${JSON.stringify(orphanDir)}); process.kill(process.pid, 'SIGKILL');`;
      const killed = await run([process.execPath, '--input-type=module', '-e', script]);
      expect(killed.signal ?? killed.code, killed.stderr).toBe('SIGKILL');
      const orphan = await loadState(orphanDir);
      const orphanSshd = orphan.hosts[0]?.sshd;
      expect(orphanSshd && isRunning(orphanSshd)).toBe(true);

      const next = await createLab(spec, afterDir);
      labs.push(next);
      expect(next.replaced.map((replaced) => replaced.workDir)).toEqual([orphanDir]);
      expect(next.replaced[0]?.stopped).toEqual([{ pid: orphanSshd?.pid, command: 'sshd', startedByLab: true }]);
      expect(orphanSshd && isRunning(orphanSshd)).toBe(false);
      expect((await next.destroy()).leftovers).toEqual([]);

      // `up` ends once its lab is up: that lab is for the processes after it, and is not taken.
      const specPath = join(upDir, 'spec.json');
      await writeFile(specPath, JSON.stringify(spec));
      const up = await run([process.execPath, join(process.cwd(), 'dist/lab/netns/cli.js'), 'up', specPath, join(upDir, 'lab')]);
      expect(up.code, up.stderr).toBe(0);
      labs.unshift(await openLab(join(upDir, 'lab')));
      await expect(createLab(spec, afterDir)).rejects.toThrow(`lab ${otherName} is up in ${join(upDir, 'lab')}`);
    } finally {
      for (const lab of labs) await lab.destroy();
      for (const dir of dirs) await rm(dir, { recursive: true, force: true });
    }
  });

  it('tears down from state.json alone: no namespace, process or mount left', async () => {
    const current = theLab();
    const sshdPids = current.hosts.map((host) => host.sshdPid);
    // Session processes of earlier logins may still be exiting, so the listeners are a subset.
    expect(labSshdPids(workDir)).toEqual(expect.arrayContaining(sshdPids));
    // Leftovers of the kind a playbook run leaves: a daemon inside a host, a session from control.
    const daemon = await current.exec('rs1', ['sh', '-c', 'sleep 600 >/dev/null 2>&1 </dev/null & echo $!']);
    const daemonPid = Number(daemon.stdout.trim());
    expect(existsSync(`/proc/${daemonPid}`)).toBe(true);
    const session = login('192.0.2.12', 'sleep 600');
    await new Promise((resolve) => setTimeout(resolve, 500));
    // Everything holding a host's mounts, taken while the hosts run: a mount namespace inode
    // number means nothing once its namespace is gone, as the kernel hands it out again.
    const mountHolders = processesInNamespaces(new Set(), new Set(current.hosts.map((host) => host.mountNamespace ?? 0)));
    expect(mountHolders.map((holder) => holder.pid)).toEqual(expect.arrayContaining([...sshdPids, daemonPid]));

    // The `down` path: nothing but the work directory, as another process would have it.
    const report = await destroyLab(await loadState(workDir));
    expect(report.leftovers).toEqual([]);
    expect(report.stopped.filter((entry) => entry.startedByLab).map((entry) => entry.pid).sort()).toEqual([...sshdPids].sort());
    expect(report.stopped.map((entry) => entry.pid)).toContain(daemonPid);
    expect((await session).code).not.toBe(0);

    expect(await labNamespaces(name)).toEqual([]);
    expect(labSshdPids(workDir)).toEqual([]);
    expect(mountHolders.filter(isRunning)).toEqual([]);
    const mounts = await readFile('/proc/self/mountinfo', 'utf8');
    expect(mounts).not.toContain(workDir);
    expect(mounts).not.toContain(`/run/netns/${name}-`);
    expect(existsSync(join(workDir, 'state.json'))).toBe(false);
  });
});
