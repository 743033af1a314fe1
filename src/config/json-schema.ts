import { z } from 'zod';
import { inventorySchema } from './inventory-schema.js';

// The inventory's JSON Schema, generated from the zod schema that validates it, so that editors
// (yaml-language-server) complete and check the same keys lvsprov accepts. The copy shipped in
// schema/inventory.schema.json is kept equal to this by a unit test.

export function inventoryJsonSchema(): Record<string, unknown> {
  // `input`: what a person writes, so keys with defaults are optional.
  return { ...z.toJSONSchema(inventorySchema, { io: 'input' }), title: 'lvsprov inventory' };
}

export function inventoryJsonSchemaText(): string {
  return `${JSON.stringify(inventoryJsonSchema(), null, 2)}\n`;
}
