import { z } from 'zod';
import { inventorySchema } from './inventory-schema.js';

// The inventory reference in the README is generated from the schema itself, so the two cannot
// drift apart (a unit test compares them).

interface JsonSchema {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
}

function typeOf(schema: JsonSchema): string {
  if (schema.anyOf) return [...new Set(schema.anyOf.map(typeOf))].join(' or ');
  if (schema.enum) return schema.enum.map((value) => `\`${String(value)}\``).join(' ');
  if (schema.const !== undefined) return `\`${String(schema.const)}\``;
  const type = Array.isArray(schema.type) ? schema.type.join(' or ') : schema.type ?? 'any';
  if (type === 'array' && schema.items) return `list of ${typeOf(schema.items)}`;
  if (type === 'object' && !schema.properties && typeof schema.additionalProperties === 'object') return 'map';
  if ((type === 'integer' || type === 'number') && schema.minimum !== undefined && schema.maximum !== undefined) {
    return `${type} ${schema.minimum}-${schema.maximum}`;
  }
  return type;
}

function rows(schema: JsonSchema, path: string, required: boolean, out: string[]): void {
  const defaultText = schema.default !== undefined ? `\`${JSON.stringify(schema.default)}\`` : required ? 'required' : '';
  if (path) out.push(`| \`${path}\` | ${typeOf(schema)} | ${defaultText} | ${schema.description ?? ''} |`);
  // A host's own ssh block takes the same keys as the top-level one; listing them twice adds nothing.
  if (path.endsWith('>.ssh')) return;
  const object = schema.anyOf?.find((branch) => branch.properties) ?? schema;
  for (const [key, child] of Object.entries(object.properties ?? {})) {
    rows(child, path ? `${path}.${key}` : key, object.required?.includes(key) ?? false, out);
  }
  if (typeof object.additionalProperties === 'object' && !object.properties) {
    const placeholder = path.endsWith('hosts') ? '<host>' : path.endsWith('groups') ? '<group>' : path.endsWith('vips') ? '<vip>' : '<name>';
    if (object.additionalProperties.properties) rows(object.additionalProperties, `${path}.${placeholder}`, false, out);
  }
  if (object.items?.properties || object.items?.anyOf) rows(object.items, `${path}[]`, false, out);
}

export function inventoryReference(): string {
  const schema = z.toJSONSchema(inventorySchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const out = ['| key | type | default | meaning |', '| --- | --- | --- | --- |'];
  rows(schema, '', true, out);
  return `${out.join('\n')}\n`;
}
