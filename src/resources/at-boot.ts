import { z } from 'zod';
import { command, quote } from '../shell/quote.js';
import { refuseControlCharacters } from '../config/text-safety.js';
import { absolutePath, serviceUnitName } from '../config/values.js';
import { ABSENT_FILE, parseFileLine, readFileSnippet, removeFileChange, writeFileChange, type FileState } from './file-state.js';
import type { Change, HostContext, ProbeOutput, ResourceType } from './types.js';
import { enablerProbe, everyLevelStartProbe, updateRcDRelinkCommands } from './sysv-links.js';

// A command the host runs once at every boot: how state that only lives in the kernel (arptables
// rules, nftables marks, VIP addresses and routes) comes back after a reboot where the distro has
// no mechanism of its own. The resource owns the whole boot hook, definition and enablement, so
// one apply converges: a systemd oneshot unit in /etc/systemd/system where systemd runs, an LSB
// init script linked by update-rc.d where sysvinit does.
//
// Two stages: `early` runs before any interface is configured (filters that must be in place
// before the host answers ARP: rcS.d, as netfilter-persistent does); `network` runs once the
// network is up (addresses and routes on interfaces the distro configures: runlevels 2-5).

// One charset for every word of the command line: safe unquoted in a shell script, and in a
// systemd ExecStart= line, where `%` (specifiers), `$` (variables), quotes and spaces mean more.
const wordPattern = /^[A-Za-z0-9_.,:=+/@-]+$/;
const wordMessage = 'may hold only letters, digits and _ . , : = + / @ - (it is written into a unit file and a shell script)';
const bootWord = z.union([z.string(), z.number()]).transform(String).pipe(z.string().regex(wordPattern, wordMessage));
const bootPath = absolutePath.pipe(z.string().regex(wordPattern, wordMessage));
// The description is written into the unit's Description= and comment lines and the init
// script's LSB header: no control character (systemd ends a line at CR too), and none of the
// characters a unit or sh would read as more than text.
const oneLine = z.string().min(1).superRefine(refuseControlCharacters).pipe(z.string().regex(/^[^\\%$`"]*$/, 'must not contain \\ % $ ` or "'));

// systemd.unit(5)'s unit types, checked once a closing .service is taken off.
const UNIT_TYPES = ['.service', '.socket', '.device', '.mount', '.automount', '.swap', '.target', '.path', '.timer', '.slice', '.scope'];
const UNIT_SUFFIX = new RegExp(`(?:${UNIT_TYPES.map((type) => `\\${type}`).join('|')})$`);

export const atBootSchema = z
  .object({
    // lvsprov's hooks are named lvsprov-*, so reset can never take a distro's unit for its own.
    // The hook is one unit of its own: `x@` would be a template and `x@y` an instance, neither of
    // which `systemctl enable` takes as the unit file lvsprov writes.
    // Another unit type's suffix names what the hook is not, and would stay part of its name
    // (`lvsprov-x.timer.service`).
    name: serviceUnitName
      .refine((value) => !UNIT_SUFFIX.test(value), { message: `must not end in a second .service or another systemd unit type (${UNIT_TYPES.slice(1).join(', ')}): the hook is the unit NAME.service` })
      .refine((value) => value.startsWith('lvsprov-'), { message: 'must start with lvsprov-' })
      .refine((value) => !value.includes('@'), { message: 'must not contain @: systemd reads a name with @ as a template or an instance of one, which cannot be enabled as the unit file written here' }),
    description: oneLine,
    command: z.tuple([bootPath], bootWord),
    /** A file fed to the command on standard input; the hook does nothing while it is missing or empty. */
    input: bootPath.optional(),
    stage: z.enum(['early', 'network']).default('early'),
  })
  .strict();

export type AtBootSpec = z.output<typeof atBootSchema>;

export interface AtBootFacts {
  /** How the host boots; null when it has neither systemd nor /etc/init.d. */
  readonly manager: 'systemd' | 'sysv' | null;
  /** The unit file or init script. */
  readonly file: FileState;
  readonly enabled: boolean;
  /** sysvinit: whether update-rc.d is there to link the script into rcS.d. */
  readonly updateRcD: boolean;
}

/** Every file lvsprov writes here says so; reset removes only files that do. */
const MARKER = 'Managed by lvsprov';

export const unitPath = (name: string): string => `/etc/systemd/system/${name}.service`;
export const initScriptPath = (name: string): string => `/etc/init.d/${name}`;
const definitionPath = (spec: AtBootSpec, manager: 'systemd' | 'sysv'): string => (manager === 'systemd' ? unitPath(spec.name) : initScriptPath(spec.name));

const systemdOrdering = {
  // Like the distro's own firewall restore: before any interface is configured.
  early: ['DefaultDependencies=no', 'After=local-fs.target systemd-modules-load.service', 'Before=network-pre.target shutdown.target', 'Wants=network-pre.target', 'Conflicts=shutdown.target'],
  network: ['After=network-online.target', 'Wants=network-online.target'],
} as const;

/** The runlevels a stage's init script starts in (its LSB Default-Start): a start link in each is what enabled means. */
const startLevels = { early: ['S'], network: ['2', '3', '4', '5'] } as const;

const lsbOrdering = {
  early: ['# Required-Start:    mountkernfs $local_fs', '# Required-Stop:', '# X-Start-Before:    $network', `# Default-Start:     ${startLevels.early.join(' ')}`, '# Default-Stop:'],
  network: ['# Required-Start:    $network $local_fs', '# Required-Stop:', `# Default-Start:     ${startLevels.network.join(' ')}`, '# Default-Stop:'],
} as const;

export function systemdUnit(spec: AtBootSpec): string {
  return [
    `# ${MARKER}: ${spec.description}. Runs once at boot.`,
    '[Unit]',
    `Description=lvsprov: ${spec.description}`,
    ...systemdOrdering[spec.stage],
    ...(spec.input === undefined ? [] : [`ConditionFileNotEmpty=${spec.input}`]),
    '',
    '[Service]',
    'Type=oneshot',
    'RemainAfterExit=yes',
    ...(spec.input === undefined ? [] : [`StandardInput=file:${spec.input}`]),
    `ExecStart=${spec.command.join(' ')}`,
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

export function initScript(spec: AtBootSpec): string {
  const run = spec.input === undefined ? `exec ${spec.command.join(' ')}` : `[ -s ${spec.input} ] || exit 0\n    exec ${spec.command.join(' ')} < ${spec.input}`;
  return [
    '#!/bin/sh',
    `# ${MARKER}: ${spec.description}. Runs once at boot.`,
    '### BEGIN INIT INFO',
    `# Provides:          ${spec.name}`,
    ...lsbOrdering[spec.stage],
    `# Short-Description: ${spec.description}`,
    '### END INIT INFO',
    '',
    'case "$1" in',
    '  start|restart|reload|force-reload)',
    `    ${run}`,
    '    ;;',
    '  stop|status)',
    '    exit 0',
    '    ;;',
    '  *)',
    `    echo "Usage: $0 {start|stop|restart|force-reload|status}" >&2`,
    '    exit 3',
    '    ;;',
    'esac',
    '',
  ].join('\n');
}

const definition = (spec: AtBootSpec, manager: 'systemd' | 'sysv'): { content: string; mode: string } =>
  manager === 'systemd' ? { content: systemdUnit(spec), mode: '644' } : { content: initScript(spec), mode: '755' };

function enableCommands(spec: AtBootSpec, manager: 'systemd' | 'sysv', enable: boolean): string[] {
  if (manager === 'systemd') return [command('systemctl', enable ? 'enable' : 'disable', '--quiet', `${spec.name}.service`)];
  if (!enable) return [command('update-rc.d', '-f', spec.name, 'remove')];
  return updateRcDRelinkCommands(spec.name);
}

function requireManager(spec: AtBootSpec, facts: AtBootFacts, context: HostContext): 'systemd' | 'sysv' {
  if (facts.manager === null) throw new Error(`cannot run ${spec.name} at boot on ${context.host}: neither systemd nor /etc/init.d found`);
  if (facts.manager === 'sysv' && !facts.updateRcD) throw new Error(`cannot run ${spec.name} at boot on ${context.host}: sysvinit without update-rc.d`);
  return facts.manager;
}

export const atBoot: ResourceType<AtBootSpec, AtBootFacts> = {
  name: 'at_boot',
  schema: atBootSchema,

  key: (spec) => `at_boot ${spec.name}`,

  probe(spec) {
    return [
      `if [ -d /run/systemd/system ]; then`,
      `  printf 'D systemd\\n'`,
      `  printf 'E %s\\n' "$(systemctl is-enabled ${quote(`${spec.name}.service`)} 2>/dev/null)"`,
      `  ${readFileSnippet(unitPath(spec.name))}`,
      `elif [ -d /etc/init.d ]; then`,
      `  printf 'D sysv\\n'`,
      `  ${everyLevelStartProbe(startLevels[spec.stage], spec.name)}`,
      `  ${enablerProbe}`,
      `  ${readFileSnippet(initScriptPath(spec.name))}`,
      `else printf 'D none\\n'; fi`,
    ].join('\n');
  },

  parse(output: ProbeOutput): AtBootFacts {
    const fields = new Map<string, string>();
    let fileLine: string | undefined;
    for (const line of output.stdout.split('\n')) {
      if (line.startsWith('F')) fileLine = line;
      else if (/^[A-Z]( |$)/.test(line)) fields.set(line.charAt(0), line.slice(2).trim());
    }
    const manager = fields.get('D');
    return {
      manager: manager === 'systemd' || manager === 'sysv' ? manager : null,
      file: parseFileLine(fileLine),
      // systemd says `enabled`, or `enabled-runtime` for a link under /run that goes at reboot.
      enabled: fields.get('E') === 'enabled',
      updateRcD: fields.get('T') === 'update-rc.d',
    };
  },

  plan(spec, facts, context) {
    const manager = requireManager(spec, facts, context);
    const path = definitionPath(spec, manager);
    const wanted = definition(spec, manager);
    const resource = `at_boot ${spec.name}`;
    const changes: Change[] = [];
    const write = writeFileChange(path, facts.file, wanted.content, wanted.mode, reloadOf(manager));
    if (write) changes.push(write);
    if (!facts.enabled) {
      changes.push({ resource, summary: `run ${spec.name} at boot`, diff: { kind: 'value', before: 'disabled', after: 'enabled' }, commands: enableCommands(spec, manager, true) });
    }
    return changes;
  },

  after(spec, facts) {
    if (facts.manager === null) return facts;
    const wanted = definition(spec, facts.manager);
    return { ...facts, file: { exists: true, ...wanted }, enabled: true };
  },

  // The hook goes, link and file, but only a file that says lvsprov wrote it.
  reset: {
    plan(spec, facts, context) {
      if (facts.manager === null || !ours(facts)) return [];
      const manager = requireManager(spec, facts, context);
      const path = definitionPath(spec, manager);
      return [
        ...(facts.enabled ? [{ resource: `at_boot ${spec.name}`, summary: `stop running ${spec.name} at boot`, diff: { kind: 'value' as const, before: 'enabled', after: 'disabled' }, commands: enableCommands(spec, manager, false) }] : []),
        removeFileChange(path, facts.file, reloadOf(manager)),
      ];
    },
    after: (_spec, facts) => (facts.manager === null || !ours(facts) ? facts : { ...facts, file: ABSENT_FILE, enabled: false }),
  },
};

/** systemd reads unit files again only when told; sysvinit reads a script when it runs it. */
const reloadOf = (manager: 'systemd' | 'sysv'): string[] => (manager === 'systemd' ? ['systemctl daemon-reload'] : []);

function ours(facts: AtBootFacts): boolean {
  return facts.file.exists && facts.file.content.includes(MARKER);
}
