import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { serverKey } from '../../src/engine/wave-plan.js';
import { describe, expect, it } from 'vitest';
import { resourceTypes } from '../../src/resources/registry.js';
import type { AnyResourceType, Change } from '../../src/resources/types.js';
import { applyCommands, UNMODELLED } from '../support/command-model.js';

// Table-driven: one JSON file per case under test/fixtures/resources/<type>/. A case gives a spec,
// the probe's output, optionally the facts it must parse to, and the exact changes the planner
// must return. Every case also proves the planner converges: its commands are applied to a model
// of the host (test/support/command-model.ts) and, planned again against the result, it must plan
// nothing; planned against what `after` predicts, nothing either. An optional `reset` section gives the exact changes
// `lvsprov reset` plans from the same facts (none for a type without a reset planner), and every
// case of a type with one proves a second reset plans nothing. An optional `notes` gives the lines
// the type says about those facts that are no change (every case of a type with notes is checked:
// none where the fixture gives none).

interface ExpectedChange {
  resource?: string;
  summary: string;
  commands: string[];
  diff?: unknown;
  /** The wave the change runs in; checked where a fixture gives it ('prepare' when the change has none). */
  phase?: string;
  /** The real server the engine drains for it (`-t VIP:PORT RIP:PORT`); checked where a fixture gives it ('' for none). */
  leaving?: string;
  /** Whether the directors drain the host's servers they keep at weight 0 before this change (a pool daemon's restart); checked where a fixture gives it. */
  restartsPool?: boolean;
  /** Whether the change moves the host's replies from one director gateway to another (deferred to the reroute wave); checked where a fixture gives it. */
  movesGateway?: boolean;
}

interface Case {
  spec: unknown;
  output: { stdout: string; status: number };
  facts?: unknown;
  probe?: string;
  changes: ExpectedChange[];
  reset?: { changes: ExpectedChange[] };
  /** Debian packages an earlier task of the run installs (HostContext.installing). */
  installing?: string[];
  /** Resources that earlier tasks of the run change (HostContext.changed), e.g. `file /etc/memcached.conf`. */
  changed?: string[];
  /** What the type notes about the facts without changing anything (ResourceType.notes). */
  notes?: string[];
  /** A pattern of the error the probe's output must stop the host with (parse or plan), instead of changes. */
  error?: string;
}

const root = join(import.meta.dirname, '../fixtures/resources');

/** The fields of each change that the fixture spells out: resource and diff only where it gives them. */
function shape(changes: readonly Change[], expected: readonly ExpectedChange[]): unknown[] {
  return changes.map((change) => ({
    ...(expected.some((c) => c.resource !== undefined) ? { resource: change.resource } : {}),
    summary: change.summary,
    commands: change.commands,
    ...(expected.some((c) => c.diff !== undefined) ? { diff: change.diff } : {}),
    ...(expected.some((c) => c.phase !== undefined) ? { phase: change.phase ?? 'prepare' } : {}),
    ...(expected.some((c) => c.leaving !== undefined) ? { leaving: change.leaving ? serverKey(change.leaving) : '' } : {}),
    ...(expected.some((c) => c.restartsPool !== undefined) ? { restartsPool: change.restartsPool === true } : {}),
    ...(expected.some((c) => c.movesGateway !== undefined) ? { movesGateway: change.movesGateway === true } : {}),
  }));
}

for (const typeName of readdirSync(root)) {
  const type = (resourceTypes as Record<string, AnyResourceType>)[typeName];
  describe(`resource ${typeName}`, () => {
    it('is registered', () => expect(type).toBeDefined());
    if (!type) return;
    for (const file of readdirSync(join(root, typeName)).filter((name) => name.endsWith('.json'))) {
      const fixture = JSON.parse(readFileSync(join(root, typeName, file), 'utf8')) as Case;
      it(file.replace(/\.json$/, ''), () => {
        const spec = type.schema.parse(fixture.spec);
        if (fixture.probe !== undefined) expect(type.probe(spec)).toBe(fixture.probe);
        // What this run's earlier tasks changed is known to this plan only; the plans that prove
        // convergence are the next run's, where nothing changed before the task.
        const nextRun = { host: 'test', ...(fixture.installing ? { installing: new Set(fixture.installing) } : {}) };
        const context = { ...nextRun, ...(fixture.changed ? { changed: new Set(fixture.changed) } : {}) };
        if (fixture.error !== undefined) {
          expect(() => type.plan(spec, type.parse(fixture.output, spec), context)).toThrow(new RegExp(fixture.error));
          return;
        }
        const facts = type.parse(fixture.output, spec);
        if (fixture.facts !== undefined) expect(facts).toEqual(fixture.facts);
        const changes = type.plan(spec, facts, context);
        expect(shape(changes, fixture.changes)).toEqual(fixture.changes);
        expect((type.notes?.(spec, facts) ?? []).map((note) => note.text)).toEqual(fixture.notes ?? []);
        expect(type.plan(spec, type.after(spec, facts), nextRun)).toEqual([]);
        if (!UNMODELLED.has(type.name)) {
          const applied = applyCommands(type.name, facts, changes.flatMap((change) => change.commands));
          expect(type.plan(spec, applied, nextRun)).toEqual([]);
        }

        if (fixture.reset !== undefined) {
          expect(shape(type.reset?.plan(spec, facts, context) ?? [], fixture.reset.changes)).toEqual(fixture.reset.changes);
        }
        if (type.reset !== undefined) {
          const undone = type.reset.plan(spec, facts, context);
          expect(type.reset.plan(spec, type.reset.after(spec, facts), context)).toEqual([]);
          if (!UNMODELLED.has(type.name)) {
            expect(type.reset.plan(spec, applyCommands(type.name, facts, undone.flatMap((change) => change.commands)), context)).toEqual([]);
          }
        }
      });
    }
  });
}
