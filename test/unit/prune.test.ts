import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CompiledTask } from '../../src/config/compile.js';
import type { RunMode } from '../../src/engine/planners.js';
import { hostOwnership } from '../../src/ownership/host-ownership.js';
import { MANIFEST_FILE, manifestHeader, manifestProbe, renderManifest } from '../../src/ownership/manifest.js';
import { parseSections } from '../../src/engine/batch-script.js';
import { fileEffect } from '../support/command-model.js';
import { manifestRead } from '../support/manifest-read.js';
import { declaredRecords } from '../../src/ownership/records.js';
import { planPrune, type PrunedChange } from '../../src/ownership/prune.js';
import { sealWithManifest } from '../../src/ownership/seal.js';
import { resourceTypes } from '../../src/resources/registry.js';

// The pruning planner, table-driven: one JSON file per case under test/fixtures/prune/. A case
// gives the tasks of the apply that wrote the host's manifest (`recorded`, null for a host an older
// lvsprov provisioned: no manifest), the tasks of this run (`declared`), what each recorded
// object's probe prints now (`state`, by object id), and the exact removals (summary, phase and,
// where given, commands) and the ids the manifest holds afterwards (null: no manifest).

interface TaskFixture {
  name: string;
  role?: string;
  type: keyof typeof resourceTypes;
  spec: unknown;
}

interface Case {
  why: string;
  mode?: RunMode;
  /** The run left tasks out (--tags, --skip-tags). */
  keepUndeclared?: boolean;
  recorded: TaskFixture[] | null;
  declared: TaskFixture[];
  state: Record<string, string>;
  changes: Array<{ summary: string; phase: string; task?: string; commands?: string[] }>;
  manifest: string[] | null;
}

const TOKEN = 'f1f7afe0';
const root = join(import.meta.dirname, '../fixtures/prune');
const compiled = (tasks: readonly TaskFixture[]): CompiledTask[] =>
  tasks.map((task) => ({ name: task.name, ...(task.role ? { role: task.role } : {}), type: task.type, spec: resourceTypes[task.type].schema.parse(task.spec) }));

/**
 * The manifest lines whose recorded probe `probe` runs, found by running it in /bin/sh on a copy
 * of the manifest `records` make; the recorded probes themselves are not run (only decoded).
 */
function probedLines(probe: string, records: ReturnType<typeof declaredRecords>): Set<number> {
  const dir = mkdtempSync(join(tmpdir(), 'lvsprov-manifest-'));
  try {
    const file = join(dir, 'owned');
    writeFileSync(file, renderManifest(records));
    const runs = '| base64 -d | lvsprov_prefetched="$lvsprov_prefetched" sh )';
    const script = probe.replaceAll(MANIFEST_FILE, file).replace(runs, '| base64 -d >/dev/null )');
    // A probe that selects nothing has no loop that could run a recorded probe.
    if (probe.includes(runs)) expect(script).not.toBe(probe.replaceAll(MANIFEST_FILE, file));
    else expect(probe).not.toContain('base64 -d');
    const run = spawnSync('/bin/sh', ['-c', script], { encoding: 'utf8' });
    expect(run.status).toBe(0);
    return new Set(parseSections(TOKEN, run.stdout).keys());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * What the manifest probe `probe` prints on a host holding `recorded`'s manifest, each recorded
 * probe it runs printing `state[id]`: the objects the probe leaves out print nothing.
 */
function readOutput(probe: string, recorded: readonly TaskFixture[] | null, state: Record<string, string>): string {
  const records = declaredRecords(compiled(recorded ?? []));
  const byProbe = (probe: string): string => state[records.find((record) => record.probe === probe)?.id ?? ''] ?? '';
  const output = manifestRead(manifestProbe(TOKEN), recorded === null ? undefined : compiled(recorded), byProbe);
  const probed = probedLines(probe, records);
  return output.replace(new RegExp(`<<<${TOKEN} (\\d+)\n[\\s\\S]*?\n>>>${TOKEN} \\1 \\d+\n`, 'g'), (section, line: string) => (probed.has(Number(line)) ? section : ''));
}

function manifestIds(commands: readonly string[]): string[] | null {
  if (commands.some((command) => command.startsWith('rm -f -- /var/lib/lvsprov/owned'))) return null;
  const write = commands.find((command) => command.includes('/var/lib/lvsprov/owned.lvsprov-tmp'));
  const content = write && fileEffect(write, () => ({ exists: false, content: '' }))?.state.content;
  if (!content) return [];
  return content.split('\n').filter((line) => line !== '' && !line.startsWith('#')).map((line) => line.split('\t')[1] ?? '');
}

describe('pruning planner', () => {
  for (const file of readdirSync(root).filter((name) => name.endsWith('.json'))) {
    const fixture = JSON.parse(readFileSync(join(root, file), 'utf8')) as Case;
    it(`${file.replace(/\.json$/, '')}: ${fixture.why}`, () => {
      const ownership = hostOwnership(compiled(fixture.declared), fixture.mode ?? 'apply', TOKEN, fixture.keepUndeclared ?? false);
      const { prunes, manifest } = ownership.plan({ stdout: readOutput(ownership.probe, fixture.recorded, fixture.state), status: 0 }, new Map(), { host: 'test' });
      expect(
        prunes.map((change) => ({
          summary: change.summary,
          phase: change.phase,
          ...(fixture.changes.some((c) => c.task !== undefined) ? { task: change.task } : {}),
          ...(fixture.changes.some((c) => c.commands !== undefined) ? { commands: change.commands } : {}),
        })),
      ).toEqual(fixture.changes);
      // The manifest the run leaves: unchanged, rewritten, or removed.
      const expected = fixture.manifest;
      if (manifest === undefined) {
        expect(fixture.recorded === null ? null : declaredRecords(compiled(fixture.recorded)).map((record) => record.id)).toEqual(expected);
      } else {
        expect(manifestIds(manifest.commands)).toEqual(expected);
      }
    });
  }
});

describe('the manifest is written last', () => {
  const change = (summary: string): PrunedChange => ({ resource: 'x', summary, commands: [summary], task: 't' });
  const manifest = { resource: 'file /var/lib/lvsprov/owned', summary: 'record', commands: ['write manifest'] };

  it('rides on the last change, so a failing change stops the script before it', () => {
    expect(sealWithManifest([change('a'), change('b')], manifest, (m) => ({ ...m, task: 'm' }))).toEqual([change('a'), { ...change('b'), commands: ['b', 'write manifest'] }]);
  });

  it('is a change of its own when nothing else changes, and nothing when it says the same', () => {
    expect(sealWithManifest([], manifest, (m) => ({ ...m, task: 'm' }))).toEqual([{ ...manifest, task: 'm' }]);
    expect(sealWithManifest([change('a')], undefined, (m) => ({ ...m, task: 'm' }))).toEqual([change('a')]);
  });

  it('a host of several waves also writes the interim manifest at the end of each earlier wave', () => {
    const phased = (summary: string, phase: PrunedChange['phase']): PrunedChange => ({ ...change(summary), phase });
    const interim = { resource: 'file /var/lib/lvsprov/owned', summary: 'record all', commands: ['write interim'] };
    const changes = [phased('a', 'prepare'), phased('b', 'prepare'), phased('c', 'balance'), phased('d', 'retire'), phased('e', 'retire')];
    expect(sealWithManifest(changes, manifest, (m) => ({ ...m, task: 'm' }), interim).map((entry) => entry.commands)).toEqual([
      ['a'],
      ['b', 'write interim'],
      ['c', 'write interim'],
      ['d'],
      ['e', 'write manifest'],
    ]);
  });
});

describe('the interim manifest', () => {
  const vip = (address: string): TaskFixture => ({ name: `VIP ${address}`, type: 'address', spec: { address, prefix: 32, device: 'lo' } });
  const state = { 'address 198.51.100.50 on lo': '', 'address 198.51.100.51 on lo': '1: lo    inet 198.51.100.51/32 scope global lo\\       valid_lft forever preferred_lft forever\n' };
  const plan = (declared: TaskFixture[], recorded: TaskFixture[], mode: RunMode = 'apply') => {
    const ownership = hostOwnership(compiled(declared), mode, TOKEN);
    return ownership.plan({ stdout: readOutput(ownership.probe, recorded, state), status: 0 }, new Map(), { host: 'test' });
  };

  it('records what was recorded and what is declared, until the last wave removes what is not declared', () => {
    const owned = plan([vip('198.51.100.50')], [vip('198.51.100.51')]);
    expect(owned.prunes.map((change) => change.summary)).toEqual(['address 198.51.100.51 on lo: 198.51.100.51/32 label lo -> (absent)']);
    expect(manifestIds(owned.interim?.commands ?? [])).toEqual(['address 198.51.100.51 on lo', 'address 198.51.100.50 on lo']);
    expect(manifestIds(owned.manifest?.commands ?? [])).toEqual(['address 198.51.100.50 on lo']);
  });

  it('is none when it would write what the last wave writes, and none for reset', () => {
    expect(plan([vip('198.51.100.50')], []).interim).toBeUndefined();
    expect(plan([vip('198.51.100.50')], [vip('198.51.100.51')], 'reset').interim).toBeUndefined();
  });
});

describe("an object the read did not probe", () => {
  const vip = (address: string): TaskFixture => ({ name: `VIP ${address}`, type: 'address', spec: { address, prefix: 32, device: 'lo' } });

  it('is kept and recorded again, so that the next read, its first line no longer the run\'s, probes it', () => {
    const declared = compiled([vip('198.51.100.50')]);
    const extra = declaredRecords(compiled([vip('198.51.100.51')]));
    // The first line of a manifest of the declared objects alone, an object added below it by hand.
    const edited = `${renderManifest(declaredRecords(declared))}${renderManifest(extra).split('\n')[1]}\n`;
    const ownership = hostOwnership(declared, 'apply', TOKEN);
    const owned = ownership.plan({ stdout: `M ${Buffer.from(edited).toString('base64')}`, status: 0 }, new Map(), { host: 'test' });
    expect(owned.prunes).toEqual([]);
    expect(manifestIds(owned.manifest?.commands ?? [])).toEqual(['address 198.51.100.51 on lo', 'address 198.51.100.50 on lo']);
    // Written with its own first line: the next read's search runs (its line is not the run's).
    expect(ownership.probe).toContain(manifestHeader(declaredRecords(declared)));
    expect(renderManifest([...extra, ...declaredRecords(declared)]).split('\n')[0]).not.toBe(manifestHeader(declaredRecords(declared)));
  });
});

describe('a read that found the run\'s own first line (M=)', () => {
  const vip = (address: string): TaskFixture => ({ name: `VIP ${address}`, type: 'address', spec: { address, prefix: 32, device: 'lo' } });
  const sysctl: TaskFixture = { name: 'arp', role: 'realserver', type: 'sysctl', spec: { name: 'net.ipv4.conf.lo.arp_ignore', value: '1' } };
  const cases: Array<[string, TaskFixture[], RunMode, boolean]> = [
    ['apply of every task', [vip('198.51.100.50'), vip('198.51.100.51'), sysctl], 'apply', false],
    ['apply of no task that owns anything', [], 'apply', false],
  ];
  for (const [name, tasks, mode, keepUndeclared] of cases) {
    it(`${name}: plans exactly what the body it stands for plans (no prune, no write)`, () => {
      const ownership = hostOwnership(compiled(tasks), mode, TOKEN, keepUndeclared);
      const body = { stdout: `M ${Buffer.from(renderManifest(declaredRecords(compiled(tasks)))).toString('base64')}\n`, status: 0 };
      const fromBody = ownership.plan(body, new Map(), { host: 'test' });
      const fromHead = ownership.plan({ stdout: 'M=\n', status: 0 }, new Map(), { host: 'test' });
      expect(fromHead).toEqual(fromBody);
      expect(fromHead.prunes).toEqual([]);
      expect(fromHead.manifest?.summary).toBe(tasks.length === 0 ? `forget every object in ${MANIFEST_FILE}` : undefined);
    });
  }

  it('is refused where the read never asks for it (reset, a run of some tags): those reads always carry the body', () => {
    for (const [mode, keep] of [['reset', false], ['apply', true], ['reset', true]] as const) {
      expect(hostOwnership(compiled([vip('198.51.100.50')]), mode, TOKEN, keep).probe).not.toContain("M=");
      expect(() => hostOwnership(compiled([vip('198.51.100.50')]), mode, TOKEN, keep).plan({ stdout: 'M=\n', status: 0 }, new Map(), { host: 'test' })).toThrow(/unexpected ownership manifest read: M=/);
    }
  });
});

describe('the read probes only the recorded objects the plan may remove', () => {
  const vip = (address: string): TaskFixture => ({ name: `VIP ${address}`, type: 'address', spec: { address, prefix: 32, device: 'lo' } });
  const recorded = compiled([vip('198.51.100.50'), vip('198.51.100.51'), vip('198.51.100.52')]);
  // Manifest line 1 is its header: the objects are lines 2, 3 and 4.
  const probed = (declared: TaskFixture[], mode: RunMode, keepUndeclared = false): number[] =>
    [...probedLines(hostOwnership(compiled(declared), mode, TOKEN, keepUndeclared).probe, declaredRecords(recorded))].sort();

  it('apply: only what no task declares any more; nothing when tasks were left out', () => {
    expect(probed([vip('198.51.100.50'), vip('198.51.100.51'), vip('198.51.100.52')], 'apply')).toEqual([]);
    expect(probed([vip('198.51.100.50'), vip('198.51.100.52')], 'apply')).toEqual([3]);
    expect(probed([vip('198.51.100.50')], 'apply', true)).toEqual([]);
  });

  it('reset: everything recorded, or only what the selected tasks own', () => {
    expect(probed([vip('198.51.100.50')], 'reset')).toEqual([2, 3, 4]);
    expect(probed([vip('198.51.100.51')], 'reset', true)).toEqual([3]);
  });

  it('an id is matched whole and literally, never as a pattern', () => {
    const glob: TaskFixture = { name: 'glob', type: 'file', spec: { path: '/tmp/*', content: 'x\n' } };
    const star = compiled([glob, { name: 'a', type: 'file', spec: { path: '/tmp/a', content: 'x\n' } }]);
    expect([...probedLines(hostOwnership(compiled([glob]), 'apply', TOKEN).probe, declaredRecords(star))]).toEqual([3]);
    // One id inside another ("address 198.51.100.5 on lo" is not "address 198.51.100.50 on lo"):
    // the prefilter matches a whole tab-bounded field, whichever way it selects.
    const nested = compiled([vip('198.51.100.5'), vip('198.51.100.50'), vip('198.51.100.55')]);
    const lines = (declared: TaskFixture[], mode: RunMode, keep = false): number[] => [...probedLines(hostOwnership(compiled(declared), mode, TOKEN, keep).probe, declaredRecords(nested))].sort();
    expect(lines([vip('198.51.100.5')], 'apply')).toEqual([3, 4]);
    expect(lines([vip('198.51.100.50'), vip('198.51.100.55')], 'apply')).toEqual([2]);
    expect(lines([vip('198.51.100.5')], 'reset', true)).toEqual([2]);
  });
});

describe('a manifest an older lvsprov wrote, whose probe of an address read its device alone', () => {
  const spec = resourceTypes.address.schema.parse({ address: '198.51.100.51', prefix: 32, device: 'lo', label: 'lo:1' });
  const lines = [
    '1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever',
    '1: lo    inet 198.51.100.51/32 scope global lo:1\\       valid_lft forever preferred_lft forever',
  ];
  const [legacy = ''] = resourceTypes.address.legacyProbes?.(spec) ?? [];
  const entry = (probe: string, stdout: string) => ({ type: 'address', id: 'address 198.51.100.51 on lo', spec, probe, task: 'VIP 2', output: { stdout, status: 0 }, probed: true });
  const prune = (probe: string, stdout: string) => planPrune({ exists: true, text: '', entries: [entry(probe, stdout)] }, [], new Map(), { host: 'test' });

  it('is trusted: what the run no longer declares is removed in the upgrading run, not one run later', () => {
    expect(legacy).toContain("ip -o -4 addr show dev lo; else printf 'no-device\\n'");
    expect(prune(legacy, `${lines.join('\n')}\n`).changes.map((change) => change.commands)).toEqual([['ip addr del 198.51.100.51/32 dev lo']]);
    expect(prune(legacy, 'no-device\n').changes).toEqual([]);
  });

  it('is recorded again with the current probe; a probe neither lvsprov wrote is kept, not judged', () => {
    const untrusted = prune('ip -o -4 addr show dev lo', `${lines.join('\n')}\n`);
    expect(untrusted.changes).toEqual([]);
    expect(untrusted.records.map((record) => record.probe)).toEqual([resourceTypes.address.probe(spec)]);
  });
});

describe('a manifest an older lvsprov wrote, whose probe of the IPVS table read no next-hop pins', () => {
  const spec = resourceTypes.ipvs.schema.parse({ services: [{ protocol: 'tcp', address: '198.51.100.50', port: 80, real_servers: [] }] });
  const stdout = 'S -A -t 198.51.100.50:80 -s wlc\nI 0\nO ID=debian\nF-\nF-\n';
  const [legacy = ''] = resourceTypes.ipvs.legacyProbes?.(spec) ?? [];
  const entry = { type: 'ipvs', id: 'ipvs TCP 198.51.100.50:80', spec, probe: legacy, task: 'IPVS', output: { stdout, status: 0 }, probed: true };

  it('is trusted, and the service it records goes in the upgrading run', () => {
    expect(resourceTypes.ipvs.probe(spec)).toContain('proto 250');
    expect(legacy).not.toContain('proto 250');
    expect(resourceTypes.ipvs.probe(spec).replace(/\nif command -v ip [^\n]*proto 250[^\n]*/, '')).toBe(legacy);
    const plan = planPrune({ exists: true, text: '', entries: [entry] }, [], new Map(), { host: 'test' });
    expect(plan.changes.map((change) => change.commands)).toEqual([['ipvsadm -D -t 198.51.100.50:80']]);
  });
});

describe('a manifest line of a spec many hosts share', () => {
  // compile.ts gives every host that renders the same spec one frozen object; manifest.ts works
  // each line out once per such spec and record, so the cache must tell apart what the line holds.
  const spec = Object.freeze(resourceTypes.address.schema.parse({ address: '198.51.100.50', prefix: 32, device: 'lo' }));
  const record = (task: string, role?: string) => ({ type: 'address', id: 'address 198.51.100.50 on lo', spec, probe: resourceTypes.address.probe(spec), task, ...(role ? { role } : {}) });
  const line = (records: ReturnType<typeof record>[]) => renderManifest(records).split('\n')[1];
  const meta = (text: string | undefined) => JSON.parse(Buffer.from(text?.split('\t')[2] ?? '', 'base64').toString('utf8')) as unknown;

  it('is the same for the same record on every host, and names each record\'s own task and role', () => {
    expect(line([record('VIP', 'realserver-dr')])).toBe(line([record('VIP', 'realserver-dr')]));
    expect(meta(line([record('VIP', 'realserver-dr')]))).toEqual({ spec, task: 'VIP', role: 'realserver-dr' });
    expect(meta(line([record('VIP on lo', 'realserver-dr')]))).toEqual({ spec, task: 'VIP on lo', role: 'realserver-dr' });
    expect(meta(line([record('VIP on lo', 'realserver-tun')]))).toEqual({ spec, task: 'VIP on lo', role: 'realserver-tun' });
    expect(meta(line([record('VIP on lo')]))).toEqual({ spec, task: 'VIP on lo' });
  });

  it('of a spec not frozen (read back from a manifest) is rendered as it is now', () => {
    const open = { ...spec } as Record<string, unknown>;
    const unfrozen = { type: 'address', id: 'address 198.51.100.50 on lo', spec: open, probe: 'true', task: 'VIP' };
    const before = renderManifest([unfrozen]);
    open.label = 'lo:9';
    expect(renderManifest([unfrozen])).not.toBe(before);
    expect(renderManifest([unfrozen])).toContain(Buffer.from(JSON.stringify({ spec: open, task: 'VIP' })).toString('base64'));
  });
});
