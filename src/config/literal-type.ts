import type { VariableType } from './variable-types.js';

// The type of values written in place, as a role's check reads them: a loop's list written in the
// task (`loop: [{ name: a, port: 80 }]`) gives `item` the fields its mappings have, so a misspelt
// `{{ item.nmae }}` is refused when the role loads, as it is for a declared list variable.

const isMapping = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The one type every value of `values` has: mappings' fields (a field some lack is optional), lists' items, else a scalar's. */
export function literalType(values: readonly unknown[]): VariableType {
  if (values.length > 0 && values.every((value) => typeof value === 'boolean')) return { type: 'boolean' };
  if (values.length > 0 && values.every((value) => Number.isInteger(value))) return { type: 'integer', min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER };
  if (values.length > 0 && values.every(Array.isArray)) return { type: 'list', items: literalType(values.flat()) };
  if (values.length > 0 && values.every(isMapping)) {
    const names = [...new Set(values.flatMap((value) => Object.keys(value)))];
    const fields = Object.fromEntries(names.map((name) => [name, literalType(values.filter((value) => Object.hasOwn(value, name)).map((value) => value[name]))]));
    const optional = names.filter((name) => !values.every((value) => Object.hasOwn(value, name)));
    return optional.length > 0 ? { type: 'object', fields, optional_fields: optional } : { type: 'object', fields };
  }
  return { type: 'string' };
}
