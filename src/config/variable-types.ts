import { z } from 'zod';
import { userInputParse } from './issue-words.js';
import { absolutePath, addressLabel, ipv4, networkInterfaceName, vipInterfaceName } from './values.js';
import { describeCharacter, INVISIBLE, refuseControlCharacters } from './text-safety.js';
import { linearPattern } from './linear-pattern.js';
import { shortened } from '../errors.js';
import { suggestion } from './suggest.js';

// The types a role variable (or a variable lvsprov derives) can have, as role.yaml declares them:
//
//   web_port: { type: listen-port, default: 80, description: ... }
//   ipvsadm_sync_daemon: { type: enum, values: [none, master, backup, both], default: none }
//
// Each type maps to a value schema of values.ts, so a variable is held to the same grammar as the
// resource field it ends up in, and its message says what was expected.

export type VariableType =
  | { type: 'interface' | 'vip-interface' | 'ipv4' | 'port' | 'listen-port' | 'boolean' | 'path' | 'web-root' | 'php-conf-dir' | 'label' | 'host-name' }
  | { type: 'integer'; min: number; max: number }
  | { type: 'enum'; values: readonly string[] }
  | { type: 'string'; pattern?: string }
  | { type: 'list'; items: VariableType }
  | { type: 'object'; fields: Readonly<Record<string, VariableType>>; optional_fields?: readonly string[] };

const VARIABLE_TYPES = ['interface', 'vip-interface', 'ipv4', 'port', 'listen-port', 'integer', 'boolean', 'enum', 'string', 'path', 'web-root', 'php-conf-dir', 'label', 'host-name', 'list', 'object'] as const;

const variableTypeSchema: z.ZodType<VariableType> = z.lazy(() =>
  z.discriminatedUnion('type', [
    z.object({ type: z.enum(['interface', 'vip-interface', 'ipv4', 'port', 'listen-port', 'boolean', 'path', 'web-root', 'php-conf-dir', 'label', 'host-name']) }).strict(),
    z
      .object({ type: z.literal('integer'), min: z.number().int(), max: z.number().int() })
      .strict()
      .refine((kind) => kind.min <= kind.max, { path: ['max'], message: 'max must be at least min' }),
    z.object({ type: z.literal('enum'), values: z.array(z.string().regex(/^[A-Za-z0-9_.-]+$/, 'enum values are plain words')).min(1).superRefine(eachOnce) }).strict(),
    z.object({ type: z.literal('string'), pattern: z.string().superRefine(refuseSlowPattern).optional() }).strict(),
    z.object({ type: z.literal('list'), items: variableTypeSchema }).strict(),
    z
      .object({ type: z.literal('object'), fields: z.record(z.string(), variableTypeSchema), optional_fields: z.array(z.string()).optional() })
      .strict()
      .superRefine(optionalFieldsDeclared),
  ]),
);

/** The keys each variable type takes besides type, description, default and optional. */
const TYPE_KEYS: Readonly<Record<string, readonly string[]>> = { integer: ['min', 'max'], enum: ['values'], string: ['pattern'], list: ['items'], object: ['fields', 'optional_fields'] };

/** `optional_fields` names fields the object has: another name (a slip) would leave the meant field required. */
function optionalFieldsDeclared(kind: { fields: Record<string, unknown>; optional_fields?: string[] | undefined }, ctx: z.RefinementCtx): void {
  const names = Object.keys(kind.fields);
  kind.optional_fields?.forEach((name, index) => {
    if (!Object.hasOwn(kind.fields, name)) ctx.addIssue({ code: 'custom', path: ['optional_fields', index], message: `${name} is not a field of the object${suggestion(name, names)}` });
  });
}

/** An enum lists each value once: a repeated one is a slip (one meant another word). */
function eachOnce(values: readonly string[], ctx: z.RefinementCtx): void {
  const seen = new Map<string, number>();
  values.forEach((value, index) => {
    const first = seen.get(value);
    if (first === undefined) seen.set(value, index);
    else ctx.addIssue({ code: 'custom', path: [index], message: `${value} is listed twice (first as value ${first + 1}); list each value once` });
  });
}

export const variableNamePattern = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** One entry of role.yaml's `variables`. Without a default and not `optional`, the inventory must set it. */
export const variableDeclarationSchema = z
  .object({
    type: z.string(),
    description: z.string().optional(),
    default: z.unknown().optional(),
    optional: z.boolean().default(false),
  })
  .catchall(z.unknown())
  .transform((entry, ctx) => {
    const { description, default: defaultValue, optional, ...rest } = entry;
    if (!(VARIABLE_TYPES as readonly string[]).includes(rest.type)) {
      ctx.addIssue({ code: 'custom', path: ['type'], message: `unknown variable type ${rest.type} (known: ${VARIABLE_TYPES.join(', ')})` });
      return z.NEVER;
    }
    const parsed = variableTypeSchema.safeParse(rest, userInputParse);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        // Re-raised as custom issues, an unknown key would keep zod's own words (Unrecognized key: "min").
        if (issue.code === 'unrecognized_keys') {
          const known = ['type', 'description', 'default', 'optional', ...(TYPE_KEYS[rest.type] ?? [])];
          for (const key of issue.keys) ctx.addIssue({ code: 'custom', path: [...issue.path, key], message: `unknown key ${key} for a variable of type ${rest.type} (known: ${known.join(', ')})`, params: { atKey: true } });
        } else ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
      }
      return z.NEVER;
    }
    return { kind: parsed.data, description, default: defaultValue, optional };
  });

export type VariableDeclaration = z.output<typeof variableDeclarationSchema>;

function refuseSlowPattern(pattern: string, ctx: z.RefinementCtx): void {
  const match = linearPattern(pattern);
  if (typeof match === 'string') ctx.addIssue({ code: 'custom', message: match });
}

// Directories a web server must never be pointed at: serving them publishes secrets (/etc/shadow,
// /root, /home) or the system itself. A web root may not be one of them nor lie inside one,
// except below /var/www and /srv, which exist for this. /var/run and /var/lock are links into /run
// on every current distro: the same directories under another name.
const SYSTEM_DIRECTORIES = ['/etc', '/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/boot', '/dev', '/proc', '/sys', '/root', '/run', '/home', '/var/lib', '/var/log', '/var/spool', '/var/cache', '/var/backups', '/var/mail', '/tmp', '/var/tmp', '/opt', '/mnt', '/media', '/snap', '/lost+found', '/var/run', '/var/lock'];

/** `/etc//ssl/` -> `/etc/ssl`; the root stays `/`. */
const normalPath = (path: string): string => path.replace(/\/+/g, '/').replace(/\/$/, '') || '/';

function systemDirectoryOf(path: string): string | undefined {
  const normal = normalPath(path);
  if (normal === '/') return '/';
  return SYSTEM_DIRECTORIES.find((dir) => normal === dir || normal.startsWith(`${dir}/`));
}

// An invisible character (a zero-width space, a no-break space, a direction override) would make
// a folder that reads as another one: /var/www/x and /var/www/x<U+200B> look the same in ls.
const oneLinePath = absolutePath
  .superRefine(refuseControlCharacters)
  .refine((value) => !value.split('/').includes('.'), { message: 'must not contain . segments' })
  .superRefine((value, ctx) => {
    const found = INVISIBLE.exec(value)?.[0];
    if (found !== undefined) ctx.addIssue({ code: 'custom', message: `must not contain the invisible character ${describeCharacter(found)}` });
  });

// The folders that hold one folder per site: a web root there would publish every site. And the
// root Debian's (and RHEL's) web server packages install their default page into: lvsprov would
// take their index.html for its own, and remove it again when the role goes.
const SITES_FOLDERS = ['/var/www', '/srv'];
const DISTRIBUTION_WEB_ROOT = '/var/www/html';

const webRoot = oneLinePath.superRefine((value, ctx) => {
  const normal = normalPath(value);
  const system = systemDirectoryOf(value);
  // A folder above a system directory (/var holds /var/lib) would publish it just the same.
  const contained = SYSTEM_DIRECTORIES.find((dir) => dir.startsWith(`${normal}/`));
  const fix = 'a web server would publish it (use a folder such as /var/www/NAME or /srv/NAME)';
  if (system !== undefined) {
    ctx.addIssue({ code: 'custom', message: `must not be ${system === normal ? '' : 'inside '}the system directory ${system}: ${fix}` });
  } else if (contained !== undefined) {
    ctx.addIssue({ code: 'custom', message: `must not contain the system directory ${contained}: ${fix}` });
  } else if (SITES_FOLDERS.includes(normal)) {
    ctx.addIssue({ code: 'custom', message: `must not be ${normal}, the folder of every site: a web server would publish the other sites under it (busybox httpd serves their PHP source and settings as plain text); use a folder of its own such as ${normal}/lvsprov` });
  } else if (normal === DISTRIBUTION_WEB_ROOT) {
    ctx.addIssue({
      code: 'custom',
      message: `must not be ${normal}, the distribution's web servers' own root (apache2, nginx, lighttpd): the role would overwrite their index.html, which a prune or reset would then delete as lvsprov's; use a folder of its own such as /var/www/lvsprov`,
    });
  }
});

// PHP reads every .ini file of its scan folder (Debian's /etc/php/8.2/cgi/conf.d, RHEL's
// /etc/php.d, Alpine's /etc/php82/conf.d, /usr/local/etc/php/conf.d), and lvsprov writes one
// there: any other folder (/, /etc, /etc/ssh, /root/.ssh) would only get a stray file, or a
// folder made for it. So one of its folders names PHP, it is written as the one path it is (no
// `//` or trailing `/`), and it lies in none of the folders that are private, volatile or
// writable by every user, where the file would be read by no PHP or replaced by anyone, nor where
// web roots are (/var/www, /srv), where a web server would publish it.
const PRIVATE_DIRECTORIES = ['/root', '/home', '/proc', '/sys', '/dev', '/run', '/var/run', '/var/lock', '/tmp', '/var/tmp', '/boot', '/lost+found', '/media', '/mnt', '/var/log', '/var/spool', '/var/mail', '/var/cache', '/var/backups'];

const phpConfDir = oneLinePath.superRefine((value, ctx) => {
  const normal = normalPath(value);
  const inside = PRIVATE_DIRECTORIES.find((dir) => normal === dir || normal.startsWith(`${dir}/`));
  const published = ['/var/www', '/srv'].find((dir) => normal === dir || normal.startsWith(`${dir}/`));
  if (normal !== value) {
    ctx.addIssue({ code: 'custom', message: `must be written as ${normal} (no // or trailing /)` });
  } else if (!normal.split('/').some((folder) => /^php/i.test(folder))) {
    ctx.addIssue({ code: 'custom', message: 'must be a PHP configuration folder: one of its folders names PHP (such as /etc/php/8.2/cgi/conf.d, /etc/php.d, /etc/php82/conf.d)' });
  } else if (inside !== undefined) {
    ctx.addIssue({ code: 'custom', message: `must not be inside ${inside}: PHP's configuration belongs under /etc (such as /etc/php/8.2/cgi/conf.d)` });
  } else if (published !== undefined) {
    ctx.addIssue({ code: 'custom', message: `must not be inside ${published}, where web roots are: a web server would publish the settings (the session store's addresses)` });
  } else if (!/\.d$/.test(normal)) {
    // PHP reads php.ini where it was built to and scans one folder for more .ini files: Debian's
    // /etc/php/8.2/cgi/conf.d, RHEL's /etc/php.d, Alpine's /etc/php82/conf.d. /etc/php or
    // /etc/php/8.2/cgi would hold a file no PHP reads, and the sessions would stay on the disk.
    ctx.addIssue({
      code: 'custom',
      message: `must be the folder PHP scans for .ini files, a conf.d or php.d folder (such as /etc/php/8.2/cgi/conf.d or /etc/php.d): PHP reads no .ini file of ${normal}, so the session settings would be ignored`,
    });
  }
});

const hostNameValue = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'must be a host name (letters, digits, _ . -)');

/** One line of printable text: no control character (CR, LF, NUL, ...) and no Unicode line separator. */
const printableLine = z.string().superRefine(refuseControlCharacters);

// A role's declarations are loaded once; every host of a run checks its values against them, so
// each declaration's schema is built once (zod schemas are costly to build, cheap to reuse).
const schemas = new WeakMap<VariableType, z.ZodType>();

export function schemaOf(kind: VariableType): z.ZodType {
  let schema = schemas.get(kind);
  if (!schema) {
    schema = buildSchema(kind);
    schemas.set(kind, schema);
  }
  return schema;
}

function buildSchema(kind: VariableType): z.ZodType {
  switch (kind.type) {
    case 'interface':
      return networkInterfaceName;
    case 'vip-interface':
      return vipInterfaceName;
    case 'ipv4':
      return ipv4;
    case 'port':
    case 'listen-port':
      return z.number().int().min(1).max(65535);
    case 'boolean':
      return z.boolean();
    case 'path':
      return oneLinePath;
    case 'web-root':
      return webRoot;
    case 'php-conf-dir':
      return phpConfDir;
    case 'label':
      return addressLabel;
    case 'host-name':
      return hostNameValue;
    case 'integer':
      return z.number().int().min(kind.min).max(kind.max);
    case 'enum':
      return z.enum(kind.values as [string, ...string[]]);
    case 'string':
      return kind.pattern === undefined ? printableLine : printableLine.refine(wholeMatch(kind.pattern), { message: `must match ${shortened(kind.pattern)}` });
    case 'list':
      return z.array(schemaOf(kind.items));
    case 'object':
      // Read as a copy without a prototype: zod reads each field as value[name], and a field
      // named like an Object.prototype member (toString) would find the inherited function.
      return z.preprocess(
        (value) => (value !== null && typeof value === 'object' && !Array.isArray(value) ? Object.assign(Object.create(null) as object, value) : value),
        z.object(Object.fromEntries(Object.entries(kind.fields).map(([name, field]) => [name, kind.optional_fields?.includes(name) ? schemaOf(field).optional() : schemaOf(field)]))).strict(),
      );
  }
}

/** The whole value matches a declared pattern; the declaration was refused unless RE2 compiles it. */
function wholeMatch(pattern: string): (value: string) => boolean {
  const match = linearPattern(pattern);
  if (typeof match === 'string') throw new Error(`pattern ${pattern} was not checked: ${match}`);
  return match;
}

/** What a type accepts, in words: for messages and the README. */
export function describeType(kind: VariableType): string {
  switch (kind.type) {
    case 'interface':
      return 'a network interface name';
    case 'vip-interface':
      return 'a network interface name of at most 13 characters';
    case 'ipv4':
      return 'an IPv4 address';
    // A listen-port's other rule (not the host's SSH port) is its own check, with its own message.
    case 'port':
    case 'listen-port':
      return 'an integer 1-65535 (a port)';
    case 'boolean':
      return 'a boolean (true or false)';
    case 'path':
      return 'an absolute path';
    case 'web-root':
      return 'an absolute path outside the system directories';
    case 'php-conf-dir':
      return 'a PHP configuration folder (an absolute path)';
    case 'label':
      return 'an address label (eth0:1)';
    case 'host-name':
      return 'a host name';
    case 'integer':
      return `an integer ${kind.min}-${kind.max}`;
    case 'enum':
      return `one of ${kind.values.join(' | ')}`;
    case 'string':
      return kind.pattern === undefined ? 'one line of text' : `text matching ${shortened(kind.pattern)}`;
    case 'list':
      return `a list of ${withoutArticle(describeType(kind.items))}`;
    case 'object':
      return `an object {${Object.entries(kind.fields).map(([name, field]) => `${name}: ${withoutArticle(describeType(field))}`).join(', ')}}`;
  }
}

/** `an IPv4 address` -> `IPv4 address`, for tables and nested types. */
export function withoutArticle(text: string): string {
  return text.replace(/^(a|an) /, '');
}

/** A value as a message shows it: `the string "80"`, `the number 80`, `a list`. */
export function describeValue(value: unknown): string {
  // JSON escapes C0 controls; the other line breakers are shown as \uXXXX too, never raw.
  if (typeof value === 'string') return `the string ${JSON.stringify(value).replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}`;
  if (typeof value === 'number' || typeof value === 'boolean') return `the ${typeof value} ${String(value)}`;
  if (value === null) return 'null';
  return Array.isArray(value) ? 'a list' : typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
