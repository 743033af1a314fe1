import type { Vars } from './host-vars.js';
import { lookup, MissingVariableError, wholeReference } from './render.js';

// A task field written as nothing but one variable (`device: "{{lan_interface}}"`) takes its
// value whole from where that variable is set, so a bad value is reported there: at the
// inventory line an operator has to change, as a role variable's value is. A field that mixes
// text and variables is reported at the task.

/** The variable `raw`'s field at `path` (dotted, under the task's spec) consists of, if that is all it holds. */
export function wholeVariableAt(raw: unknown, path: string): string | undefined {
  let value: unknown;
  try {
    value = path === '' ? raw : lookup(raw as Vars, path);
  } catch (error) {
    if (error instanceof MissingVariableError) return undefined;
    throw error;
  }
  const reference = typeof value === 'string' ? wholeReference(value) : undefined;
  // A path into a variable (`{{vip.address}}`) is not the variable's own node.
  return reference !== undefined && !reference.includes('.') ? reference : undefined;
}
