import type { ConfigProblem } from '../errors.js';
import { derivedVariables } from './derived-variables.js';
import { suggestion } from './suggest.js';
import { sessionStorePortOf, varOrigin, type VarLayer } from './host-vars.js';
import { hostProblem } from './host-problems.js';
import { connectPortOf } from './ssh-port.js';
import type { LoadedInventory } from './inventory.js';
import type { Role } from './roles.js';
import { describeType, describeValue, schemaOf, type VariableDeclaration, type VariableType } from './variable-types.js';
import type { PathSegment } from './yaml-source.js';

// A role variable's value is checked where the inventory sets it - cluster vars, group vars or host
// vars, whichever the host sees - against the type the role declares, so the error points at that
// line, names the variable, the role that reads it and what it expected.

/** Problems with the values `host` gives the variables `role` declares, each at the line that set it. */
export function checkRoleVariables(inventory: LoadedInventory, host: string, layers: readonly VarLayer[], role: Role): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const [name, declaration] of Object.entries(role.variables)) {
    const origin = varOrigin(layers, name);
    if (origin === undefined) continue;
    const value = layers.filter((layer) => Object.hasOwn(layer.vars, name)).at(-1)?.vars[name];
    const found = valueProblems(inventory, role, name, declaration, value, origin);
    problems.push(...found);
    if (found.length === 0 && declaration.kind.type === 'listen-port') {
      const taken = portTakenOn(inventory, host, value);
      // Said once at the line that set it, for every host whose port it takes.
      if (taken !== undefined) {
        problems.push(
          hostProblem(inventory.source.problem(origin, ''), host, (hosts) => `port ${value} is ${taken(hosts)}, and the apply would fail on the host after its other changes; choose another port (role ${role.name} reads ${name})`),
        );
      }
    }
  }
  return problems;
}

/** What already listens on `port` on `host` (said of `hosts`, those it is so on), where a role's own server could not. */
function portTakenOn(inventory: LoadedInventory, host: string, port: unknown): ((hosts: string) => string) | undefined {
  if (port === connectPortOf(inventory, host)) return (hosts) => `the SSH port lvsprov reaches ${hosts} on (ssh.port, else ssh_config's Port, else 22): a server could not listen there beside sshd`;
  if (port === sessionStorePortOf(inventory, host)) return (hosts) => `the one memcached listens on for the shared sessions on ${hosts} (lvs.sessions.port, which could change instead): a server could not listen there beside it`;
  return undefined;
}

/**
 * Every value the inventory sets for a variable one of `roles` declares, checked at every level
 * (cluster, group, host vars) whether or not a host running the role sees it: a value a host
 * never uses today (a group without such hosts yet, a level another one overrides) is still wrong.
 */
export function checkRoleVariablesWhereSet(inventory: LoadedInventory, roles: Iterable<Role>): ConfigProblem[] {
  const declaredBy = new Map<string, Role[]>();
  for (const role of roles) for (const name of Object.keys(role.variables)) declaredBy.set(name, [...(declaredBy.get(name) ?? []), role]);
  const problems: ConfigProblem[] = [];
  const check = (path: readonly PathSegment[], vars: Record<string, unknown>): void => {
    for (const name in vars) {
      for (const role of declaredBy.get(name) ?? []) problems.push(...valueProblems(inventory, role, name, role.variables[name]!, vars[name], [...path, name]));
    }
  };
  const { data } = inventory;
  check(['vars'], data.vars);
  for (const group in data.groups) check(['groups', group, 'vars'], data.groups[group]!.vars);
  const { names, entries } = inventory.hostList;
  for (let index = 0; index < names.length; index += 1) check(['hosts', names[index]!, 'vars'], entries[index]!.vars);
  return problems;
}

function valueProblems(inventory: LoadedInventory, role: Role, name: string, declaration: VariableDeclaration, value: unknown, origin: readonly PathSegment[]): ConfigProblem[] {
  const parsed = schemaOf(declaration.kind).safeParse(value);
  if (parsed.success) return [];
  const problems: ConfigProblem[] = [];
  const reads = `(role ${role.name} reads ${name})`;
  for (const issue of parsed.error.issues) {
    const where = [...origin, ...issue.path.map((segment) => (typeof segment === 'number' ? segment : String(segment)))];
    if (issue.code === 'unrecognized_keys') {
      const owner = kindAt(declaration.kind, issue.path);
      const fields = owner.type === 'object' ? Object.keys(owner.fields) : [];
      for (const key of issue.keys) problems.push(inventory.source.problem([...where, key], `unknown field ${key}${suggestion(key, fields)} ${reads}`, true));
      continue;
    }
    // Own properties only: a field named like an Object.prototype member (toString) is not there
    // because every object inherits one.
    const inner = issue.path.reduce<unknown>((node, segment) => (node !== null && typeof node === 'object' && Object.hasOwn(node, segment) ? (node as Record<PropertyKey, unknown>)[segment as PropertyKey] : undefined), value);
    const kind = kindAt(declaration.kind, issue.path);
    // A wrong value, or a wrong part of one (an item of a list, a field of an object): say what
    // its type accepts, not zod's words.
    const wrongType = ['invalid_type', 'invalid_value', 'too_small', 'too_big'].includes(issue.code);
    const detail =
      inner === undefined
        ? `missing: expected ${describeType(kind)}`
        : wrongType
          ? `expected ${describeType(kind)}, got ${describeValue(inner)}`
          : `${issue.message}; got ${describeValue(inner)}`;
    problems.push(inventory.source.problem(where, `${detail} ${reads}`));
  }
  return problems;
}

/** The declared type of the part of a value at `path` (an item of a list, a field of an object). */
function kindAt(kind: VariableType, path: readonly PropertyKey[]): VariableType {
  let at = kind;
  for (const segment of path) {
    if (at.type === 'list') at = at.items;
    else if (at.type === 'object' && Object.hasOwn(at.fields, segment)) at = at.fields[segment as string]!;
    else break;
  }
  return at;
}

/** A derived variable set in the inventory would be silently overridden: refuse it at that line. */
export function checkDerivedNotSet(inventory: LoadedInventory, layers: readonly VarLayer[]): ConfigProblem[] {
  return layers.flatMap((layer) =>
    Object.keys(layer.vars)
      .filter((name) => Object.hasOwn(derivedVariables, name))
      .map((name) => inventory.source.problem([...layer.path, name], `${name} is derived by lvsprov from the inventory (${derivedVariables[name]?.description}); it cannot be set`, true)),
  );
}
