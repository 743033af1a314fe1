import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { derivedVariables } from '../../src/config/derived-variables.js';
import { hostVars, varLayers } from '../../src/config/host-vars.js';
import { loadInventory } from '../../src/config/inventory.js';
import { schemaOf } from '../../src/config/variable-types.js';

// The derived variables' declared types (which the role checks and the README use) hold for what
// host-vars.ts actually derives, on every example and lab inventory, and nothing is derived that
// is not declared.

const inventories = join(import.meta.dirname, '../../inventories');

describe.each(readdirSync(inventories).filter((name) => name.endsWith('.yaml')))('%s', (name) => {
  const inventory = loadInventory(join(inventories, name));

  it.each(Object.keys(inventory.data.hosts))('host %s: every derived value has its declared type', (host) => {
    const vars = hostVars(inventory, host);
    const set = new Set(varLayers(inventory, host).flatMap((layer) => Object.keys(layer.vars)));
    const derived = Object.keys(vars).filter((key) => !set.has(key) || Object.hasOwn(derivedVariables, key));
    expect(derived.filter((key) => !Object.hasOwn(derivedVariables, key))).toEqual([]);
    for (const [variable, declaration] of Object.entries(derivedVariables)) {
      if (vars[variable] === undefined) {
        expect(declaration.optional, `${variable} is absent on ${host}`).toBe(true);
        continue;
      }
      const parsed = schemaOf(declaration.kind).safeParse(vars[variable]);
      expect(parsed.success, `${variable} on ${host}: ${JSON.stringify(parsed.error?.issues)}`).toBe(true);
    }
  });
});
