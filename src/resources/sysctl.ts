import { z } from 'zod';
import { sysctlName, sysctlValue, writtenFilePath } from '../config/values.js';
import { ABSENT_FILE, parseFileLine, readFileSnippet, removeFileChange, writeFileChange, type FileState } from './file-state.js';
import {
  DEFAULT_RP_FILTER,
  ORIGINALS_FILE,
  forgetOriginalsCommands,
  kernelDefault,
  parseOriginals,
  readOriginalsSnippet,
  recordOriginalsCommands,
} from './sysctl-originals.js';
import { readRuntimeSnippet, setRuntimeCommand } from './sysctl-runtime.js';
import type { Change, ProbeOutput, ResourceType } from './types.js';

// Kernel parameters, set at runtime (as `sysctl -w` sets them, see sysctl-runtime.ts) and persisted in a file under /etc/sysctl.d
// that this task owns whole. Both are read and both are compared: a value right at runtime but
// missing from the file would be lost at the next boot. The value a key had before lvsprov took
// it over is recorded on the host (sysctl-originals.ts), and reset puts it back.

// `values` names its keys in the task; `name` and `value` set one key whose name a template makes
// (`net.ipv4.conf.{{item.key}}.send_redirects` in a loop over interfaces): a mapping's keys are
// never templated, its values are. Either way the task holds a `values` mapping from here on.
export const sysctlSchema = z
  .object({
    file: writtenFilePath.default('/etc/sysctl.d/90-lvsprov.conf'),
    values: z.record(sysctlName, sysctlValue).optional(),
    name: sysctlName.optional(),
    value: sysctlValue.optional(),
    persist: z.boolean().default(true),
  })
  .strict()
  .superRefine((spec, ctx) => {
    const single = spec.name !== undefined || spec.value !== undefined;
    if (spec.values !== undefined && single) ctx.addIssue({ code: 'custom', path: ['name'], message: 'give either values (a mapping of keys) or name and value (one key), not both' });
    else if (spec.values === undefined && !single) ctx.addIssue({ code: 'custom', path: ['values'], message: 'needs values (a mapping of keys) or name and value (one key)' });
    else if (single && spec.name === undefined) ctx.addIssue({ code: 'custom', path: ['name'], message: 'needs a name for its value' });
    else if (single && spec.value === undefined) ctx.addIssue({ code: 'custom', path: ['value'], message: 'needs a value for its name' });
  })
  .transform(({ file, values, name, value, persist }) => ({ file, values: values ?? { [name as string]: value as string }, persist }));

export type SysctlSpec = z.output<typeof sysctlSchema>;

export interface SysctlFacts {
  /** Runtime values; null when the key does not exist (yet), e.g. an interface not created. */
  readonly runtime: Readonly<Record<string, string | null>>;
  readonly file: FileState;
  /** Values recorded before lvsprov first changed them, for this task's keys. */
  readonly originals: Readonly<Record<string, string>>;
}

/** The kernel prints multi-field values separated by tabs; compare them by their fields. */
function normalise(value: string): string {
  return value.trim().split(/\s+/).join(' ');
}

export function renderSysctlFile(values: Readonly<Record<string, string>>): string {
  const lines = Object.entries(values).map(([name, value]) => `${name} = ${value}`);
  return `# Managed by lvsprov; edits here are overwritten.\n${lines.join('\n')}\n`;
}

/**
 * Keys whose current value is recorded before the plan's first command: those without a record
 * that the plan changes at runtime, and - when the plan creates the task's file, i.e. lvsprov
 * takes the task over on this host - every key of it, so that a value already right (a router
 * that forwarded before lvsprov) is kept by reset too.
 */
function keysToRecord(spec: SysctlSpec, facts: SysctlFacts): string[] {
  const takingOver = spec.persist && !facts.file.exists;
  return Object.entries(spec.values)
    .filter(([name, wanted]) => facts.originals[name] === undefined && (takingOver || !inSync(facts.runtime[name], wanted)))
    .map(([name]) => name);
}

function inSync(current: string | null | undefined, wanted: string): boolean {
  return current !== undefined && current !== null && normalise(current) === normalise(wanted);
}

/** Whether the task's file sets `name`: proof that lvsprov applied the key on this host. */
function fileSets(file: FileState, name: string): boolean {
  return file.exists && file.content.split('\n').some((line) => line.split('=')[0]?.trim() === name);
}

/** What reset puts a key back to: its record, else (for a key lvsprov set) the kernel default, else null. */
function resetValue(spec: SysctlSpec, facts: SysctlFacts, name: string): { value: string; recorded: boolean } | null {
  const recorded = facts.originals[name];
  if (recorded !== undefined) {
    // The record came from the host, so it is checked like any value before it reaches a shell.
    const valid = sysctlValue.safeParse(recorded);
    if (!valid.success) throw new Error(`the value recorded for ${name} in ${ORIGINALS_FILE} is not a plain sysctl value: ${recorded.slice(0, 80)}`);
    return { value: valid.data, recorded: true };
  }
  const fallback = spec.persist && fileSets(facts.file, name) ? kernelDefault(name, facts.runtime) : null;
  return fallback === null ? null : { value: fallback, recorded: false };
}

export const sysctl: ResourceType<SysctlSpec, SysctlFacts> = {
  name: 'sysctl',
  schema: sysctlSchema,

  key: (spec) => `sysctl ${spec.file}`,

  probe(spec) {
    const keys = Object.keys(spec.values);
    // A device's rp_filter goes back to what `default` holds when no original was recorded.
    if (keys.some((name) => name.endsWith('.rp_filter')) && !keys.includes(DEFAULT_RP_FILTER)) keys.push(DEFAULT_RP_FILTER);
    return [
      readRuntimeSnippet(keys),
      readFileSnippet(spec.file),
      readOriginalsSnippet(),
    ].join('\n');
  },

  parse(output: ProbeOutput, spec): SysctlFacts {
    const runtime: Record<string, string | null> = {};
    let fileLine: string | undefined;
    for (const line of output.stdout.split('\n')) {
      if (line.startsWith('R ')) {
        const [, name = '', ...value] = line.split(' ');
        runtime[name] = value.join(' ');
      } else if (line.startsWith('M ')) {
        runtime[line.slice(2)] = null;
      } else if (line.startsWith('F')) {
        fileLine = line;
      }
    }
    const originals = parseOriginals(output.stdout.split('\n'), Object.keys(spec.values));
    return { runtime, file: parseFileLine(fileLine), originals };
  },

  plan(spec, facts) {
    const changes: Change[] = [];
    for (const [name, wanted] of Object.entries(spec.values)) {
      const current = facts.runtime[name];
      if (current !== undefined && current !== null && normalise(current) === normalise(wanted)) continue;
      changes.push({
        resource: `sysctl ${name}`,
        summary: `set ${name} ${current ?? '(absent)'} -> ${wanted}`,
        diff: { kind: 'value', before: current ?? '(absent)', after: wanted },
        commands: [setRuntimeCommand(name, wanted)],
      });
    }
    if (spec.persist) {
      const write = writeFileChange(spec.file, facts.file, renderSysctlFile(spec.values), '644');
      if (write) changes.push(write);
    }
    const record = keysToRecord(spec, facts);
    const [first] = changes;
    if (record.length > 0 && first !== undefined) changes[0] = { ...first, commands: [...recordOriginalsCommands(record, facts.runtime), ...first.commands] };
    return changes;
  },

  after(spec, facts) {
    const runtime = { ...facts.runtime, ...spec.values };
    const file = spec.persist ? { exists: true, content: renderSysctlFile(spec.values), mode: '644' } : facts.file;
    const recorded = keysToRecord(spec, facts).flatMap((name) => {
      const value = facts.runtime[name];
      return value === undefined || value === null ? [] : [[name, value] as const];
    });
    return { runtime, file, originals: { ...facts.originals, ...Object.fromEntries(recorded) } };
  },

  // Each key is its own object, so a key that leaves a task (or moves to another file) goes back
  // to its original while the others stay; the task's file is a file object of its own.
  owns(spec) {
    const keys = Object.entries(spec.values).map(([name, value]) => ({ id: `sysctl ${name}`, spec: { file: spec.file, values: { [name]: value }, persist: false } }));
    const file = { path: spec.file, content: '', mode: '644', state: 'present' };
    return spec.persist ? [...keys, { id: `file ${spec.file}`, type: 'file', spec: file }] : keys;
  },

  mergeOwned: (a, b) => (a.file === b.file && !a.persist && !b.persist ? { ...a, values: { ...a.values, ...b.values } } : undefined),

  // Each key back to its recorded original, the task's file removed, then the records dropped:
  // a restore that fails keeps its record for the next reset.
  reset: {
    plan(spec, facts) {
      const changes: Change[] = [];
      for (const name of Object.keys(spec.values)) {
        const target = resetValue(spec, facts, name);
        const current = facts.runtime[name];
        if (target === null || current === undefined || current === null || inSync(current, target.value)) continue;
        const why = target.recorded ? '' : ' (kernel default: no original was recorded)';
        changes.push({
          resource: `sysctl ${name}`,
          summary: `restore ${name} ${normalise(current)} -> ${target.value}${why}`,
          diff: { kind: 'value', before: normalise(current), after: target.value },
          commands: [setRuntimeCommand(name, target.value)],
        });
      }
      if (spec.persist && facts.file.exists) changes.push(removeFileChange(spec.file, facts.file));
      const recorded = Object.keys(spec.values).filter((name) => facts.originals[name] !== undefined);
      if (recorded.length > 0) {
        changes.push({
          resource: `file ${ORIGINALS_FILE}`,
          summary: `forget ${recorded.length} recorded original${recorded.length === 1 ? '' : 's'} in ${ORIGINALS_FILE}`,
          diff: { kind: 'value', before: recorded.map((name) => `${name}=${facts.originals[name] ?? ''}`).join(', '), after: '(absent)' },
          commands: forgetOriginalsCommands(recorded),
        });
      }
      return changes;
    },

    after(spec, facts) {
      const runtime = { ...facts.runtime };
      for (const name of Object.keys(spec.values)) {
        const target = resetValue(spec, facts, name);
        if (target !== null && runtime[name] !== undefined && runtime[name] !== null) runtime[name] = target.value;
      }
      const originals = Object.fromEntries(Object.entries(facts.originals).filter(([name]) => !Object.hasOwn(spec.values, name)));
      return { runtime, file: spec.persist ? ABSENT_FILE : facts.file, originals };
    },
  },
};
