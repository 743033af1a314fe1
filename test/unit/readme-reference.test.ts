import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { inventoryReference } from '../../src/config/inventory-reference.js';
import { derivedVariablesReference, roleVariablesReference } from '../../src/config/role-reference.js';

// The README's inventory reference is generated from the schema; this keeps them equal.
// To refresh it: node -e "import('./dist/config/inventory-reference.js').then(m => process.stdout.write(m.inventoryReference()))"

it('README inventory reference matches the schema', () => {
  const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');
  const section = /<!-- inventory-reference:start -->\n([\s\S]*?)<!-- inventory-reference:end -->/.exec(readme)?.[1];
  expect(section).toBe(inventoryReference());
});

// The role variables and the derived variables, generated from role.yaml and derived-variables.ts.
// To refresh: node -e "import('./dist/config/role-reference.js').then(m => process.stdout.write(m.roleVariablesReference()))"
// (and m.derivedVariablesReference()).
it('README role and derived variable tables match role.yaml and derived-variables.ts', () => {
  const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');
  const between = (marker: string) => new RegExp(`<!-- ${marker}:start -->\\n([\\s\\S]*?)<!-- ${marker}:end -->`).exec(readme)?.[1];
  expect(between('role-variables')).toBe(roleVariablesReference());
  expect(between('derived-variables')).toBe(derivedVariablesReference());
});
