import { z } from 'zod';
import { command, quote } from '../shell/quote.js';
import { moduleName } from '../config/values.js';
import { ABSENT_FILE, parseFileLine, readFileSnippet, removeFileChange, writeFileChange, type FileState } from './file-state.js';
import type { Change, ProbeOutput, ResourceType } from './types.js';

// A kernel module loaded now (`ip_vs`, a scheduler such as `ip_vs_wrr`, `ipip` for TUN) and,
// unless told otherwise, loaded at every boot through a modules-load.d file that lvsprov owns
// whole, one per module, so removing the persistence never touches an operator's own files.

export const kmodSchema = z
  .object({
    name: moduleName,
    persist: z.boolean().default(true),
  })
  .strict();

export type KmodSpec = z.output<typeof kmodSchema>;

export interface KmodFacts {
  /** `builtin` modules never show in /sys/module unless they take parameters, yet need no load. */
  readonly state: 'loaded' | 'builtin' | 'absent';
  readonly file: FileState;
}

export function kmodFile(name: string): string {
  return `/etc/modules-load.d/lvsprov-${name}.conf`;
}

export function renderKmodFile(name: string): string {
  return `# Managed by lvsprov; edits here are overwritten.\n${name}\n`;
}

const STATES = new Set<KmodFacts['state']>(['loaded', 'builtin', 'absent']);

export const kmod: ResourceType<KmodSpec, KmodFacts> = {
  name: 'kmod',
  schema: kmodSchema,

  key: (spec) => `kmod ${spec.name}`,

  probe(spec) {
    // The kernel treats - and _ in module names alike; sysfs always shows _.
    const sysName = spec.name.replace(/-/g, '_');
    const builtinPattern = `/${sysName.replace(/_/g, '[-_]')}\\.ko$`;
    return [
      `if [ -d /sys/module/${quote(sysName)} ]; then printf 'K loaded\\n'; ` +
        `elif grep -qs -- ${quote(builtinPattern)} "/lib/modules/$(uname -r)/modules.builtin"; then printf 'K builtin\\n'; ` +
        `else printf 'K absent\\n'; fi`,
      readFileSnippet(kmodFile(spec.name)),
    ].join('\n');
  },

  parse(output: ProbeOutput, spec): KmodFacts {
    if (output.status !== 0) throw new Error(`reading module ${spec.name} failed with status ${output.status}`);
    const lines = output.stdout.split('\n');
    const state = lines.find((line) => line.startsWith('K '))?.slice(2) as KmodFacts['state'] | undefined;
    if (state === undefined || !STATES.has(state)) throw new Error(`unexpected module probe output: ${output.stdout.slice(0, 120)}`);
    return { state, file: parseFileLine(lines.find((line) => line.startsWith('F'))) };
  },

  plan(spec, facts) {
    const changes: Change[] = [];
    if (facts.state === 'absent') {
      changes.push({
        resource: `kmod ${spec.name}`,
        summary: `load module ${spec.name}`,
        diff: { kind: 'value', before: 'not loaded', after: 'loaded' },
        commands: [command('modprobe', '--', spec.name)],
      });
    }
    const path = kmodFile(spec.name);
    if (spec.persist) {
      const write = writeFileChange(path, facts.file, renderKmodFile(spec.name), '644');
      if (write) changes.push(write);
    } else if (facts.file.exists) {
      changes.push(removeFileChange(path, facts.file));
    }
    return changes;
  },

  after(spec, facts) {
    const state = facts.state === 'absent' ? 'loaded' : facts.state;
    const file: FileState = spec.persist ? { exists: true, content: renderKmodFile(spec.name), mode: '644' } : { exists: false, content: '' };
    return { state, file };
  },

  // Only the boot-time file goes; the module stays loaded. Unloading ip_vs drops the whole IPVS
  // table and every connection through it, and ipip takes tunl0 with it: a reset must not cut
  // traffic. Without the file the module is not loaded at the next boot.
  reset: {
    plan: (spec, facts) => (facts.file.exists ? [removeFileChange(kmodFile(spec.name), facts.file)] : []),
    after: (spec, facts) => ({ ...facts, file: ABSENT_FILE }),
  },
};
