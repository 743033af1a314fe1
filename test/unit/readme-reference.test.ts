import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { inventoryReference } from '../../src/config/inventory-reference.js';

// The README's inventory reference is generated from the schema; this keeps them equal.
// To refresh it: node -e "import('./dist/config/inventory-reference.js').then(m => process.stdout.write(m.inventoryReference()))"

it('README inventory reference matches the schema', () => {
  const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');
  const section = /<!-- inventory-reference:start -->\n([\s\S]*?)<!-- inventory-reference:end -->/.exec(readme)?.[1];
  expect(section).toBe(inventoryReference());
});
