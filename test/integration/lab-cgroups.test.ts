import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hostCgroupDirs, removeCgroupTrees } from '../../src/lab/netns/cgroups.js';
import { isRoot, requireRoot } from './resource-netns.js';

// A lab host that boots systemd has cgroups of its own, removed when the lab goes. Right after its
// init is killed, the rest of its processes may still be in them for a moment (the kernel kills
// and reaps them asynchronously), and rmdir says EBUSY: once seen in CI as nine cgroups left over.
// Here a process of our own sits in fresh cgroups as the removal starts: they must still go.

describe('lab cgroups', () => {
  it('are removed while a process of the lab host is still in them: it is killed and waited for', async (ctx) => {
    requireRoot(ctx);
    if (!isRoot) return;
    const dirs = hostCgroupDirs(`lvsprov-test-cgroups-${process.pid}`);
    expect(dirs.length).toBeGreaterThan(0);
    for (const dir of dirs) mkdirSync(dir, { recursive: true });
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    for (const dir of dirs) writeFileSync(`${dir}/cgroup.procs`, String(child.pid));
    const leftovers = await removeCgroupTrees(dirs);
    expect(leftovers).toEqual([]);
    for (const dir of dirs) expect(existsSync(dir), dir).toBe(false);
    await exited;
  });
});
