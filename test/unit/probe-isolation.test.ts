import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { prepareRun } from '../../src/cli/load-run.js';
import { mayExit, parseReadSections, readScript } from '../../src/engine/batch-script.js';
import { hostReadPlan } from '../../src/engine/host-plan.js';
import { ADDRESSES_PROBE, directorProbes, IPVS_RATE_PROBE, IPVS_TABLE_PROBE } from '../../src/status/director-read.js';
import { KEEPALIVED_RUNNING_PROBE } from '../../src/status/vrrp.js';
import { deviceProbe } from '../../src/verify/director-probe.js';
import { assignedNames, readsBeforeSet } from '../support/shell-variables.js';

// Probes without `exit` run in the read script's own shell, one after another (batch-script.ts):
// what one leaves in a variable is there for the next. That is safe only while every probe sets
// each variable before it reads it. Held here for every probe the shipped roles make from the
// example inventories, and for status's and verify's own: statically (an assignment before the
// first use, in the text) and by running each probe in the shell hosts use, once clean and once
// with every variable it names already set to something else.

const root = join(import.meta.dirname, '../..');

function allProbes(): string[] {
  const probes = new Set<string>([...directorProbes, KEEPALIVED_RUNNING_PROBE, deviceProbe('eth0')]);
  for (const file of readdirSync(join(root, 'inventories')).filter((name) => name.endsWith('.yaml'))) {
    const { run } = prepareRun({ inventory: join(root, 'inventories', file) });
    for (const tasks of run.hosts.values()) for (const probe of hostReadPlan(tasks, 'apply', 'tok').probes) probes.add(probe);
  }
  return [...probes];
}

const probes = allProbes();
// A director VIP's probe asks the LAN who answers for the VIP (arping -D): as root, the probes
// run in a network namespace of their own, so none reaches this machine's network.
const shell: [string, ...string[]] = process.getuid?.() === 0 ? ['unshare', '-n', 'sh'] : ['sh'];
/** A probe's status and what it printed (there, a device may be missing: a status of its own). */
function runProbe(script: string): string {
  const result = spawnSync(shell[0], [...shell.slice(1), '-c', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  if (result.error) throw result.error;
  return `${result.status}\n${result.stdout}`;
}
const inline = probes.filter((probe) => !mayExit(probe));

describe('probes that share the read script shell', () => {
  it('are most of them; those that exit with a status of their own run in a subshell', () => {
    expect(inline.length).toBeGreaterThan(probes.length * 0.9);
    expect(probes.filter(mayExit)).toEqual(expect.arrayContaining([IPVS_TABLE_PROBE, IPVS_RATE_PROBE]));
    const script = readScript('n0nce', [IPVS_TABLE_PROBE, ADDRESSES_PROBE]);
    expect(script).toContain(`(\n${IPVS_TABLE_PROBE}\n)`);
    expect(script).toContain(`{\n${ADDRESSES_PROBE}\n}`);
  });

  it('set every variable before they read it', () => {
    const offenders = inline.flatMap((probe) => readsBeforeSet(probe).map((name) => `${name} in: ${probe.slice(0, 120)}`));
    expect(offenders).toEqual([]);
  });

  it('print the same whatever the variables they use held before', () => {
    for (const probe of inline) {
      const clean = runProbe(probe);
      const polluted = assignedNames(probe).map((name) => `${name}='left 1 behind'`).join('; ');
      const after = runProbe(`${polluted}\n${probe}`);
      expect({ probe: probe.slice(0, 120), output: after }).toEqual({ probe: probe.slice(0, 120), output: clean });
    }
  });

  it('a probe that exits ends alone: the next one still runs', () => {
    const output = execFileSync('sh', ['-s'], { input: readScript('n0nce', ['echo one; exit 3', 'echo two']), encoding: 'utf8' });
    const sections = parseReadSections('n0nce', output, 2);
    expect(sections.get(0)).toEqual({ stdout: 'one\n', status: 3 });
    expect(sections.get(1)).toEqual({ stdout: 'two\n', status: 0 });
  });
});
