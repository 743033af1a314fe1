import type { AddressSpec } from '../resources/address.js';
import type { LinkSpec } from '../resources/link.js';
import type { RouteSpec } from '../resources/route.js';
import { atBootSchema } from '../resources/at-boot.js';
import { fileSchema } from '../resources/file.js';
import { deepFreeze } from './deep-freeze.js';
import { writeValue } from './output-formats.js';
import type { CompiledTask } from './compile.js';

// `at_boot: true` on an address, route or link: the state comes back at boot. For each role (or
// the playbook's own tasks) whose tasks ask for it, compilation adds two tasks right after the
// last of them: a file of `ip -batch` lines made from those very specs, so the boot file can never
// say something else than the tasks, and an at_boot hook that feeds it to `ip -force -batch -`
// once the network is up. Both are ordinary tasks: recorded as lvsprov's, and removed once no
// task asks for boot persistence any more.

type BootTask = CompiledTask & { readonly type: 'address' | 'route' | 'link' };

function isBootTask(task: CompiledTask): task is BootTask {
  return (task.type === 'address' || task.type === 'route' || task.type === 'link') && (task.spec as { at_boot?: boolean }).at_boot === true;
}

/**
 * The `ip -batch` line that restores a spec. The values are schema-checked already; each still goes
 * through the ip-batch writer, as a template's would, so no value can add a word to the line.
 */
export function bootLine(task: BootTask): string | undefined {
  const words = (...parts: Array<string | number>): string => parts.map((part) => writeValue(part, 'ip-batch')).join(' ');
  if (task.type === 'address') {
    const spec = task.spec as AddressSpec;
    if (spec.state !== 'present') return undefined;
    return ['address replace', words(`${spec.address}/${spec.prefix}`, 'dev', spec.device), ...(spec.label === undefined ? [] : [words('label', spec.label)])].join(' ');
  }
  if (task.type === 'route') {
    const spec = task.spec as RouteSpec;
    if (spec.state !== 'present') return undefined;
    return ['route replace', words(spec.destination), ...(spec.via ? [words('via', spec.via)] : []), ...(spec.device ? [words('dev', spec.device)] : [])].join(' ');
  }
  const spec = task.spec as LinkSpec;
  return ['link set', words(spec.device, spec.state), ...(spec.mtu === undefined ? [] : [words('mtu', spec.mtu)])].join(' ');
}

// A role's folder name may hold any character; a hook name and a path hold only these.
const groupName = (task: CompiledTask): string => (task.role ?? 'playbook').replace(/[^A-Za-z0-9_.-]/g, '-');

export const bootFilePath = (group: string): string => `/etc/lvsprov/${group}.ip`;

export function bootFileContent(group: string, lines: readonly string[]): string {
  return [
    `# Managed by lvsprov: the addresses, routes and links of ${group} marked at_boot. The lvsprov-${group}`,
    '# boot hook feeds this file to `ip -force -batch -` once the network is up.',
    ...lines,
    '',
  ].join('\n');
}

/**
 * The boot file and hook specs, checked once per distinct spec: the real servers of a service
 * share the same file, and 1000 hosts would otherwise check it 1000 times.
 */
export class BootSpecs {
  private readonly checked = new Map<string, unknown>();

  file(path: string, content: string): unknown {
    return this.once(`file\0${path}\0${content}`, () => fileSchema.parse({ path, content }));
  }

  hook(group: string, path: string): unknown {
    return this.once(`at_boot\0${group}`, () =>
      atBootSchema.parse({ name: `lvsprov-${group}`, description: `the addresses and routes of ${group} (ip -batch ${path})`, command: ['/sbin/ip', '-force', '-batch', '-'], input: path, stage: 'network' }),
    );
  }

  private once(key: string, check: () => unknown): unknown {
    let spec = this.checked.get(key);
    if (spec === undefined) {
      spec = deepFreeze(check());
      this.checked.set(key, spec);
    }
    return spec;
  }
}

/** The host's tasks with each group's boot file and hook after the group's last at_boot task. */
export function withBootTasks(tasks: readonly CompiledTask[], specs: BootSpecs = new BootSpecs()): CompiledTask[] {
  const lines = new Map<string, string[]>();
  const last = new Map<string, number>();
  tasks.forEach((task, index) => {
    if (!isBootTask(task)) return;
    const line = bootLine(task);
    if (line === undefined) return;
    const group = groupName(task);
    lines.set(group, [...(lines.get(group) ?? []), line]);
    last.set(group, index);
  });
  return tasks.flatMap((task, index) => {
    const group = groupName(task);
    if (last.get(group) !== index) return [task];
    const path = bootFilePath(group);
    const role = { ...(task.role === undefined ? {} : { role: task.role }), ...(task.tags === undefined ? {} : { tags: task.tags }) };
    return [
      task,
      { name: `the ${group} addresses and routes at boot, in a file`, ...role, type: 'file', spec: specs.file(path, bootFileContent(group, lines.get(group) ?? [])) },
      { name: `restore the ${group} addresses and routes at boot`, ...role, type: 'at_boot', spec: specs.hook(group, path) },
    ];
  });
}
