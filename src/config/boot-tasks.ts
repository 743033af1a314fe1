import type { AddressSpec } from '../resources/address.js';
import type { LinkSpec } from '../resources/link.js';
import type { RouteSpec } from '../resources/route.js';
import type { SourceRouteSpec } from '../resources/source-route.js';
import { command } from '../shell/quote.js';
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
//
// A source route's rules cannot go in that file: `ip rule` has no `replace`, so a hook run twice
// (a restart of the unit) would add each rule again (kernels before 4.12 keep duplicates), and
// a `rule del` before each `add` fails at every boot, when there is nothing to delete, and with
// it the batch's exit status. They get a shell script of their own, with its own hook, that
// deletes every copy of each rule before adding it.

type BootTask = CompiledTask & { readonly type: 'address' | 'route' | 'link' | 'source_route' };

function isBootTask(task: CompiledTask): task is BootTask {
  return (task.type === 'address' || task.type === 'route' || task.type === 'link' || task.type === 'source_route') && (task.spec as { at_boot?: boolean }).at_boot === true;
}

/**
 * The `ip -batch` line that restores a spec. The values are schema-checked already; each still goes
 * through the ip-batch writer, as a template's would, so no value can add a word to the line.
 */
export function bootLine(task: BootTask): string | undefined {
  if (task.type === 'source_route') return undefined;
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

/** Tries at most this many deletes of one rule: every duplicate an old kernel kept, and never a loop without end. */
const MAX_COPIES = 64;

/**
 * The shell lines that restore a source route, any number of times: each rule deleted (all its
 * copies; a delete names every selector, so no other rule matches) before the table's default
 * and the rules are added. Deletes, not `ip rule flush`: before iproute2 4.20 a flush ignored its
 * selectors and removed every rule but the kernel's own.
 */
export function sourceRouteBootLines(spec: SourceRouteSpec): string[] {
  if (spec.state !== 'present') return [];
  const rules = [
    ['pref', spec.priority, 'from', spec.source, 'lookup', 'main', 'suppress_prefixlength', 0],
    ['pref', spec.priority + 1, 'from', spec.source, 'lookup', spec.table],
  ];
  return [
    ...rules.map((rule) => `n=0; while [ "$n" -lt ${MAX_COPIES} ] && ${command('ip', 'rule', 'del', ...rule)} 2>/dev/null; do n=$((n + 1)); done`),
    command('ip', 'route', 'replace', 'default', 'via', spec.via, 'table', spec.table),
    ...rules.map((rule) => command('ip', 'rule', 'add', ...rule)),
  ];
}

// A role's folder name may hold any character; a hook name and a path hold only these.
const groupName = (task: CompiledTask): string => (task.role ?? 'playbook').replace(/[^A-Za-z0-9_.-]/g, '-');

export const bootFilePath = (group: string): string => `/etc/lvsprov/${group}.ip`;
export const ruleScriptPath = (group: string): string => `/etc/lvsprov/${group}-rules.sh`;

export function ruleScriptContent(group: string, lines: readonly string[]): string {
  return [
    '#!/bin/sh',
    `# Managed by lvsprov: the source routes of ${group} marked at_boot. The lvsprov-${group}-rules boot`,
    '# hook runs this file once the network is up; it may run again: each rule goes before it is added.',
    'PATH=/usr/sbin:/usr/bin:/sbin:/bin',
    ...lines,
    '',
  ].join('\n');
}

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

  ruleHook(group: string, path: string): unknown {
    return this.once(`at_boot rules\0${group}`, () =>
      atBootSchema.parse({ name: `lvsprov-${group}-rules`, description: `the source routes of ${group} (sh ${path})`, command: ['/bin/sh', path], stage: 'network' }),
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

/** The host's tasks with each group's boot files and hooks after the group's last at_boot task. */
export function withBootTasks(tasks: readonly CompiledTask[], specs: BootSpecs = new BootSpecs()): CompiledTask[] {
  const lines = new Map<string, string[]>();
  const ruleLines = new Map<string, string[]>();
  const last = new Map<string, number>();
  tasks.forEach((task, index) => {
    if (!isBootTask(task)) return;
    const group = groupName(task);
    if (task.type === 'source_route') {
      const added = sourceRouteBootLines(task.spec as SourceRouteSpec);
      if (added.length === 0) return;
      ruleLines.set(group, [...(ruleLines.get(group) ?? []), ...added]);
    } else {
      const line = bootLine(task);
      if (line === undefined) return;
      lines.set(group, [...(lines.get(group) ?? []), line]);
    }
    last.set(group, index);
  });
  return tasks.flatMap((task, index) => {
    const group = groupName(task);
    if (last.get(group) !== index) return [task];
    const role = { ...(task.role === undefined ? {} : { role: task.role }), ...(task.tags === undefined ? {} : { tags: task.tags }) };
    const path = bootFilePath(group);
    const script = ruleScriptPath(group);
    const rules = ruleLines.get(group);
    return [
      task,
      ...(lines.has(group)
        ? [
            { name: `the ${group} addresses and routes at boot, in a file`, ...role, type: 'file' as const, spec: specs.file(path, bootFileContent(group, lines.get(group) ?? [])) },
            { name: `restore the ${group} addresses and routes at boot`, ...role, type: 'at_boot' as const, spec: specs.hook(group, path) },
          ]
        : []),
      ...(rules !== undefined
        ? [
            { name: `the ${group} source routes at boot, in a script`, ...role, type: 'file' as const, spec: specs.file(script, ruleScriptContent(group, rules)) },
            { name: `restore the ${group} source routes at boot`, ...role, type: 'at_boot' as const, spec: specs.ruleHook(group, script) },
          ]
        : []),
    ];
  });
}
