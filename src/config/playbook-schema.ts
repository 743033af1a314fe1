import { z } from 'zod';
import { resourceTypes } from '../resources/registry.js';
import { OUTPUT_FORMATS } from './output-formats.js';
import { variableDeclarationSchema, variableNamePattern } from './variable-types.js';
import { suggestion } from './suggest.js';
import { hostNamePattern } from './values.js';
import { refuseTerminalTricks } from './text-safety.js';

// Playbooks and role task files. The set of task types is derived from the resource registry (plus
// `template`, which renders a role's template into a `file` task), so a misspelt or unknown type is
// a validation error that names the known ones.

export const TEMPLATE_TASK = 'template';
export const taskTypeNames = [...Object.keys(resourceTypes), TEMPLATE_TASK].sort();
/** Task keys that control the task rather than name its type. */
export const controlKeys: ReadonlySet<string> = new Set(['name', 'loop', 'when', 'tags']);

/** `tags: web` or `tags: [web, sysctl]`: names --tags and --skip-tags select by. */
export const tagsSchema = z
  .union([z.string(), z.array(z.string())])
  .transform((value) => (typeof value === 'string' ? [value] : value))
  .pipe(z.array(z.string().regex(/^[A-Za-z0-9_.-]+$/, 'must be a tag (letters, digits, _ . -)')));

// A play's or task's name is printed in plans, listings and recaps on the operator's terminal, and
// kept in the host's ownership manifest: an ESC there would be a terminal command (clear the
// screen, recolour, retitle), a line break a forged line of output.
/** A play's or task's name, printed on the terminal: no control character (an ESC would be a command there), no bidirectional control. */
export const displayedName = z.string().superRefine(refuseTerminalTricks);

const LOOP_WORDS = 'loop takes a list (loop: [a, b], or one "- item" a line under it), the name of a list variable (loop: pages) or one {{ expression }} giving a list';

/** A list written in place holds scalars, or mappings, not both, and nothing empty. */
function loopItemsProblem(loop: string | unknown[], ctx: z.RefinementCtx): void {
  if (typeof loop === 'string') return;
  const kind = (item: unknown): string => (item === null || item === undefined ? 'empty' : Array.isArray(item) ? 'list' : typeof item === 'object' ? 'mapping' : 'scalar');
  const first = loop.length > 0 ? kind(loop[0]) : 'scalar';
  loop.forEach((item, index) => {
    const each = kind(item);
    if (each === 'empty') ctx.addIssue({ code: 'custom', path: [index], message: 'a loop item is empty: write a value, or leave the line out' });
    else if (each === 'list') ctx.addIssue({ code: 'custom', path: [index], message: 'a loop item is a list: loop runs once per item and does not flatten (Ansible\'s with_items did); write the items one list' });
    else if (each !== first && first !== 'empty' && first !== 'list') ctx.addIssue({ code: 'custom', path: [index], message: `loop items are all scalars or all mappings; item 1 is a ${first}, this one a ${each}` });
  });
}

/** Ansible's keywords lvsprov does not read, each with what to write instead. */
const ANSIBLE_KEYWORDS: Readonly<Record<string, string>> = {
  with_items: 'with_items is Ansible\'s older loop: write loop: with the same list (loop does not flatten nested lists)',
  with_list: 'with_list is Ansible\'s older loop: write loop: with the same list',
  loop_control: 'loop_control is not read: the item is always item, its number (from 1) loop_index',
};

function ansibleKeywordWords(key: string): string | undefined {
  return Object.hasOwn(ANSIBLE_KEYWORDS, key) ? ANSIBLE_KEYWORDS[key] : key.startsWith('with_') ? `${key} is Ansible's older loop: write loop: with a list, or the name of a list variable` : undefined;
}

function unknownTypeWords(key: string): string {
  return ansibleKeywordWords(key) ?? `unknown task type ${key}${suggestion(key, taskTypeNames, ': ')}`;
}

export const taskSchema = z
  .object({
    name: displayedName.optional(),
    /**
     * The items the task runs once per item for, as `item`: a list written in place (scalars, or
     * mappings read as `item.field`), or a variable holding one, by name or as one `{{ expression }}`.
     */
    loop: z.union([z.string(), z.array(z.unknown())], { error: () => LOOP_WORDS }).superRefine(loopItemsProblem).optional(),
    /** A variable or `{{ expression }}`; the task is skipped on hosts where it is empty or false. */
    when: z.union([z.string(), z.boolean()]).optional(),
    tags: tagsSchema.optional(),
  })
  .catchall(z.unknown())
  .superRefine((task, ctx) => {
    const types = Object.keys(task).filter((key) => !controlKeys.has(key));
    for (const key of types) {
      if (!taskTypeNames.includes(key)) {
        ctx.addIssue({ code: 'custom', path: [key], params: { atKey: true }, message: unknownTypeWords(key) });
      }
    }
    // An Ansible keyword was refused above with what to write instead; it is no second type.
    const typed = types.filter((key) => ansibleKeywordWords(key) === undefined);
    if (typed.length !== 1) {
      ctx.addIssue({ code: 'custom', path: [], message: `a task has exactly one type (one of ${taskTypeNames.join(', ')}); found ${typed.length}` });
    }
  });

export type TaskEntry = z.output<typeof taskSchema>;

export const templateSpecSchema = z
  .object({
    // Confined to the role's templates folder: no absolute path, no `.` or `..` segment (and the
    // loader checks that no symbolic link leads out).
    src: z
      .string()
      .regex(/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/, "must be a file name inside the role's templates folder")
      .refine((src) => src.split('/').every((segment) => segment !== '.' && segment !== '..'), { message: "must stay inside the role's templates folder (no . or .. segments)" }),
    dest: z.string(),
    /** What the file is, which decides how every value is escaped or refused in it. */
    format: z.enum(OUTPUT_FORMATS, { message: `must say what the template renders: one of ${OUTPUT_FORMATS.join(', ')}` }),
    mode: z.union([z.string(), z.number()]).optional(),
  })
  .strict();

/** What a play's `hosts` names: a group or a host of the inventory, or `all`; patterns are --limit's. */
const playTarget = z
  .string()
  .regex(hostNamePattern, 'must be a group or host name (letters, digits, _ . -) or all; globs and exclusions such as web* or !rs3 are for --limit');

// A role's name becomes part of unit and file names (its boot hook is lvsprov-ROLE.service, within
// systemd's 255 characters): 64 is far more than a name needs and far below those limits.
const roleName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'must be a role name (lower case, digits, _ -)')
  .max(64, { error: (issue) => `must be a role name of at most 64 characters; this one has ${String(issue.input).length}` });

export const playSchema = z
  .object({
    name: displayedName.optional(),
    /** A group, a host, `all`, or a list of them. */
    hosts: z.union([playTarget, z.array(playTarget).min(1)]),
    /** A role's name, or `{ role: NAME, tags: [...] }` to tag every task the role brings. */
    roles: z.array(z.union([roleName, z.object({ role: roleName, tags: tagsSchema.optional() }).strict()])).default([]),
    tags: tagsSchema.optional(),
    tasks: z.array(taskSchema).default([]),
  })
  .strict();

export const playbookSchema = z.array(playSchema).min(1, 'a playbook lists at least one play');

export const roleMetaSchema = z
  .object({
    description: z.string().optional(),
    /** Every variable the role reads, with its type; a default makes it optional for the inventory. */
    variables: z.record(z.string().regex(variableNamePattern, 'must be a variable name (letters, digits, _)'), variableDeclarationSchema).default({}),
  })
  .strict();

export const roleTasksSchema = z.array(taskSchema);
export type Play = z.output<typeof playSchema>;
