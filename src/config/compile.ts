import { deepFreeze } from './deep-freeze.js';
import { appendAll } from './append-all.js';
import { ConfigError, type ConfigProblem } from '../errors.js';
import { isResourceTypeName, resourceTypes, type ResourceTypeName } from '../resources/registry.js';
import { selectHosts } from './host-patterns.js';
import { BootSpecs, withBootTasks } from './boot-tasks.js';
import { ObjectClaims } from './conflicting-objects.js';
import { directRepliesProblems } from './direct-replies-check.js';
import { directorAddress } from './dip.js';
import { hostVars, nearVariable, varLayers, varOrigin, type VarLayer, type Vars } from './host-vars.js';
import { foldHosts, hostProblem } from './host-problems.js';
import { own } from './own.js';
import { checkPlaybookTasks } from './playbook-check.js';
import type { LoadedInventory } from './inventory.js';
import { directorsByVip } from './lvs-model.js';
import { controlKeys, displayedName, playbookSchema, TEMPLATE_TASK, templateSpecSchema, type TaskEntry } from './playbook-schema.js';
import { idleSettingWarnings } from './idle-settings.js';
import { misspeltVariableWarnings } from './misspelt-variables.js';
import { nearestNames, suggestion } from './suggest.js';
import { evaluate, isTruthy, MissingVariableError, renderDeep, renderString, UnprintableValueError, wholeReference } from './render.js';
import { RenderBudgetError, startRunBudget } from './render-budget.js';
import { checkDerivedNotSet, checkRoleVariables, checkRoleVariablesWhereSet } from './role-variables.js';
import { parseTemplate, renderTemplateFile, TemplateValueError } from './template-render.js';
import { formatForDest, formatImplied } from './file-content-format.js';
import { OUTPUT_FORMATS, type OutputFormat } from './output-formats.js';
import { ANY_VARIABLE, checkTemplate } from './template-check.js';
import { RoleLoader, roleSearchPath, type Role } from './roles.js';
import { unheldServiceProblems } from './unheld-services.js';
import { unreachedHostWarnings } from './unreached-hosts.js';
import { wholeVariableAt } from './whole-variable.js';
import { describeValue } from './schema-words.js';
import { checkInput, parseWith, zodProblems } from './validate.js';
import { YamlSource, type PathSegment } from './yaml-source.js';

// Inventory + playbook -> for every targeted host, the list of concrete, validated tasks. All of
// it happens before any host is contacted: a missing variable, a bad address produced by a
// template or an unknown role stops the run here with every problem located.

export interface CompiledTask {
  readonly name: string;
  readonly role?: string;
  readonly type: ResourceTypeName;
  readonly spec: unknown;
  /** The task's tags with its role's and play's; absent when there are none. */
  readonly tags?: readonly string[];
}

/** --tags and --skip-tags: a task runs when it has one of `only` (or `always`) and none of `skip`. */
export interface TagSelection {
  readonly only?: readonly string[];
  readonly skip?: readonly string[];
}

/**
 * Whether a task with `tags` runs under --tags/--skip-tags, as in Ansible: `always` runs unless
 * skipped by name, `never` only when --tags names it or another of the task's tags.
 */
export function tagsSelected(tags: readonly string[], selection: TagSelection): boolean {
  if (selection.skip?.some((tag) => tags.includes(tag))) return false;
  const named = selection.only?.some((tag) => tags.includes(tag)) ?? false;
  if (tags.includes('never')) return named;
  return selection.only === undefined || tags.includes('always') || named;
}

export interface CompiledRun {
  /** Hosts in inventory order, each with its tasks in playbook order. */
  readonly hosts: ReadonlyMap<string, readonly CompiledTask[]>;
  /** Things worth saying that do not stop the run, e.g. a play matching no host. */
  readonly warnings: readonly string[];
  /**
   * Real-server addresses of the LVS model to the inventory host serving each: the engine holds a
   * director's addition back when that host is not ready.
   */
  readonly realServers: ReadonlyMap<string, string>;
  /**
   * Every inventory host by its address: a real server the inventory no longer lists (it leaves)
   * is found by the address the directors' tables hold, so it keeps its VIP while a director that
   * failed may still send to it.
   */
  readonly hostAddresses?: ReadonlyMap<string, string>;
  /**
   * Every inventory host by the addresses its VRRP adverts may leave from (its address, its `dip`
   * var): a director's keepalived that drops a peer finds the peer's host, and whether the run
   * retires it.
   */
  readonly vrrpAddresses?: ReadonlyMap<string, string>;
  /**
   * Hosts of the inventory that no play of this run reaches and --limit does not leave out: the
   * run knows how to reach them, and opens one only to stop the keepalived of a director dropped
   * from a VRRP group (see engine/retire-peers.ts).
   */
  readonly unplayed?: ReadonlySet<string>;
  /** The directors of each service VIP, as its services list them: a keepalived VIP moved to other directors (engine/vrrp-moves.ts). */
  readonly vipDirectors?: ReadonlyMap<string, readonly string[]>;
}

interface TaskOrigin {
  readonly source: YamlSource;
  readonly path: PathSegment[];
  readonly role?: Role;
  readonly tags: readonly string[];
}

export function compile(inventory: LoadedInventory, playbookFile: string, limit?: readonly string[], tags: TagSelection = {}, rolesPath: readonly string[] = []): CompiledRun {
  startRunBudget();
  const source = YamlSource.load(playbookFile);
  const plays = parseWith(source, playbookSchema, source.value());
  const templateProblems = checkPlaybookTasks(source, plays);
  if (templateProblems.length > 0) throw new ConfigError(templateProblems);
  const roles = new RoleLoader([...new Set([...rolesPath, ...roleSearchPath(playbookFile)])]);
  const problems: ConfigProblem[] = [];
  const warnings: string[] = [];
  const hosts = new Map<string, CompiledTask[]>();
  const hostOrder = Object.keys(inventory.data.hosts);
  const seenTags = new Set<string>();

  let limited: ReadonlySet<string> | null = null;
  if (limit) {
    const selection = selectHosts(limit, hostOrder, inventory.groups);
    for (const message of selection.problems) problems.push({ file: '--limit', line: 1, col: 1, path: '', message });
    limited = new Set(selection.hosts);
  }
  const reached = new Set<string>();
  const patternsNamed: string[] = [];
  const specs: SpecCache = new Map();
  const rolesUsed = new Set<Role>();
  /** Where the playbook first names each role: the place to report what its generated tasks clash with. */
  const roleMentions = new Map<string, (message: string) => ConfigProblem>();

  // Two plays may give one host tasks that undo each other: a host's claims are kept from play to
  // play until the last play that reaches it (most hosts are in one play, and keep none).
  const hostSet = new Set(hostOrder);
  const membersOf = (pattern: string): readonly string[] | null => (pattern === 'all' ? hostOrder : inventory.groups.get(pattern) ?? (hostSet.has(pattern) ? [pattern] : null));
  const lastPlay = new Map<string, number>();
  plays.forEach((play, playIndex) => {
    for (const pattern of typeof play.hosts === 'string' ? [play.hosts] : play.hosts) for (const member of membersOf(pattern) ?? []) lastPlay.set(member, playIndex);
  });
  const claimsKept = new Map<string, ObjectClaims<TaskOrigin>>();
  /** Hosts a role was refused on (its variables set wrong): what that role's tasks would make is not missing, it is not known. */
  const withRefusedRoles = new Set<string>();

  plays.forEach((play, playIndex) => {
    const patterns = typeof play.hosts === 'string' ? [play.hosts] : play.hosts;
    appendAll(patternsNamed, patterns);
    const targets = new Set<string>();
    patterns.forEach((pattern, i) => {
      const members = membersOf(pattern);
      if (members === null) {
        // As in Ansible, a playbook may name groups an inventory does not have (a DR-only cluster
        // has no TUN real servers); the play is skipped with a warning, so a typo stays visible.
        const path = typeof play.hosts === 'string' ? [playIndex, 'hosts'] : [playIndex, 'hosts', i];
        // Hosts are candidates only in an inventory of a size to read through: 75,000 would cost seconds.
        const known = [...inventory.groups.keys(), ...(hostOrder.length <= 1000 ? hostOrder : [])];
        const near = nearestNames(pattern, known, 1)[0];
        const skipped = patterns.length === 1 ? 'play skipped' : 'the play runs on the others';
        const p = source.problem(path, `no group or host named ${pattern} in ${inventory.file}${near === undefined ? '' : ` (did you mean \`${near}\`?)`}; ${skipped}`);
        warnings.push(`${p.file}:${p.line}:${p.col}: ${p.message}`);
      } else members.forEach((member) => targets.add(member));
    });
    targets.forEach((host) => reached.add(host));
    const entries: Array<{ task: TaskEntry; origin: TaskOrigin }> = [];
    const requirements: Array<{ role: Role; path: PathSegment[] }> = [];
    const playTags = play.tags ?? [];
    const add = (task: TaskEntry, origin: Omit<TaskOrigin, 'tags'>, inherited: readonly string[]): void => {
      const taskTags = [...new Set([...inherited, ...(task.tags ?? [])])];
      taskTags.forEach((tag) => seenTags.add(tag));
      if (tagsSelected(taskTags, tags)) entries.push({ task, origin: { ...origin, tags: taskTags } });
    };
    play.roles.forEach((entry, roleIndex) => {
      const name = typeof entry === 'string' ? entry : entry.role;
      const path = typeof entry === 'string' ? [playIndex, 'roles', roleIndex] : [playIndex, 'roles', roleIndex, 'role'];
      try {
        const role = roles.load(name, { source, path });
        requirements.push({ role, path });
        if (!roleMentions.has(role.name)) roleMentions.set(role.name, (message) => source.problem(path, message));
        rolesUsed.add(role);
        const roleTags = [...playTags, ...(typeof entry === 'string' ? [] : entry.tags ?? [])];
        role.tasks.forEach((task, t) => add(task, { source: role.tasksSource, path: [t], role }, roleTags));
      } catch (error) {
        if (error instanceof ConfigError) appendAll(problems, error.problems);
        else throw error;
      }
    });
    play.tasks.forEach((task, t) => add(task, { source, path: [playIndex, 'tasks', t] }, playTags));
    if (play.tasks.length > 0 && !roleMentions.has('')) roleMentions.set('', (message) => source.problem([playIndex, 'tasks'], message));

    for (const host of hostOrder.filter((name) => targets.has(name) && (!limited || limited.has(name)))) {
      const baseVars = hostVars(inventory, host);
      const layers = varLayers(inventory, host);
      appendAll(problems, checkDerivedNotSet(inventory, layers));
      // A role whose variables this host gets wrong is reported once, where they are set (or at
      // the play, when unset), not again at every task and template that would use them.
      const refused = new Set<Role>();
      for (const { role, path } of requirements) {
        const found = checkRoleVariables(inventory, host, layers, role);
        for (const variable of role.requires.filter((name) => own(baseVars, name) === undefined)) {
          // A near miss the host does set (lan_interfce) is most likely the intended one.
          const near = nearVariable(layers, variable);
          const hint = near === undefined ? '' : `; ${formatOrigin(inventory, near.at)} is close: did you mean \`${variable}\` there?`;
          found.push(hostProblem(source.problem(path, ''), host, (hosts) => `role ${role.name} needs variable ${variable} on ${hosts}; set it in the inventory (vars, group vars or host vars)${hint}`));
        }
        if (found.length > 0) {
          refused.add(role);
          withRefusedRoles.add(host);
        }
        appendAll(problems, found);
      }
      const list = hosts.get(host) ?? [];
      // One variables object per role on this host, shared by its tasks: the template engine's
      // prototype-free copy of it (withoutPrototypes) is then made once, not once per task.
      const varsOfRole = new Map<Role | undefined, Vars>();
      const claims = claimsKept.get(host) ?? new ObjectClaims<TaskOrigin>();
      if (lastPlay.get(host) === playIndex) claimsKept.delete(host);
      else claimsKept.set(host, claims);
      for (const { task, origin } of entries.filter((entry) => !entry.origin.role || !refused.has(entry.origin.role))) {
        let vars = varsOfRole.get(origin.role);
        if (vars === undefined) {
          vars = { ...(origin.role?.defaults ?? {}), ...baseVars };
          varsOfRole.set(origin.role, vars);
        }
        const expanded = expandTask(task, origin, vars, { host, inventory, layers, specs }, problems);
        for (const compiled of expanded) {
          const conflict = claims.claim(compiled.type, compiled.spec, origin);
          if (conflict) {
            // Located only now: a position per task and host would cost a large inventory seconds.
            const earlier = conflict.earlier.source.problem(conflict.earlier.path, '');
            const at = `the task at ${earlier.file}:${earlier.line}:${earlier.col}`;
            const what =
              conflict.removedBy === undefined
                ? `declares ${conflict.id} otherwise than ${at}`
                : conflict.removedBy.task === 'this'
                  ? `removes ${conflict.id} ${conflict.removedBy.how}, which ${at} declares`
                  : `declares ${conflict.id}, which ${at} removes ${conflict.removedBy.how}`;
            const fix = conflict.removedBy?.fix ?? 'declare it once';
            problems.push(hostProblem(origin.source.problem(origin.path, ''), host, (hosts) => `task "${compiled.name}" ${what}: the two would undo each other at every apply; ${fix} (${hosts})`));
          }
        }
        appendAll(list, expanded);
      }
      hosts.set(host, list);
    }
  });

  appendAll(problems, checkRoleVariablesWhereSet(inventory, rolesUsed));
  appendAll(problems, unheldServiceProblems(inventory, hosts, limited, withRefusedRoles));
  appendAll(problems, directRepliesProblems(inventory, hosts));
  for (const tag of [...(tags.only ?? []), ...(tags.skip ?? [])]) {
    if (tag !== 'always' && !seenTags.has(tag)) warnings.push(`no task of ${playbookFile} has the tag ${tag}${seenTags.size > 0 ? suggestion(tag, [...seenTags].sort()) : ''}`);
  }
  if (problems.length > 0) throw new ConfigError(dedupe(problems));
  const bootSpecs = new BootSpecs();
  for (const [host, tasks] of hosts) {
    const withBoot = withBootTasks(tasks, bootSpecs);
    appendAll(problems, generatedTaskClashes(tasks, withBoot, roleMentions));
    hosts.set(host, withBoot);
  }
  if (problems.length > 0) throw new ConfigError(dedupe(problems));
  const realServers = new Map(inventory.services.flatMap((service) => service.realServers.flatMap((server) => (server.host ? [[server.address, server.host] as const] : []))));
  let hostAddresses: Map<string, string> | undefined;
  let vrrpAddresses: Map<string, string> | undefined;
  let unplayed: Set<string> | undefined;
  let vipDirectors: Map<string, string[]> | undefined;
  return {
    hosts,
    warnings: [...warnings, ...unreachedHostWarnings(inventory, patternsNamed, reached, hostOrder), ...idleSettingWarnings(inventory), ...misspeltVariableWarnings(inventory, rolesUsed, JSON.stringify(plays.map((play) => play.tasks)))],
    realServers,
    // Made when an apply first asks: validate has no use for a map of every host.
    get hostAddresses(): ReadonlyMap<string, string> {
      hostAddresses ??= new Map(Object.entries(inventory.data.hosts).map(([name, entry]) => [entry.address, name] as const));
      return hostAddresses;
    },
    get vrrpAddresses(): ReadonlyMap<string, string> {
      vrrpAddresses ??= new Map(Object.keys(inventory.data.hosts).flatMap((name) => [directorAddress(inventory, name), own(inventory.data.hosts, name)?.address].flatMap((address) => (address === undefined ? [] : [[address, name] as const]))));
      return vrrpAddresses;
    },
    get unplayed(): ReadonlySet<string> {
      unplayed ??= new Set(hostOrder.filter((name) => !hosts.has(name) && (!limited || limited.has(name))));
      return unplayed;
    },
    get vipDirectors(): ReadonlyMap<string, readonly string[]> {
      vipDirectors ??= directorsByVip(inventory.services);
      return vipDirectors;
    },
  };
}

interface HostScope {
  readonly host: string;
  readonly inventory: LoadedInventory;
  readonly layers: readonly VarLayer[];
  readonly specs: SpecCache;
}

/**
 * Specs already validated in this compile, by resource type and rendered value. Most tasks render
 * to the same spec on every host (a sysctl file, a package, a VIP on lo), and a schema check costs
 * far more than a lookup: a thousand hosts check each distinct spec once. The cached spec is
 * frozen, since every host sharing it gets the same object.
 */
type SpecCache = Map<string, unknown>;


function expandTask(task: TaskEntry, origin: TaskOrigin, vars: Vars, scope: HostScope, problems: ConfigProblem[]): CompiledTask[] {
  const { host } = scope;
  const problem = (path: PathSegment[], message: string): void => {
    problems.push(hostProblem(origin.source.problem([...origin.path, ...path], ''), host, (hosts) => `${message} (${hosts})`));
  };
  const type = Object.keys(task).find((key) => !controlKeys.has(key)) as string;
  try {
    const skipped = (taskVars: Vars): boolean => {
      if (task.when === undefined) return false;
      const value = typeof task.when === 'boolean' ? task.when : saidAt(['when'], () => evaluate(task.when as string, taskVars));
      if (typeof value === 'string' && yamlOneOneFalse(value)) {
        // `enabled: no` is the string "no" in YAML 1.2, and true as a condition: the task would run
        // where the operator (reading the file as Ansible's YAML 1.1 does) switched it off.
        const expression = String(task.when);
        const variable = (expression.includes('{{') ? wholeReference(expression) : expression.trim())?.split('.')[0];
        problems.push(saidWhereSet(scope, variable, task.loop !== undefined, origin.source.problem([...origin.path, 'when'], ''), `when: ${expression} is the string ${JSON.stringify(value)}, which Ansible's YAML 1.1 reads as false, where a string that is not empty is true here: write false (unquoted) to skip the task, or true to run it`));
        return true;
      }
      return !isTruthy(value);
    };
    // With a loop, `when` is asked of each item (it may read item, as the role check lets it).
    if (task.loop === undefined && skipped(vars)) return [];
    const loop = task.loop;
    // A list written in place is rendered as task values are (an item `{{ x }}` keeps x's type).
    const items = loop === undefined ? [undefined] : saidAt(['loop'], () => (typeof loop === 'string' ? evaluate(loop, vars) : renderDeep(loop, vars)));
    if (!Array.isArray(items)) {
      problem(['loop'], `loop must name a list, got ${typeof items}`);
      return [];
    }
    return items.flatMap((item, index): CompiledTask[] => {
      const itemVars = item === undefined ? vars : { ...vars, item, loop_index: index + 1 };
      if (task.loop !== undefined && skipped(itemVars)) return [];
      const label = task.name ? String(saidAt(['name'], () => renderDeep(task.name, itemVars))) : type;
      // The name as written was checked; one a variable fills in is checked as rendered, since it
      // is printed on the terminal just the same.
      if (task.name?.includes('{{')) {
        const shown = checkInput(displayedName, label);
        if (!shown.success) {
          const message = `the task's name ${shown.error.issues[0]?.message ?? 'cannot be printed'}, got ${describeValue(label)}`;
          problems.push(saidWhereSet(scope, wholeVariableAt(task, 'name'), item !== undefined, origin.source.problem([...origin.path, 'name'], ''), message));
          return [];
        }
      }
      const name = items.length > 1 ? `${label} [${index + 1}/${items.length}]` : label;
      const raw = type === 'file' ? renderAllButContent(task[type], itemVars) : renderDeep(task[type], itemVars);
      const spec = type === TEMPLATE_TASK ? renderTemplateTask(raw, origin, itemVars, scope, problems, problem) : type === 'file' ? renderFileContent(task[type], raw, itemVars, scope, problems, problem, origin, item !== undefined) : raw;
      if (spec === undefined) return [];
      const resourceType: ResourceTypeName = type === TEMPLATE_TASK ? 'file' as ResourceTypeName : (type as ResourceTypeName);
      if (!isResourceTypeName(resourceType)) {
        problem([type], `task type ${resourceType} is not available`);
        return [];
      }
      const schema = resourceTypes[resourceType].schema;
      const key = `${resourceType}\0${JSON.stringify(spec)}`;
      let checked = scope.specs.get(key);
      if (checked === undefined) {
        const parsed = checkInput(schema, spec);
        if (!parsed.success) {
          // A template task is checked as the file it writes: its `path` is the task's `dest`.
          const issues = type === TEMPLATE_TASK ? parsed.error.issues.map((issue) => (issue.path[0] === 'path' ? { ...issue, path: ['dest', ...issue.path.slice(1)] } : issue)) : parsed.error.issues;
          const specPath = [...origin.path, type].join('.');
          for (const p of zodProblems(origin.source, { issues }, [...origin.path, type], schema)) {
            const variable = p.path.startsWith(`${specPath}.`) ? wholeVariableAt(task[type], p.path.slice(specPath.length + 1)) : undefined;
            problems.push(saidWhereSet(scope, variable, item !== undefined, p, p.message));
          }
          return [];
        }
        checked = deepFreeze(parsed.data);
        scope.specs.set(key, checked);
      }
      return [{ name, ...(origin.role ? { role: origin.role.name } : {}), type: resourceType, spec: checked, ...(origin.tags.length > 0 ? { tags: origin.tags } : {}) }];
    });
  } catch (error) {
    if (error instanceof UnprintableValueError) {
      problems.push(saidWhereSet(scope, error.variable.split('.')[0], task.loop !== undefined, origin.source.problem([...origin.path, ...(placed.has(error) ? error.path : [type, ...error.path])], ''), error.message));
      return [];
    }
    if (error instanceof MissingVariableError) {
      problem(placed.has(error) ? error.path : [type, ...error.path], `variable ${error.variable} is not set; set it in the inventory (vars, group vars or host vars)`);
      return [];
    }
    if (error instanceof RenderBudgetError) {
      problem([type], error.message);
      return [];
    }
    throw error;
  }
}

function renderTemplateTask(
  raw: unknown,
  origin: TaskOrigin,
  vars: Vars,
  scope: HostScope,
  problems: ConfigProblem[],
  problem: (path: PathSegment[], message: string) => void,
): unknown {
  const parsed = checkInput(templateSpecSchema, raw);
  if (!parsed.success) {
    for (const p of zodProblems(origin.source, parsed.error, [...origin.path, TEMPLATE_TASK], templateSpecSchema)) problems.push(hostProblem(p, scope.host, (hosts) => `${p.message} (${hosts})`));
    return undefined;
  }
  const template = origin.role?.templates.get(parsed.data.src);
  if (!origin.role || !template) {
    problem([TEMPLATE_TASK], "template tasks belong in a role (their src is read from the role's templates folder)");
    return undefined;
  }
  const wrongFormat = formatForDest(parsed.data.format, parsed.data.dest, parsed.data.mode);
  if (wrongFormat !== undefined) {
    problem([TEMPLATE_TASK, 'format'], wrongFormat);
    return undefined;
  }
  let content: string;
  try {
    content = renderTemplateFile(template.text, vars, parsed.data.format);
  } catch (error) {
    if (!(error instanceof TemplateValueError)) throw error;
    // Point at the inventory line that set the value when the template printed a variable of the
    // inventory; otherwise at the template's expression.
    const set = error.variable === undefined ? undefined : varOrigin(scope.layers, error.variable);
    const role = origin.role.name;
    const say = (hosts: string): string => `${error.expression} ${error.reason} (template ${template.file}, format ${parsed.data.format}, role ${role}, ${hosts})`;
    problems.push(hostProblem(set ? scope.inventory.source.problem(set, '') : { file: template.file, line: error.line, col: error.col, path: '' }, scope.host, say));
    return undefined;
  }
  return {
    path: parsed.data.dest,
    content,
    ...(parsed.data.mode !== undefined ? { mode: parsed.data.mode } : {}),
  };
}

/**
 * A file task's content with the values it prints written for its format (file-content-format.ts),
 * the task's own `format` taken off the spec. Content without an expression is the task's text as
 * written; a refused value is said at the inventory line that set it.
 */
function renderFileContent(
  written: unknown,
  raw: unknown,
  vars: Vars,
  scope: HostScope,
  problems: ConfigProblem[],
  problem: (path: PathSegment[], message: string) => void,
  origin: TaskOrigin,
  looped: boolean,
): unknown {
  if (!isPlainRecord(raw) || !isPlainRecord(written)) return raw;
  const { format: declared, ...spec } = raw;
  if (declared !== undefined && !(OUTPUT_FORMATS as readonly unknown[]).includes(declared)) {
    problem(['file', 'format'], `format must be one of ${OUTPUT_FORMATS.join(', ')}, got ${describeValue(declared)}`);
    return undefined;
  }
  const template = written.content;
  if (typeof template !== 'string' || !template.includes('{{')) return spec;
  const asValue = (): Record<string, unknown> => ({ ...spec, content: saidAt(['file', 'content'], () => renderString(template, vars)) });
  if (typeof spec.path !== 'string') return asValue();
  const implied = formatImplied(spec.path, spec.mode);
  const wrongFormat = declared === undefined ? undefined : formatForDest(declared as OutputFormat, spec.path, spec.mode);
  if (wrongFormat !== undefined) {
    problem(['file', 'format'], wrongFormat);
    return undefined;
  }
  const format = (declared as OutputFormat | undefined) ?? implied.format;
  // A whole file held by one variable (`content: "{{page}}"`) of a file that is neither a unit nor
  // sourced is that value, lines and all, as before.
  if (declared === undefined && format === 'text' && wholeReference(template) !== undefined) return asValue();
  const layout = format === 'shell-env' || format === 'html' ? checkTemplate(parseTemplate(template), ANY_VARIABLE, format) : [];
  if (layout.length > 0) {
    for (const each of layout) problem(['file', 'content'], `${each.message} (format ${format}${declared === undefined ? `, ${implied.by}` : ''})`);
    return undefined;
  }
  try {
    return { ...spec, content: saidAt(['file', 'content'], () => renderTemplateFile(template, vars, format)) };
  } catch (error) {
    if (!(error instanceof TemplateValueError)) throw error;
    const why = `${error.expression} ${error.reason} (file ${spec.path}, format ${format}${declared === undefined ? `, ${implied.by}; a file task may say its format` : ''})`;
    problems.push(saidWhereSet(scope, error.variable, looped, origin.source.problem([...origin.path, 'file', 'content'], ''), why));
    return undefined;
  }
}

/**
 * A file task's values rendered, but for a content that is a template: renderFileContent renders
 * that once, for the file's format (rendering it here as well cost a second pass per host).
 */
function renderAllButContent(written: unknown, vars: Vars): unknown {
  if (!isPlainRecord(written) || typeof written.content !== 'string' || !written.content.includes('{{')) return renderDeep(written, vars);
  // The content's place among the keys is kept: the spec's text is the key of the checked-spec cache.
  return { ...(renderDeep({ ...written, content: '' }, vars) as Record<string, unknown>), content: written.content };
}

/** Missing-variable errors whose path is already the task's own (when, loop, name, a file's content), not inside its spec. */
const placed = new WeakSet<MissingVariableError>();

/** A string YAML 1.1 reads as false, which as a string is true (`false` itself is false here too). */
function yamlOneOneFalse(text: string): boolean {
  return /^(?:n|N|no|No|NO|off|Off|OFF|False|FALSE)$/.test(text);
}

/** `run`, a variable it misses said at `path` of the task: the innermost place that says so wins. */
function saidAt<T>(path: readonly PathSegment[], run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof MissingVariableError && !placed.has(error)) {
      error.path.unshift(...path);
      placed.add(error);
    }
    throw error;
  }
}

/**
 * A task value's problem, said at the inventory line that set `variable` (naming where the task
 * read it), or at the task's value itself (`at`) when no inventory line set it: a loop's item is
 * the loop's.
 */
function saidWhereSet(scope: HostScope, variable: string | undefined, looped: boolean, at: Omit<ConfigProblem, 'message'>, message: string): ConfigProblem {
  const set = variable === undefined || (looped && (variable === 'item' || variable === 'loop_index')) ? undefined : varOrigin(scope.layers, variable);
  return set
    ? hostProblem(scope.inventory.source.problem(set, ''), scope.host, (hosts) => `${message} (read by ${at.path} at ${at.file}:${at.line}:${at.col}, ${hosts})`)
    : hostProblem(at, scope.host, (hosts) => `${message} (${hosts})`);
}

const isPlainRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function formatOrigin(inventory: LoadedInventory, path: readonly PathSegment[] | undefined): string {
  const where = inventory.source.problem(path ?? [], '', true);
  return `${where.path} (${where.file}:${where.line}:${where.col})`;
}

/**
 * A role's boot file and hook are named after the role (`lvsprov-ROLE`, /etc/lvsprov/ROLE.ip), so
 * an operator's role named like another role's hook (`fwmark`, whose director task declares the
 * `lvsprov-fwmark` hook) would make two tasks of one object that undo each other at every apply.
 * Said at the playbook's mention of the role whose generated task clashes.
 */
function generatedTaskClashes(declared: readonly CompiledTask[], all: readonly CompiledTask[], roleMentions: ReadonlyMap<string, (message: string) => ConfigProblem>): ConfigProblem[] {
  if (all.length === declared.length) return [];
  const isDeclared = new Set(declared);
  const claims = new ObjectClaims<CompiledTask>();
  const problems: ConfigProblem[] = [];
  for (const task of all) {
    const clash = claims.claim(task.type, task.spec, task);
    // Two tasks the playbook declares were said at their own lines, before the boot tasks were made.
    if (!clash || (isDeclared.has(task) && isDeclared.has(clash.earlier))) continue;
    const generated = isDeclared.has(task) ? clash.earlier : task;
    const other = generated === task ? clash.earlier : task;
    const mention = roleMentions.get(generated.role ?? '');
    const message = `${generated.role ? `role ${generated.role}` : "the playbook's own tasks"} make${generated.role ? 's' : ''} ${clash.id} for its at_boot tasks ("${generated.name}"), which task "${other.name}"${other.role ? ` of role ${other.role}` : ''} declares otherwise: the two would undo each other at every apply; ${generated.role ? 'give the role another name' : 'give that task another object'}`;
    if (mention) problems.push(mention(message));
  }
  return problems;
}

function dedupe(problems: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return foldHosts(problems).filter((p) => {
    const key = `${p.file}:${p.line}:${p.col}:${p.path}:${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
