import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { ConfigError, type ConfigProblem } from '../errors.js';
import { derivedVariables, LOOP_INDEX, LOOP_ITEM } from './derived-variables.js';
import { literalType } from './literal-type.js';
import { listNames, nearestNames } from './suggest.js';
import { templateSpecSchema, TEMPLATE_TASK, type TaskEntry } from './playbook-schema.js';
import { checkTemplate, typeAt, type Vocabulary } from './template-check.js';
import { parseTemplate, TemplateSyntaxError } from './template-render.js';
import { roleFileProblem } from './role-files.js';
import { describeType, describeValue, schemaOf, type VariableDeclaration, type VariableType } from './variable-types.js';
import { checkInput, zodProblems } from './validate.js';
import type { PathSegment, YamlSource } from './yaml-source.js';
import { decodeUtf8Text } from './yaml-text.js';

// A role checked whole when it loads: its defaults against their declared types, every name its
// task values, loops, conditions and templates read, and each template's place (inside the role's
// templates folder, symbolic links resolved) and format.

export interface RoleTemplate {
  readonly file: string;
  readonly text: string;
}

interface RoleParts {
  readonly name: string;
  readonly dir: string;
  readonly tasksSource: YamlSource;
  readonly tasks: readonly TaskEntry[];
  readonly metaSource: YamlSource;
  readonly variables: Readonly<Record<string, VariableDeclaration>>;
}

export function checkRole(role: RoleParts): { problems: ConfigProblem[]; templates: Map<string, RoleTemplate> } {
  const problems: ConfigProblem[] = [];
  const templates = new Map<string, RoleTemplate>();
  for (const [name, declaration] of Object.entries(role.variables)) {
    if (Object.hasOwn(derivedVariables, name)) {
      problems.push(role.metaSource.problem(['variables', name], `${name} is derived by lvsprov from the inventory; a role reads it without declaring it`, true));
    }
    if (declaration.default !== undefined) {
      const parsed = checkInput(schemaOf(declaration.kind), declaration.default);
      if (!parsed.success) {
        // zod's own words for a field the type does not have are `Unrecognized key: "x"`.
        const words = (issue: (typeof parsed.error.issues)[number]): string =>
          issue.code === 'unrecognized_keys' ? `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}` : `${issue.path.length > 0 ? `${issue.path.join('.')}: ` : ''}${issue.message}`;
        const said = parsed.error.issues.map(words).join('; ');
        const detail = /\bgot\b/.test(said) ? said : `${said}; got ${describeValue(declaration.default)}`;
        problems.push(role.metaSource.problem(['variables', name, 'default'], `the default of ${name} must be ${describeType(declaration.kind)}: ${detail}`));
      }
    }
  }
  const fields: Record<string, VariableType> = Object.fromEntries(Object.entries(derivedVariables).map(([name, derived]) => [name, derived.kind]));
  for (const [name, declaration] of Object.entries(role.variables)) fields[name] = declaration.kind;
  const roleFile = join(role.dir, 'role.yaml');
  const vocabulary = (extra: Record<string, VariableType> = {}): Vocabulary & { readonly root: VariableType } => ({
    root: { type: 'object', fields: { ...fields, ...extra } },
    unknownHint: (name, known) => {
      const nearest = nearestNames(name, known, 1)[0];
      return `role ${role.name} reads it without declaring it; ${nearest === undefined ? '' : `did you mean \`${nearest}\`? Or `}declare it under variables in ${roleFile} (declared: ${listNames(Object.keys(role.variables))}; derived by lvsprov: ${listNames(Object.keys(derivedVariables))})`;
    },
  });

  role.tasks.forEach((task, index) => {
    const at = (path: PathSegment[], message: string): void => {
      problems.push(role.tasksSource.problem([index, ...path], message));
    };
    const check = (text: string, path: PathSegment[], scope: Vocabulary): void => {
      if (!text.includes('{{')) return;
      try {
        for (const problem of checkTemplate(parseTemplate(text), scope)) at(path, problem.message);
      } catch (error) {
        if (error instanceof TemplateSyntaxError) at(path, error.message);
        else throw error;
      }
    };
    const expressionOf = (text: string): string => text.replace(/^\s*\{\{\s*|\s*\}\}\s*$/g, '');
    let scope = vocabulary();
    if (Array.isArray(task.loop)) {
      strings(task.loop, ['loop']).forEach(([text, path]) => check(text, path, scope));
      scope = vocabulary({ [LOOP_ITEM]: literalType(task.loop), [LOOP_INDEX]: { type: 'integer', min: 1, max: Number.MAX_SAFE_INTEGER } });
    } else if (task.loop !== undefined) {
      check(`{{${expressionOf(task.loop)}}}`, ['loop'], scope);
      const loopType = typeAt(scope.root, expressionOf(task.loop).split('.'));
      if (loopType === null) return; // already reported: its name is unknown
      if (loopType !== undefined && loopType.type !== 'list') {
        at(['loop'], `loop must name a list; ${task.loop} is ${describeType(loopType)}`);
        return;
      }
      scope = vocabulary({ [LOOP_ITEM]: loopType?.items ?? { type: 'object', fields: {} }, [LOOP_INDEX]: { type: 'integer', min: 1, max: Number.MAX_SAFE_INTEGER } });
    }
    if (typeof task.when === 'string') check(`{{${expressionOf(task.when)}}}`, ['when'], scope);
    for (const [key, value] of Object.entries(task)) {
      if (key === 'loop' || key === 'when') continue;
      strings(value, [key]).forEach(([text, path]) => check(text, path, scope));
      if (key === TEMPLATE_TASK) checkTemplateTask(role, value, index, scope, problems, templates);
    }
  });
  return { problems, templates };
}

/** Every string inside a task value, with its path. */
export function strings(value: unknown, path: PathSegment[]): Array<[string, PathSegment[]]> {
  if (typeof value === 'string') return [[value, path]];
  if (Array.isArray(value)) return value.flatMap((item, index) => strings(item, [...path, index]));
  if (value !== null && typeof value === 'object') return Object.entries(value).flatMap(([key, inner]) => strings(inner, [...path, key]));
  return [];
}

function checkTemplateTask(role: RoleParts, raw: unknown, index: number, scope: Vocabulary, problems: ConfigProblem[], templates: Map<string, RoleTemplate>): void {
  const parsed = checkInput(templateSpecSchema, raw);
  if (!parsed.success) {
    problems.push(...zodProblems(role.tasksSource, parsed.error, [index, TEMPLATE_TASK], templateSpecSchema));
    return;
  }
  const { src, format } = parsed.data;
  const at = (message: string): void => {
    problems.push(role.tasksSource.problem([index, TEMPLATE_TASK, 'src'], message));
  };
  const folder = join(role.dir, 'templates');
  const file = join(folder, src);
  if (!existsSync(file)) {
    at(`template ${src} not found in ${folder}`);
    return;
  }
  // A symbolic link may not lead out of the folder: a role would otherwise copy any file of the
  // operator's machine to every host.
  // The folder itself may not be a link elsewhere either: it is the role's own templates/.
  const real = realpathSync(file);
  const realFolder = join(realpathSync(role.dir), 'templates');
  if (!real.startsWith(realFolder + sep)) {
    at(`template ${src} leads out of ${folder} (to ${relative(realFolder, real).startsWith('..') ? real : relative(realFolder, real)}); a template must be a file inside the role's templates folder`);
    return;
  }
  const notFile = roleFileProblem(role.dir, file);
  if (notFile !== undefined) {
    at(`template ${src}: ${notFile}`);
    return;
  }
  let text: string;
  try {
    // Checked, not decoded loosely: a Latin-1 byte would reach every host as U+FFFD.
    text = decodeUtf8Text(file, readFileSync(real));
  } catch (error) {
    if (error instanceof ConfigError) problems.push(...error.problems);
    else at(`cannot read template ${src}: ${(error as Error).message}`);
    return;
  }
  templates.set(src, { file, text });
  try {
    for (const problem of checkTemplate(parseTemplate(text), scope, format)) {
      problems.push({ file, line: problem.line, col: problem.col, path: '', message: problem.message });
    }
  } catch (error) {
    if (!(error instanceof TemplateSyntaxError)) throw error;
    problems.push({ file, line: error.line, col: error.col, path: '', message: error.message });
  }
}
