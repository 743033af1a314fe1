import { Command } from 'commander';
import { inventoryJsonSchemaText } from '../config/json-schema.js';
import type { CliIo } from './io.js';

export function schemaCommand(io: CliIo): Command {
  return new Command('schema')
    .description('print the JSON Schema of the inventory (also shipped as schema/inventory.schema.json) for editors')
    .action(() => io.out(inventoryJsonSchemaText().trimEnd()));
}
