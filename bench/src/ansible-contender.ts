import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { repoRoot } from './repo-root.js';
import type { Lab } from '../../src/lab/netns/index.js';
import { parseRecap } from './ansible-recap.js';
import { runFailure, type Contender } from './contender.js';
import { timedRun, usage } from './timed-run.js';

// ansible-playbook with the equivalent playbook (bench/ansible), forks = hosts. Each run gets
// its own ControlPath directory and its masters are closed afterwards, so no run inherits a
// warm connection from the one before: lvsprov never gets one either.

export const ansibleDir = join(repoRoot, 'bench/ansible');

/** The version line, or undefined when ansible-playbook is not installed. */
export function ansibleVersion(): string | undefined {
  const result = spawnSync('ansible-playbook', ['--version'], { encoding: 'utf8' });
  if (result.status !== 0) return undefined;
  return result.stdout.split('\n')[0]?.trim();
}

export interface AnsibleSettings {
  readonly inventory: string;
  readonly hosts: number;
  /** Scratch space: per-run control sockets and Ansible's local temp. */
  readonly runDir: string;
}

export function ansibleContender(lab: Lab, settings: AnsibleSettings, kind: 'first' | 'rerun', reset: () => Promise<void>): Contender {
  return {
    id: kind === 'first' ? 'ansible-first' : 'ansible-rerun',
    label: kind === 'first' ? 'ansible first run' : 'ansible re-run',
    ...(kind === 'first' ? { prepare: reset } : {}),
    run: async (timing, warmUp) => {
      const controlDir = await mkdtemp(join(settings.runDir, 'cp-'));
      const env = {
        ...timing.env,
        ANSIBLE_CONFIG: join(ansibleDir, 'ansible.cfg'),
        ANSIBLE_SSH_CONTROL_PATH_DIR: controlDir,
        ANSIBLE_LOCAL_TEMP: join(settings.runDir, 'ansible-tmp'),
      };
      // Warming up loads Python, Ansible and the collections into the page cache; one host does
      // that as well as fifty, at a tenth of the time.
      const limit = warmUp ? ['--limit', lab.hosts[0]?.name ?? 'all'] : [];
      const hostCount = warmUp ? 1 : lab.hosts.length;
      const argv = ['ansible-playbook', '-i', settings.inventory, '-f', String(settings.hosts), ...limit, join(ansibleDir, 'realserver-dr.yml')];
      try {
        const result = await timedRun(argv, { ...timing, env, cwd: ansibleDir });
        const recap = parseRecap(result.stdout);
        const bad = recap.filter((line) => line.failed > 0 || line.unreachable > 0 || (kind === 'first' ? line.changed === 0 : line.changed > 0));
        if (result.code !== 0 || recap.length !== hostCount || bad.length > 0) {
          const why = bad.slice(0, 5).map((line) => `${line.host}: changed=${line.changed} failed=${line.failed} unreachable=${line.unreachable}`);
          throw runFailure(`ansible ${kind} (${recap.length} hosts in recap; ${why.join('; ')})`, result.code, result.stdout, result.stderr);
        }
        return { seconds: result.seconds, ...usage(result) };
      } finally {
        await closeMasters(lab, controlDir);
        await rm(controlDir, { recursive: true, force: true });
      }
    },
  };
}

/** Ask every ControlPersist master of a run to exit (`ssh -O exit`), as OpenSSH intends. */
async function closeMasters(lab: Lab, controlDir: string): Promise<void> {
  const script = 'for s in "$1"/*; do if [ -S "$s" ]; then ssh -o ControlPath="$s" -O exit bench-host 2>/dev/null; fi; done; true';
  await lab.runInControl(['sh', '-c', script, 'close-masters', controlDir]);
}
