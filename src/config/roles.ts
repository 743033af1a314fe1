import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../errors.js';
import { roleMetaSchema, roleTasksSchema, type TaskEntry } from './playbook-schema.js';
import { checkRole, type RoleTemplate } from './role-check.js';
import { roleFileProblem } from './role-files.js';
import { suggestion } from './suggest.js';
import type { VariableDeclaration } from './variable-types.js';
import { parseWith } from './validate.js';
import { YamlSource } from './yaml-source.js';

// A role is a folder: tasks.yaml (the task list), role.yaml (description and the typed variables
// it reads, optional), templates/ (handlebars files). Roles next to the playbook win over the ones
// lvsprov ships. A role is checked whole when it loads: its defaults against their types, every
// name its tasks and templates read, every template's place and format.

export interface Role {
  readonly name: string;
  readonly dir: string;
  readonly tasksSource: YamlSource;
  readonly tasks: readonly TaskEntry[];
  readonly variables: Readonly<Record<string, VariableDeclaration>>;
  readonly defaults: Readonly<Record<string, unknown>>;
  /** Declared variables with neither a default nor `optional`: the inventory must set them. */
  readonly requires: readonly string[];
  /** Templates by their task's `src`, read and parsed when the role loaded. */
  readonly templates: ReadonlyMap<string, RoleTemplate>;
}

/** The folder lvsprov is installed in (two levels above this file in both src/ and dist/). */
export const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export function roleSearchPath(playbookFile: string): string[] {
  const dir = dirname(resolve(playbookFile));
  return [...new Set([join(dir, 'roles'), join(dir, '..', 'roles'), join(packageRoot, 'roles')])];
}

export class RoleLoader {
  private readonly cache = new Map<string, Role>();

  constructor(private readonly searchPath: readonly string[]) {}

  /** Load a role; `reference` locates the play's mention of it for the error message. */
  load(name: string, reference: { source: YamlSource; path: Array<string | number> }): Role {
    const cached = this.cache.get(name);
    if (cached) return cached;
    const dir = this.searchPath.map((base) => join(base, name)).find((candidate) => existsSync(join(candidate, 'tasks.yaml')));
    if (!dir) {
      // A file where the role's folder should be is named as such, not as a role missing.
      const notFolder = this.searchPath.map((base) => join(base, name)).find((candidate) => existsSync(candidate) && !statSync(candidate).isDirectory());
      const why = notFolder === undefined ? `not found (looked for ${name}/tasks.yaml in ${this.searchPath.join(', ')})` : `not found: ${notFolder} is a file, not a role's folder`;
      throw new ConfigError([reference.source.problem(reference.path, `role ${name} ${why}${suggestion(name, this.available(), ': ')}`)]);
    }
    const metaFile = join(dir, 'role.yaml');
    for (const file of [join(dir, 'tasks.yaml'), ...(existsSync(metaFile) ? [metaFile] : [])]) {
      const problem = roleFileProblem(dir, file);
      if (problem !== undefined) throw new ConfigError([reference.source.problem(reference.path, `role ${name}: ${problem}`)]);
    }
    const tasksSource = YamlSource.load(join(dir, 'tasks.yaml'));
    const tasks = parseWith(tasksSource, roleTasksSchema, tasksSource.value() ?? []);
    const metaSource = existsSync(metaFile) ? YamlSource.load(metaFile) : YamlSource.parse(metaFile, '{}');
    const meta = parseWith(metaSource, roleMetaSchema, metaSource.value() ?? {});
    const { problems, templates } = checkRole({ name, dir, tasksSource, tasks, metaSource, variables: meta.variables });
    if (problems.length > 0) throw new ConfigError(problems);
    const entries = Object.entries(meta.variables);
    const role: Role = {
      name,
      dir,
      tasksSource,
      tasks,
      variables: meta.variables,
      defaults: Object.fromEntries(entries.filter(([, declaration]) => declaration.default !== undefined).map(([key, declaration]) => [key, declaration.default])),
      requires: entries.filter(([, declaration]) => declaration.default === undefined && !declaration.optional).map(([key]) => key),
      templates,
    };
    this.cache.set(name, role);
    return role;
  }

  /** Names of the roles found on the search path, for "did you mean". */
  private available(): string[] {
    const names = this.searchPath.flatMap((base) => (existsSync(base) ? readdirSync(base).filter((name) => existsSync(join(base, name, 'tasks.yaml'))) : []));
    return [...new Set(names)].sort();
  }
}
