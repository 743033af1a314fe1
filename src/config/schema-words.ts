// Plain words for what a schema accepts ("an integer 1-65535", "true, an integer 1-2678400, or
// {timeout, netmask}") and for what a value is ("the string "80"", "a list"), read from zod's own
// schema definitions so that a message can never disagree with the check that produced it.

interface Def {
  readonly type: string;
  readonly [key: string]: unknown;
}

interface CheckDef {
  readonly check: string;
  readonly value?: number;
  readonly inclusive?: boolean;
  readonly format?: string;
}

const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'catch', 'readonly', 'nonoptional']);

export function defOf(schema: unknown): Def | undefined {
  return (schema as { _zod?: { def?: Def } } | undefined)?._zod?.def;
}

/** The schema under optional/default/transform wrappers: the one that decides what a value must be. */
export function unwrapSchema(schema: unknown): unknown {
  let current = schema;
  for (let guard = 0; guard < 20; guard += 1) {
    const def = defOf(current);
    if (def && WRAPPERS.has(def.type)) current = def.innerType;
    else if (def?.type === 'pipe') current = def.in;
    else return current;
  }
  return current;
}

function checksOf(def: Def): CheckDef[] {
  return ((def.checks as Array<{ _zod: { def: CheckDef } }> | undefined) ?? []).map((check) => check._zod.def);
}

function describeNumber(def: Def): string {
  const checks = checksOf(def);
  const integer = checks.some((check) => check.check === 'number_format' && /int/.test(check.format ?? ''));
  const noun = integer ? 'an integer' : 'a number';
  const low = checks.find((check) => check.check === 'greater_than');
  const high = checks.find((check) => check.check === 'less_than');
  if (low?.inclusive && high?.inclusive) return `${noun} ${low.value}-${high.value}`;
  const bounds = [
    low ? (low.inclusive ? `at least ${low.value}` : `greater than ${low.value}`) : '',
    high ? (high.inclusive ? `at most ${high.value}` : `less than ${high.value}`) : '',
  ].filter(Boolean);
  return bounds.length > 0 ? `${noun} ${bounds.join(' and ')}` : noun;
}

function joinAlternatives(words: readonly string[]): string {
  if (words.length <= 1) return words[0] ?? 'nothing';
  if (words.length === 2) return `${words[0]} or ${words[1]}`;
  return `${words.slice(0, -1).join(', ')}, or ${words.at(-1)}`;
}

/** What `schema` accepts, in words; `inList` gives objects as `{a, b}` to fit in a list of alternatives. */
export function describeSchema(schema: unknown, inList = false): string {
  const def = defOf(unwrapSchema(schema));
  switch (def?.type) {
    case 'number':
      return describeNumber(def);
    case 'string':
      return 'a string';
    case 'boolean':
      return 'true or false';
    case 'null':
      return 'an empty value';
    case 'literal':
      return joinAlternatives((def.values as unknown[]).map((value) => (typeof value === 'string' ? `"${value}"` : String(value))));
    case 'enum':
      return `one of ${Object.values(def.entries as Record<string, string>).join(', ')}`;
    case 'array':
      return 'a list';
    case 'record':
      return 'a mapping';
    case 'object':
      return inList ? `{${Object.keys(def.shape as object).join(', ')}}` : 'a mapping';
    case 'union':
      return joinAlternatives((def.options as unknown[]).map((option) => describeSchema(option, true)));
    default:
      return 'a valid value';
  }
}

const quoted = (text: string): string => JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text);

/** What a value is, for "got ...": `the string "80"`, `the number 70000`, `true`, `a list`. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'an empty value';
  if (typeof value === 'string') return `the string ${quoted(value)}`;
  if (typeof value === 'number') return `the number ${value}`;
  if (typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : 'a list';
  if (value instanceof Uint8Array) return 'binary data';
  return 'a mapping';
}

/** The key names an object schema (under any wrappers, or among a union's forms) knows, or none. */
export function knownKeys(schema: unknown): string[] {
  const def = defOf(unwrapSchema(schema));
  if (def?.type === 'object') return Object.keys(def.shape as object);
  if (def?.type === 'union') return [...new Set((def.options as unknown[]).flatMap((option) => knownKeys(option)))];
  return [];
}

/** The schema that checks the value at `path` below `schema`, where it can be told. */
export function schemaAt(schema: unknown, path: readonly PropertyKey[]): unknown {
  if (path.length === 0) return schema;
  const def = defOf(unwrapSchema(schema));
  const [head, ...rest] = path;
  switch (def?.type) {
    case 'object':
      return Object.hasOwn(def.shape as object, String(head)) ? schemaAt((def.shape as Record<string, unknown>)[String(head)], rest) : undefined;
    case 'array':
      return schemaAt(def.element, rest);
    case 'record':
      return schemaAt(def.valueType, rest);
    case 'union':
      for (const option of def.options as unknown[]) {
        const found = schemaAt(option, path);
        if (found !== undefined) return found;
      }
      return undefined;
    default:
      return undefined;
  }
}
