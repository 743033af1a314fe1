import { formatProblem } from '../errors.js';
import { derivedVariables } from './derived-variables.js';
import type { LoadedInventory } from './inventory.js';
import type { Role } from './roles.js';
import { nearestNames } from './suggest.js';
import type { PathSegment } from './yaml-source.js';

// An inventory variable that no role of the playbook declares is allowed (a playbook's own tasks
// read any), but one a letter away from a variable a role does read is most likely that one
// misspelt (`web_prot: 8080` leaves web_port at its default, silently): a warning with the name
// meant, at the key. Names the playbook's own tasks mention are left alone.

/** `playbookTasks`: the playbook's own tasks as text, to leave the names they mention alone. */
export function misspeltVariableWarnings(inventory: LoadedInventory, roles: Iterable<Role>, playbookTasks: string): string[] {
  const declared = new Set<string>(Object.keys(derivedVariables));
  for (const role of roles) for (const name of Object.keys(role.variables)) declared.add(name);
  const meant = new Map<string, string | undefined>();
  const warnings: string[] = [];
  const check = (path: readonly PathSegment[], vars: Record<string, unknown>): void => {
    for (const name in vars) {
      if (declared.has(name)) continue;
      if (!meant.has(name)) meant.set(name, playbookTasks.includes(name) ? undefined : nearestNames(name, declared, 1)[0]);
      const near = meant.get(name);
      if (near !== undefined) {
        warnings.push(formatProblem(inventory.source.problem([...path, name], `variable ${name} is read by no role of the playbook: did you mean ${near}?`, true)));
      }
    }
  };
  check(['vars'], inventory.data.vars);
  for (const group in inventory.data.groups) check(['groups', group, 'vars'], inventory.data.groups[group]!.vars);
  const { names, entries } = inventory.hostList;
  for (let index = 0; index < names.length; index += 1) check(['hosts', names[index]!, 'vars'], entries[index]!.vars);
  return warnings;
}
