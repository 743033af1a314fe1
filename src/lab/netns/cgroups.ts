import { readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';

// A lab host that boots systemd gets a cgroup of its own in every hierarchy and a cgroup
// namespace rooted there: systemd takes the root of what it sees as its own, and makes its
// init.scope and system.slice beside it. Without this, two such hosts would share (and fight over)
// the machine's root cgroups. The directories are made under the lab creator's own cgroups,
// which the host's start-up process inherits.

interface CgroupMount {
  /** Controllers as /proc/self/cgroup names the hierarchy: `cpu,cpuacct`, `name=systemd`, or '' for cgroup2. */
  readonly controllers: string;
  readonly mountPoint: string;
}

// v1 mount options that are not controllers.
const NOT_CONTROLLERS = new Set(['rw', 'ro', 'nosuid', 'nodev', 'noexec', 'relatime', 'noatime', 'nsdelegate', 'memory_recursiveprot', 'clone_children', 'xattr', 'noprefix', 'cpuset_v2_mode']);

const sameControllers = (a: string, b: string): boolean => a.split(',').sort().join(',') === b.split(',').sort().join(',');

function cgroupMounts(): CgroupMount[] {
  const mounts: CgroupMount[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    // mountinfo: ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER_OPTIONS
    const [before, after] = line.split(' - ');
    if (!before || !after) continue;
    const fields = before.split(' ');
    const [fsType, , superOptions = ''] = after.split(' ');
    const mountPoint = fields[4];
    if (fields[3] !== '/' || !mountPoint?.startsWith('/sys/fs/cgroup')) continue;
    if (fsType === 'cgroup2') mounts.push({ controllers: '', mountPoint });
    else if (fsType === 'cgroup') mounts.push({ controllers: superOptions.split(',').filter((option) => !NOT_CONTROLLERS.has(option)).join(','), mountPoint });
  }
  return mounts;
}

/**
 * One directory per hierarchy this process is in, named `leaf` under its cgroup there. cpuset is
 * left out: a v1 cpuset cgroup takes no process before its cpus and mems are set, and systemd does
 * not use it.
 */
export function hostCgroupDirs(leaf: string): string[] {
  const mounts = cgroupMounts();
  const dirs: string[] = [];
  for (const line of readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
    const match = /^\d+:([^:]*):(\/.*)$/.exec(line);
    if (!match) continue;
    const [, controllers = '', path = '/'] = match;
    if (controllers.split(',').includes('cpuset')) continue;
    const mount = mounts.find((candidate) => sameControllers(candidate.controllers, controllers));
    if (mount) dirs.push(join(mount.mountPoint, path, leaf));
  }
  return dirs;
}

/**
 * Remove cgroup directories and every cgroup under them, deepest first (a cgroup directory goes
 * with rmdir once it has no process and no child). A host whose init was just killed may still
 * have processes in its cgroups for a moment: the kernel kills the rest of its PID namespace and
 * they are reaped asynchronously, and rmdir says EBUSY meanwhile. So a busy cgroup is tried again
 * for up to `waitMs`, and a process still listed in its cgroup.procs (the lab host's own: nothing
 * else enters the lab's cgroups) is sent SIGKILL. Returns the ones that could not be removed.
 */
export async function removeCgroupTrees(dirs: readonly string[], waitMs = 5000): Promise<string[]> {
  const deadline = Date.now() + waitMs;
  const leftovers: string[] = [];
  const remove = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // Gone already.
    }
    for (const entry of entries) if (entry.isDirectory()) await remove(join(dir, entry.name));
    for (;;) {
      try {
        rmdirSync(dir);
        return;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return;
        if (code !== 'EBUSY' || Date.now() >= deadline) {
          leftovers.push(`cgroup ${dir}`);
          return;
        }
      }
      for (const pid of processesIn(dir)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Gone meanwhile.
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  for (const dir of dirs) await remove(dir);
  return leftovers;
}

/** The processes a cgroup holds itself (not its children's), from its cgroup.procs. */
function processesIn(dir: string): number[] {
  try {
    return readFileSync(join(dir, 'cgroup.procs'), 'utf8')
      .split('\n')
      .filter((line) => /^[1-9][0-9]*$/.test(line))
      .map(Number);
  } catch {
    return [];
  }
}
