import type { ConfigProblem } from '../errors.js';
import { derivedVariables } from './derived-variables.js';
import { varOrigin, type VarLayer } from './host-vars.js';
import type { LoadedInventory } from './inventory.js';
import type { Role } from './roles.js';
import { describeType, describeValue, schemaOf } from './variable-types.js';

// A role variable's value is checked where the inventory sets it - cluster vars, group vars or host
// vars, whichever the host sees - against the type the role declares, so the error points at that
// line, names the variable, the role that reads it and what it expected.

/** Problems with the values `host` gives the variables `role` declares, each at the line that set it. */
export function checkRoleVariables(inventory: LoadedInventory, layers: readonly VarLayer[], role: Role): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const [name, declaration] of Object.entries(role.variables)) {
    const origin = varOrigin(layers, name);
    if (origin === undefined) continue;
    const value = layers.filter((layer) => Object.hasOwn(layer.vars, name)).at(-1)?.vars[name];
    const parsed = schemaOf(declaration.kind).safeParse(value);
    if (parsed.success) continue;
    const reads = `(role ${role.name} reads ${name})`;
    for (const issue of parsed.error.issues) {
      const where = [...origin, ...issue.path.map((segment) => (typeof segment === 'number' ? segment : String(segment)))];
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) problems.push(inventory.source.problem([...where, key], `unknown field ${key} ${reads}`, true));
        continue;
      }
      const inner = issue.path.reduce<unknown>((node, segment) => (node !== null && typeof node === 'object' ? (node as Record<PropertyKey, unknown>)[segment as PropertyKey] : undefined), value);
      const wrongType = (issue.code === 'invalid_type' || issue.code === 'invalid_value') && issue.path.length === 0;
      const detail =
        inner === undefined ? `missing (${issue.message})` : wrongType ? `expected ${describeType(declaration.kind)}, got ${describeValue(value)}` : `${issue.message}; got ${describeValue(inner)}`;
      problems.push(inventory.source.problem(where, `${detail} ${reads}`));
    }
  }
  return problems;
}

/** A derived variable set in the inventory would be silently overridden: refuse it at that line. */
export function checkDerivedNotSet(inventory: LoadedInventory, layers: readonly VarLayer[]): ConfigProblem[] {
  return layers.flatMap((layer) =>
    Object.keys(layer.vars)
      .filter((name) => Object.hasOwn(derivedVariables, name))
      .map((name) => inventory.source.problem([...layer.path, name], `${name} is derived by lvsprov from the inventory (${derivedVariables[name]?.description}); it cannot be set`, true)),
  );
}
