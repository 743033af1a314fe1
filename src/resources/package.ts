import { z } from 'zod';
import { command, quote } from '../shell/quote.js';
import { absolutePath, packageName } from '../config/values.js';
import type { ProbeOutput, ResourceType } from './types.js';

// One distribution package, installed with whatever manager the host has. `creates` names a file
// the package provides: lab hosts see the machine's programs through an overlay and cannot reach a
// registry, so a program that is already there counts as installed even when the host's package
// database does not know the package.

export const packageSchema = z
  .object({
    name: packageName,
    creates: absolutePath.optional(),
    state: z.enum(['present']).default('present'),
  })
  .strict();

export type PackageSpec = z.output<typeof packageSchema>;

export const packageManagers = ['apt', 'dnf', 'yum', 'zypper', 'apk'] as const;
export type PackageManager = (typeof packageManagers)[number];

export interface PackageFacts {
  /** The host's package manager; null when none of the supported ones was found. */
  readonly manager: PackageManager | null;
  readonly installed: boolean;
  /** Whether `creates` exists; null when the spec names no such file. */
  readonly creates: boolean | null;
}

/**
 * Frontends are detected, not databases: Debian ships an `rpm` package too, so finding `rpm` says
 * nothing about how the host installs software. dpkg's Status is printed whole and judged here,
 * because `dpkg-query -W` exits 0 for a known but removed package ("deinstall ok config-files").
 */
// Names are validated to start with a letter or digit, so none can be read as an option; no `--`
// is passed because not every manager's parser accepts it.
function installedSnippet(name: string): string {
  const n = quote(name);
  return [
    `if command -v apt-get >/dev/null 2>&1 && command -v dpkg-query >/dev/null 2>&1; then`,
    `  printf 'M apt\\n'; printf 'S %s\\n' "$(dpkg-query -W -f='\${Status}' ${n} 2>/dev/null)"`,
    `elif command -v dnf >/dev/null 2>&1 || command -v yum >/dev/null 2>&1 || command -v zypper >/dev/null 2>&1; then`,
    `  if command -v dnf >/dev/null 2>&1; then printf 'M dnf\\n'; elif command -v yum >/dev/null 2>&1; then printf 'M yum\\n'; else printf 'M zypper\\n'; fi`,
    `  if rpm -q ${n} >/dev/null 2>&1; then printf 'I yes\\n'; else printf 'I no\\n'; fi`,
    `elif command -v apk >/dev/null 2>&1; then`,
    `  printf 'M apk\\n'; if apk info -e ${n} >/dev/null 2>&1; then printf 'I yes\\n'; else printf 'I no\\n'; fi`,
    `else printf 'M none\\n'; fi`,
  ].join('\n');
}

function installCommands(manager: PackageManager, name: string): string[] {
  switch (manager) {
    case 'apt': {
      // A fresh host often has empty or stale package lists; refresh them only when the plain
      // install fails, so an up-to-date host pays no `apt-get update`.
      const install = `DEBIAN_FRONTEND=noninteractive ${command('apt-get', 'install', '-y', '-q', '--no-install-recommends', name)}`;
      return [`${install} || { DEBIAN_FRONTEND=noninteractive apt-get update -q && ${install}; }`];
    }
    case 'dnf':
    case 'yum':
      return [command(manager, 'install', '-y', '-q', name)];
    case 'zypper':
      return [command('zypper', '--non-interactive', '--quiet', 'install', '--no-recommends', name)];
    case 'apk':
      return [command('apk', 'add', '--quiet', '--no-progress', name)];
  }
}

function isManager(value: string): value is PackageManager {
  return (packageManagers as readonly string[]).includes(value);
}

export const packageResource: ResourceType<PackageSpec, PackageFacts> = {
  name: 'package',
  schema: packageSchema,

  key: (spec) => `package ${spec.name}`,

  provides: (spec) => [spec.name],

  probe(spec) {
    if (spec.creates === undefined) return installedSnippet(spec.name);
    // Where `creates` exists nothing is installed whatever the manager says, so the manager is not
    // asked: dpkg-query reads the whole package database, tens of milliseconds of the host's CPU
    // on every read of every host.
    return [`if [ -e ${quote(spec.creates)} ]; then printf 'C yes\\n'; else`, installedSnippet(spec.name), `printf 'C no\\n'; fi`].join('\n');
  },

  parse(output: ProbeOutput, spec): PackageFacts {
    let manager: PackageManager | null = null;
    let installed = false;
    let creates: boolean | null = null;
    for (const line of output.stdout.split('\n')) {
      const value = line.slice(2).trim();
      if (line.startsWith('M ')) manager = isManager(value) ? value : null;
      // dpkg Status is "want error state": only the third word says whether files are on disk,
      // and "hold ok installed" is as installed as "install ok installed".
      else if (line.startsWith('S ')) installed = value.split(/\s+/)[2] === 'installed';
      else if (line.startsWith('I ')) installed = value === 'yes';
      else if (line.startsWith('C ')) creates = value === 'yes';
    }
    if (spec.creates === undefined) creates = null;
    return { manager, installed, creates };
  },

  plan(spec, facts, context) {
    if (facts.installed || facts.creates === true) return [];
    if (facts.manager === null) {
      throw new Error(
        `cannot install package ${spec.name} on ${context.host}: no supported package manager found ` +
          `(looked for apt-get, dnf, yum, zypper, apk)` +
          (spec.creates === undefined ? '' : ` and ${spec.creates} does not exist`),
      );
    }
    return [
      {
        resource: `package ${spec.name}`,
        summary: `install ${spec.name} with ${facts.manager}`,
        diff: { kind: 'value', before: '(not installed)', after: 'installed' },
        commands: installCommands(facts.manager, spec.name),
      },
    ];
  },

  after: (spec, facts) => ({ ...facts, installed: true }),
};
