import { z } from 'zod';
import { quote } from '../shell/quote.js';
import { absolutePath, sysctlName, sysctlValue } from '../config/values.js';
import { parseFileLine, readFileSnippet, writeFileCommands, type FileState } from './file-state.js';
import type { Change, ProbeOutput, ResourceType } from './types.js';

// Kernel parameters, set at runtime with `sysctl -w` and persisted in a file under /etc/sysctl.d
// that this task owns whole. Both are read and both are compared: a value right at runtime but
// missing from the file would be lost at the next boot.

export const sysctlSchema = z
  .object({
    file: absolutePath.default('/etc/sysctl.d/90-lvsprov.conf'),
    values: z.record(sysctlName, sysctlValue),
    persist: z.boolean().default(true),
  })
  .strict();

export type SysctlSpec = z.output<typeof sysctlSchema>;

export interface SysctlFacts {
  /** Runtime values; null when the key does not exist (yet), e.g. an interface not created. */
  readonly runtime: Readonly<Record<string, string | null>>;
  readonly file: FileState;
}

/** The kernel prints multi-field values separated by tabs; compare them by their fields. */
function normalise(value: string): string {
  return value.trim().split(/\s+/).join(' ');
}

export function renderSysctlFile(values: Readonly<Record<string, string>>): string {
  const lines = Object.entries(values).map(([name, value]) => `${name} = ${value}`);
  return `# Managed by lvsprov; edits here are overwritten.\n${lines.join('\n')}\n`;
}

export const sysctl: ResourceType<SysctlSpec, SysctlFacts> = {
  name: 'sysctl',
  schema: sysctlSchema,

  key: (spec) => `sysctl ${spec.file}`,

  probe(spec) {
    const names = Object.keys(spec.values).map(quote).join(' ');
    return [
      `for k in ${names}; do if v=$(sysctl -n -- "$k" 2>/dev/null); then printf 'R %s %s\\n' "$k" "$v"; else printf 'M %s\\n' "$k"; fi; done`,
      readFileSnippet(spec.file),
    ].join('\n');
  },

  parse(output: ProbeOutput): SysctlFacts {
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
    return { runtime, file: parseFileLine(fileLine) };
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
        commands: [`sysctl -q -w ${quote(`${name}=${wanted}`)}`],
      });
    }
    if (spec.persist) {
      const content = renderSysctlFile(spec.values);
      if (!facts.file.exists || facts.file.content !== content || facts.file.mode !== '644') {
        changes.push({
          resource: `file ${spec.file}`,
          summary: facts.file.exists ? `update ${spec.file}` : `create ${spec.file}`,
          diff: { kind: 'file', before: facts.file.content, after: content },
          commands: writeFileCommands(spec.file, content, '644'),
        });
      }
    }
    return changes;
  },

  after(spec, facts) {
    const runtime = { ...facts.runtime, ...spec.values };
    const file = spec.persist ? { exists: true, content: renderSysctlFile(spec.values), mode: '644' } : facts.file;
    return { runtime, file };
  },
};
