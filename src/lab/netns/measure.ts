import { readFileSync } from 'node:fs';
import { createLab } from './create.js';
import { flatLabSpec } from './flat-spec.js';
import type { DestroyReport } from './destroy.js';
import type { StartTimings } from './lab.js';

export interface LabMeasurement {
  readonly hosts: number;
  readonly up: StartTimings;
  /** Machine-wide MemAvailable drop while the lab was up: the honest total, but other work on the machine adds noise. */
  readonly memAvailableDropMiB: number;
  /** Machine-wide growth of kernel memory (Slab, Percpu, KernelStack, PageTables): namespaces, devices, mounts. */
  readonly kernelGrowthMiB: number;
  /** Machine-wide Shmem growth: the hosts' tmpfs layers. */
  readonly shmemGrowthMiB: number;
  /** Proportional set size of the lab's sshd processes, summed. */
  readonly sshdPssMiB: number;
  /** One fresh OpenSSH login per host running `hostname`, all at once from the control namespace. */
  readonly parallelLoginMs: number;
  readonly downMs: number;
  /** Processes stopped at teardown and anything teardown could not remove (normally nothing). */
  readonly down: { readonly stopped: number; readonly leftovers: DestroyReport['leftovers'] };
}

function meminfoKiB(field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/meminfo', 'utf8'));
  if (!match) throw new Error(`/proc/meminfo has no ${field}`);
  return Number(match[1]);
}

function pssKiB(pid: number): number {
  const match = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
  return match ? Number(match[1]) : 0;
}

const kernelFields = ['Slab', 'Percpu', 'KernelStack', 'PageTables'];
const kernelKiB = (): number => kernelFields.reduce((sum, field) => sum + meminfoKiB(field), 0);

const mib = (kib: number): number => Math.round((kib / 1024) * 10) / 10;

/** Bring up `count` hosts, measure, check every host by a real login, and tear the lab down. */
export async function measureLab(name: string, count: number, workDir: string): Promise<LabMeasurement> {
  const availableBefore = meminfoKiB('MemAvailable');
  const shmemBefore = meminfoKiB('Shmem');
  const kernelBefore = kernelKiB();
  const lab = await createLab(flatLabSpec(name, count), workDir);
  try {
    const memAvailableDropMiB = mib(availableBefore - meminfoKiB('MemAvailable'));
    const shmemGrowthMiB = mib(meminfoKiB('Shmem') - shmemBefore);
    const kernelGrowthMiB = mib(kernelKiB() - kernelBefore);
    const sshdPssMiB = mib(lab.hosts.reduce((sum, host) => sum + pssKiB(host.sshdPid), 0));
    const loginStart = Date.now();
    const logins = await Promise.all(lab.hosts.map((host) => lab.runInControl(lab.sshArgv(host.name, ['hostname']))));
    const parallelLoginMs = Date.now() - loginStart;
    const wrong = lab.hosts.filter((host, index) => logins[index]?.code !== 0 || logins[index]?.stdout.trim() !== host.name);
    if (wrong.length > 0) {
      const detail = wrong.map((host) => {
        const result = logins[lab.hosts.indexOf(host)];
        return `${host.name}: exit ${result?.code}: ${(result?.stderr || result?.stdout || '').trim()}`;
      });
      throw new Error(`login failed or answered the wrong name on ${detail.join('; ')}`);
    }
    const downStart = Date.now();
    const report = await lab.destroy();
    const downMs = Date.now() - downStart;
    const down = { stopped: report.stopped.length, leftovers: report.leftovers };
    return { hosts: count, up: lab.timings as StartTimings, memAvailableDropMiB, kernelGrowthMiB, shmemGrowthMiB, sshdPssMiB, parallelLoginMs, downMs, down };
  } finally {
    await lab.destroy();
  }
}
