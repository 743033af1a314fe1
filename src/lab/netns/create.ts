import { once } from 'node:events';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { destroyLab } from './destroy.js';
import { hostBatch, controlBatch, namespacesBatch } from './ip-batch.js';
import { generateKeyPair } from './keys.js';
import { Lab, writeKnownHosts, type ReplacedLab, type StartTimings } from './lab.js';
import { layoutLab, type HostLayout, type LabLayout } from './layout.js';
import { hostDir, hostKeyPath, logTail, spawnHost, type HostPaths } from './host-process.js';
import { mapLimit, runChecked } from './process.js';
import { childrenOf, commandName, identify, namedNetnsInode, processNamespace } from './processes.js';
import { hostCgroupDirs } from './cgroups.js';
import { earlierLabs, isAbandoned, registerLab } from './registry.js';
import { raiseLimitsFor } from './neighbour-table.js';
import { parseLabSpec } from './spec.js';
import { sshdConfig } from './ssh-files.js';
import { SshReadiness } from './ssh-ready.js';
import { saveState, type HostState, type LabState } from './state.js';

export interface CreateOptions {
  /** Hosts set up at once. Start-up is CPU-bound (mounts, sshd start), so a few per core. */
  readonly concurrency?: number;
  /** How long one host's sshd may take to answer after it was started. */
  readonly readyTimeoutMs?: number;
  /**
   * The lab is for later processes (`up`). Otherwise it is this process's: once this process is
   * gone (a killed test run), the next lab of its name tears it down, whatever still runs in it.
   */
  readonly outlivesCreator?: boolean;
}

// The work directory ends up inside overlay mount options and sshd -o values, where a comma, a
// colon or a space would change their meaning; a plain path is simply required.
const plainPath = /^\/[A-Za-z0-9._/-]+$/;

/**
 * Build a lab as root: namespaces, bridges and veths, then every host with bounded parallelism,
 * each resolved only once its sshd sends a banner to the control namespace on every address.
 * On any failure, whatever was started is torn down before the error is thrown.
 */
export async function createLab(specInput: unknown, workDirInput: string, options: CreateOptions = {}): Promise<Lab> {
  const began = Date.now();
  const spec = parseLabSpec(specInput);
  const layout = layoutLab(spec);
  const workDir = resolve(workDirInput);
  if (!plainPath.test(workDir)) throw new Error(`work directory ${workDir}: only A-Z a-z 0-9 . _ - / are allowed in its path`);
  const replaced = await replaceAbandoned(layout, workDir);
  await assertFree(layout);

  const sharedDir = join(workDir, 'shared');
  await mkdir(sharedDir, { recursive: true });
  await Promise.all(layout.hosts.map((host) => mkdir(join(hostDir(workDir, host.name), 'mnt'), { recursive: true })));
  const concurrency = options.concurrency ?? 8;
  const clientKeyPath = join(workDir, 'client_ed25519');
  const clientKey = await generateKeyPair(clientKeyPath, `lvsprov-lab-${layout.name}`);
  await writeFile(join(sharedDir, 'authorized_keys'), `${clientKey}\n`);
  await writeFile(join(sharedDir, 'sshd_config'), sshdConfig());
  const hostKeys = await mapLimit(layout.hosts, concurrency, (host) =>
    generateKeyPair(hostKeyPath(workDir, host.name), `${host.name}@${layout.name}`),
  );
  const keysDone = Date.now();

  const creator = identify(process.pid);
  const neighbourLimits = await raiseLimitsFor(layout.hosts.reduce((sum, host) => sum + host.interfaces.length, 0));
  const state: LabState = {
    version: 1,
    name: layout.name,
    workDir,
    controlNamespace: layout.controlNamespace,
    subnets: layout.subnets.map((subnet) => ({ ...subnet })),
    hosts: layout.hosts.map((host, index) => ({
      name: host.name,
      namespace: host.namespace,
      interfaces: host.interfaces.map((iface) => ({ ...iface })),
      publicKey: hostKeys[index] ?? '',
    })),
    clientKeyPath,
    knownHostsPath: join(workDir, 'known_hosts'),
    phase: 'starting',
    ...(creator ? { creator } : {}),
    ...(options.outlivesCreator ? { outlivesCreator: true } : {}),
    ...(neighbourLimits ? { neighbourLimits } : {}),
  };
  // Saved before the first namespace exists: from here on, `down` can undo whatever happens.
  await saveState(state);
  await registerLab(state);

  let readiness: SshReadiness | undefined;
  let networkDone = keysDone;
  try {
    await runChecked(['ip', '-batch', '-'], { input: namespacesBatch('add', [layout.controlNamespace, ...layout.hosts.map((host) => host.namespace)]) });
    await runChecked(['ip', '-n', layout.controlNamespace, '-batch', '-'], { input: controlBatch(layout) });
    networkDone = Date.now();
    readiness = new SshReadiness(layout.controlNamespace, options.readyTimeoutMs ?? 30_000);
    const waiter = readiness;
    // Hosts start in parallel; their saves of the state go one after another.
    let saving = Promise.resolve();
    const save = (): Promise<void> => (saving = saving.then(() => saveState(state)));
    await mapLimit(layout.hosts, concurrency, (host, index) =>
      startHost(host, { hostDir: hostDir(workDir, host.name), sharedDir }, waiter, state.hosts[index] as HostState, save),
    );
    readiness.close();
    await writeKnownHosts(state);
    state.phase = 'up';
    await saveState(state);
  } catch (error) {
    readiness?.close(true);
    const report = await destroyLab(state).catch((cleanupError: unknown) => ({ leftovers: [String(cleanupError)] }));
    const cleanup = report.leftovers.length === 0 ? 'everything it started was removed' : `cleanup left: ${report.leftovers.join(', ')}`;
    throw new Error(`lab ${layout.name} failed to start (${cleanup}): ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const end = Date.now();
  const timings: StartTimings = { keysMs: keysDone - began, networkMs: networkDone - keysDone, hostsMs: end - networkDone, totalMs: end - began };
  return new Lab(state, timings, replaced);
}

async function startHost(host: HostLayout, paths: HostPaths, readiness: SshReadiness, record: HostState, saveRecord: () => Promise<void>): Promise<void> {
  await runChecked(['ip', '-n', host.namespace, '-batch', '-'], { input: hostBatch(host) });
  const cgroups = host.init === 'systemd' ? hostCgroupDirs(`lvsprov-lab-${host.namespace}`) : [];
  if (cgroups.length > 0) {
    // Recorded before they exist, so that teardown removes them whatever happens next.
    record.cgroups = cgroups;
    await saveRecord();
    await Promise.all(cgroups.map((dir) => mkdir(dir, { recursive: true })));
  }
  const child = spawnHost(host, paths, cgroups);
  const exited = once(child, 'exit').then(([code, signal]) => {
    throw new Error(`start-up exited (${signal ?? code}) before sshd answered`);
  });
  const ready = Promise.all(host.interfaces.map((iface) => readiness.wait(iface.address)));
  try {
    await Promise.race([ready, exited]);
  } catch (error) {
    throw new Error(`host ${host.name}: ${error instanceof Error ? error.message : String(error)}; log: ${await logTail(paths)}`, { cause: error });
  } finally {
    exited.catch(() => undefined);
  }
  // Every step of the chain exec'd, so the spawned pid is sshd's, or unshare's whose one child is
  // systemd, which started sshd; check before trusting either.
  const spawned = child.pid ?? 0;
  const init = host.init === 'systemd' ? childrenOf(spawned).find((pid) => commandName(pid) === 'systemd') : undefined;
  const pid = init === undefined ? spawned : (childrenOf(init).find((candidate) => commandName(candidate) === 'sshd') ?? 0);
  const identity = identify(pid);
  if (!identity || commandName(pid) !== 'sshd' || processNamespace(pid, 'net') !== namedNetnsInode(host.namespace)) {
    throw new Error(`host ${host.name}: process ${pid} is not sshd inside ${host.namespace}`);
  }
  record.sshd = identity;
  record.mountNamespace = processNamespace(pid, 'mnt');
  if (host.init === 'systemd') {
    const initProcess = init === undefined ? undefined : identify(init);
    if (!initProcess) throw new Error(`host ${host.name}: systemd is not running`);
    record.init = 'systemd';
    record.initProcess = initProcess;
  }
}

/**
 * Tear down an earlier lab this one would collide with (its work directory, or its name) once
 * nothing of it runs: what a killed run leaves. One that still runs is refused, never touched.
 */
async function replaceAbandoned(layout: LabLayout, workDir: string): Promise<ReplacedLab[]> {
  const replaced: ReplacedLab[] = [];
  for (const earlier of await earlierLabs(layout.name, workDir)) {
    if (earlier.workDir !== workDir && earlier.name !== layout.name) continue;
    if (!isAbandoned(earlier)) {
      throw new Error(`lab ${earlier.name} is up in ${earlier.workDir}; run \`down ${earlier.workDir}\` first`);
    }
    const report = await destroyLab(earlier);
    if (report.leftovers.length > 0) {
      throw new Error(`lab ${earlier.name} in ${earlier.workDir} no longer runs, and tearing it down left: ${report.leftovers.join(', ')}`);
    }
    replaced.push({ workDir: earlier.workDir, ...report });
  }
  return replaced;
}

async function assertFree(layout: LabLayout): Promise<void> {
  const taken = [layout.controlNamespace, ...layout.hosts.map((host) => host.namespace)].filter((namespace) => namedNetnsInode(namespace) !== undefined);
  if (taken.length > 0) throw new Error(`network namespaces already exist: ${taken.join(', ')}; another lab named ${layout.name} is up`);
}
