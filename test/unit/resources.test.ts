import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resourceTypes } from '../../src/resources/registry.js';
import type { AnyResourceType } from '../../src/resources/types.js';

// Table-driven: one JSON file per case under test/fixtures/resources/<type>/. A case gives a spec,
// the probe's output, optionally the facts it must parse to, and the exact changes the planner
// must return. Every case also proves the planner converges: planned against the facts predicted
// after its own changes, it must plan nothing.

interface Case {
  spec: unknown;
  output: { stdout: string; status: number };
  facts?: unknown;
  probe?: string;
  changes: Array<{ resource?: string; summary: string; commands: string[]; diff?: unknown }>;
}

const root = join(import.meta.dirname, '../fixtures/resources');

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
        const facts = type.parse(fixture.output, spec);
        if (fixture.facts !== undefined) expect(facts).toEqual(fixture.facts);
        const changes = type.plan(spec, facts, { host: 'test' });
        expect(
          changes.map((change) => ({
            ...(fixture.changes.some((c) => c.resource !== undefined) ? { resource: change.resource } : {}),
            summary: change.summary,
            commands: change.commands,
            ...(fixture.changes.some((c) => c.diff !== undefined) ? { diff: change.diff } : {}),
          })),
        ).toEqual(fixture.changes);
        expect(type.plan(spec, type.after(spec, facts), { host: 'test' })).toEqual([]);
      });
    }
  });
}
