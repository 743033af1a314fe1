// A task field written as nothing but one variable (`device: "{{lan_interface}}"`) takes its
// value whole from where that variable is set, so a bad value is reported there: at the
// inventory line an operator has to change, as a role variable's value is. A field that mixes
// text and variables is reported at the task.

const WHOLE_VARIABLE = /^\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$/;

/** The variable `raw`'s field at `path` (dotted, under the task's spec) consists of, if that is all it holds. */
export function wholeVariableAt(raw: unknown, path: string): string | undefined {
  let value = raw;
  for (const segment of path === '' ? [] : path.split('.')) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, segment)) return undefined;
    value = (value as Record<string, unknown>)[segment];
  }
  return typeof value === 'string' ? WHOLE_VARIABLE.exec(value)?.[1] : undefined;
}
