import { z } from 'zod';
import { command, quote } from '../shell/quote.js';
import { ORIGINALS_DIR } from './sysctl-originals.js';
import { ensureDirectoryCommand, replaceViaTemp } from './file-state.js';
import { interfaceName, ipv4, ipv4Network } from '../config/values.js';
import { throwIfToolMissing, withTool } from './missing-tool.js';
import type { ProbeOutput, ResourceType } from './types.js';

// A route in the main table: the router's `VIP/32 dev eth1`, a NAT real server's
// `default via DIP`, a DR real server's optional `VIP/32 dev lo`. The facts are every route the
// kernel holds for exactly that destination; the one with the lowest metric is the one in use.


const destination = z
  // `ip route` refuses a network with host bits set ("Invalid prefix for given prefix length").
  .union([z.literal('default'), ipv4Network])
  .transform((value) => (value === '0.0.0.0/0' ? 'default' : value));

export const routeSchema = z
  .object({
    destination,
    device: interfaceName.optional(),
    via: ipv4.optional(),
    state: z.enum(['present', 'absent']).default('present'),
    /** Also restore the route at boot: see src/config/boot-tasks.ts. */
    at_boot: z.boolean().optional(),
  })
  .strict()
  .refine((spec) => spec.state === 'absent' || spec.device !== undefined || spec.via !== undefined, {
    message: 'a route needs a device, a gateway (via), or both',
    path: ['device'],
  });

export type RouteSpec = z.output<typeof routeSchema>;

export interface RouteEntry {
  /** unicast, unreachable, blackhole, prohibit, throw, ... */
  readonly type: string;
  readonly via: string | null;
  readonly device: string | null;
  readonly metric: number;
  /** An ECMP route lists its gateways on `nexthop` lines instead of a single via/dev. */
  readonly multipath: boolean;
}

export interface RouteFacts {
  readonly routes: readonly RouteEntry[];
  /**
   * The default route's gateway and device before lvsprov first replaced it (`via 192.0.2.1 dev
   * eth0`), as recorded on the host; absent when none is recorded.
   */
  readonly original?: string;
}

/**
 * Where the default route lvsprov's `replace` overwrote is kept, on the host itself: a NAT real
 * server's default goes via the director, and a host that leaves NAT (for DR, or the cluster)
 * needs its own back, else its replies keep going to the director, which drops them (their source
 * is the director's own VIP). Written once, by the first replace: later ones keep the original.
 */
export const DEFAULT_ROUTE_ORIGINAL = `${ORIGINALS_DIR}/route-default.original`;

/** Prints the recorded original as `O via X dev Y`, in shell builtins (it is read on every run). */
const readOriginal = `if [ -f ${quote(DEFAULT_ROUTE_ORIGINAL)} ]; then while IFS= read -r o || [ -n "$o" ]; do printf 'O %s\\n' "$o"; done < ${quote(DEFAULT_ROUTE_ORIGINAL)}; fi`;

const ROUTE_TYPES = new Set(['unicast', 'local', 'broadcast', 'multicast', 'throw', 'unreachable', 'prohibit', 'blackhole', 'nat', 'anycast']);

/** `198.51.100.50 via 192.0.2.1 dev eth0 proto static metric 100 onlink` */
function parseLine(line: string): RouteEntry {
  const words = line.trim().split(/\s+/);
  const type = words[0] !== undefined && ROUTE_TYPES.has(words[0]) ? words[0] : 'unicast';
  const after = (key: string): string | null => {
    const index = words.indexOf(key);
    if (index < 0) return null;
    const next = words[index + 1] === 'inet' ? words[index + 2] : words[index + 1];
    return next ?? null;
  };
  return { type, via: after('via'), device: after('dev'), metric: Number(after('metric') ?? 0), multipath: false };
}

function describe(entry: RouteEntry | undefined): string {
  if (entry === undefined) return '(absent)';
  if (entry.multipath) return `multipath${entry.metric ? ` metric ${entry.metric}` : ''}`;
  const words = entry.type === 'unicast' ? [] : [entry.type];
  if (entry.via !== null) words.push('via', entry.via);
  if (entry.device !== null) words.push('dev', entry.device);
  if (entry.metric !== 0) words.push('metric', String(entry.metric));
  return words.join(' ');
}

/** The route the kernel uses: the lowest metric, first listed on a tie. */
function inUse(routes: readonly RouteEntry[]): RouteEntry | undefined {
  return routes.reduce<RouteEntry | undefined>((best, entry) => (best === undefined || entry.metric < best.metric ? entry : best), undefined);
}

/** What `ip route replace` leaves; given only a gateway, the kernel picks the device. */
function wanted(spec: RouteSpec): RouteEntry {
  return { type: 'unicast', via: spec.via ?? null, device: spec.device ?? null, metric: 0, multipath: false };
}

function matches(spec: RouteSpec, entry: RouteEntry): boolean {
  return (spec.device === undefined || entry.device === spec.device) && (spec.via === undefined || entry.via === spec.via);
}

/** A wanted route has exactly the gateway asked for (none when none is given), and the device if one is given. */
function inSync(spec: RouteSpec, current: RouteEntry | undefined): boolean {
  return current !== undefined && current.type === 'unicast' && !current.multipath && current.via === (spec.via ?? null) && matches(spec, current);
}

export const route: ResourceType<RouteSpec, RouteFacts> = {
  name: 'route',
  schema: routeSchema,

  key: (spec) => `route ${spec.destination}`,

  probe: (spec) => withTool('ip', [command('ip', '-4', 'route', 'show', 'exact', spec.destination), ...(spec.destination === 'default' ? [readOriginal] : [])].join('\n')),

  parse(output: ProbeOutput, spec): RouteFacts {
    throwIfToolMissing(output, 'ip');
    if (output.status !== 0) throw new Error(`reading routes to ${spec.destination} failed with status ${output.status}`);
    const routes: RouteEntry[] = [];
    let original: string | undefined;
    for (const line of output.stdout.split('\n')) {
      if (line.trim() === '') continue;
      if (line.startsWith('O ')) {
        original ??= line.slice(2).trim();
        continue;
      }
      const last = routes[routes.length - 1];
      if (/^\s/.test(line) && last !== undefined) {
        routes[routes.length - 1] = { ...last, multipath: true, via: null, device: null };
      } else {
        routes.push(parseLine(line));
      }
    }
    return original !== undefined && originalWords(original) !== undefined ? { routes, original } : { routes };
  },

  plan(spec, facts) {
    const resource = `route ${spec.destination}`;
    if (spec.state === 'absent') {
      const doomed = facts.routes.filter((entry) => matches(spec, entry));
      if (doomed.length === 0) return [];
      const before = doomed.map(describe).join(', ');
      return [
        {
          resource,
          summary: `${resource}: ${before} -> (absent)`,
          diff: { kind: 'value', before, after: '(absent)' },
          // Each route is named by all it has, so a sibling with another metric or gateway stays.
          commands: doomed.map((entry) => {
            const words = ['ip', 'route', 'del', ...(entry.type === 'unicast' ? [] : [entry.type]), spec.destination];
            if (entry.via !== null) words.push('via', entry.via);
            if (entry.device !== null) words.push('dev', entry.device);
            if (entry.metric !== 0) words.push('metric', String(entry.metric));
            return command(...words);
          }),
        },
      ];
    }

    const current = inUse(facts.routes);
    if (inSync(spec, current)) return [];
    const words = ['ip', 'route', 'replace', spec.destination];
    if (spec.via !== undefined) words.push('via', spec.via);
    if (spec.device !== undefined) words.push('dev', spec.device);
    const before = describe(current);
    const after = describe(wanted(spec));
    const keep = toKeep(spec, facts);
    // A default lvsprov set before (its original is recorded) through one gateway, now through another (see Change.movesGateway).
    const moves = spec.destination === 'default' && facts.original !== undefined && current?.via != null && spec.via !== undefined && current.via !== spec.via;
    return [
      {
        resource,
        summary: `${resource}: ${before} -> ${after}`,
        diff: { kind: 'value', before, after },
        commands: [...(keep ? recordOriginalCommands(keep) : []), command(...words)],
        ...(moves ? { movesGateway: true as const } : {}),
      },
    ];
  },

  after(spec, facts) {
    if (spec.state === 'absent') return { ...facts, routes: facts.routes.filter((entry) => !matches(spec, entry)) };
    if (inSync(spec, inUse(facts.routes))) return facts;
    const keep = toKeep(spec, facts);
    // `replace` rewrites the metric-0 route (or adds one); routes with other metrics remain.
    return { routes: [wanted(spec), ...facts.routes.filter((entry) => entry.metric !== 0)], ...(facts.original !== undefined ? { original: facts.original } : keep ? { original: keep } : {}) };
  },

  // One route per destination: another device or gateway is an edit in place (`replace`), not a
  // new object. The default route is recorded too: its removal puts back what it replaced.
  owns: (spec) => (spec.state === 'present' ? [{ id: `route ${spec.destination}`, spec }] : []),

  // A route a task added goes: every route to its destination through its device and gateway.
  // A default route goes back to the one it replaced where that is recorded; otherwise it stays
  // (`replace` overwrote a default nothing recorded, and a host left without one can lose the SSH
  // session the reset runs in).
  reset: {
    plan: (spec, facts, context) => {
      if (spec.state !== 'present') return [];
      if (spec.destination !== 'default') return route.plan({ ...spec, state: 'absent' }, facts, context);
      const restore = facts.original !== undefined ? originalWords(facts.original) : undefined;
      if (restore !== undefined) {
        const mine = facts.routes.some((entry) => entry.metric === 0 && matches(spec, entry));
        if (!mine) return [{ resource: 'route default', summary: `forget the default route lvsprov replaced (${facts.original})`, commands: [command('rm', '-f', '--', DEFAULT_ROUTE_ORIGINAL)] }];
        const before = describe(inUse(facts.routes));
        return [
          {
            resource: 'route default',
            summary: `route default: ${before} -> ${facts.original} (the default it replaced)`,
            diff: { kind: 'value', before, after: facts.original ?? '' },
            commands: [command('ip', 'route', 'replace', 'default', ...restore), command('rm', '-f', '--', DEFAULT_ROUTE_ORIGINAL)],
          },
        ];
      }
      return [];
    },
    after: (spec, facts) => {
      if (spec.state !== 'present') return facts;
      if (spec.destination !== 'default') return route.after({ ...spec, state: 'absent' }, facts);
      const restore = facts.original !== undefined ? originalWords(facts.original) : undefined;
      if (restore !== undefined) {
        const mine = facts.routes.some((entry) => entry.metric === 0 && matches(spec, entry));
        const routes = mine ? [parseLine(['default', ...restore].join(' ')), ...facts.routes.filter((entry) => entry.metric !== 0)] : facts.routes;
        return { routes };
      }
      return facts;
    },
  },
};

/**
 * The default route to record before a replace overwrites it: the metric-0 route in use (the one
 * `replace` rewrites), a plain unicast one, when none is recorded yet. A route with another metric
 * is not touched by the replace and needs no record.
 */
function toKeep(spec: RouteSpec, facts: RouteFacts): string | undefined {
  if (spec.destination !== 'default' || facts.original !== undefined) return undefined;
  const current = inUse(facts.routes);
  if (current === undefined || current.metric !== 0 || current.type !== 'unicast' || current.multipath) return undefined;
  const text = describe(current);
  return originalWords(text) !== undefined ? text : undefined;
}

/** `via X dev Y` as `ip route replace default` words, when it is nothing else (a recorded line is checked again). */
function originalWords(text: string): string[] | undefined {
  const words = text.split(' ');
  const pairs: string[][] = [];
  for (let i = 0; i < words.length; i += 2) pairs.push(words.slice(i, i + 2));
  const valid = pairs.length > 0 && pairs.every(([key, value]) => (key === 'via' && value !== undefined && ipv4.safeParse(value).success) || (key === 'dev' && value !== undefined && interfaceName.safeParse(value).success));
  return valid ? words : undefined;
}

/** Record `original` unless a record exists: the first record is the original. */
function recordOriginalCommands(original: string): string[] {
  const file = quote(DEFAULT_ROUTE_ORIGINAL);
  const tmp = quote(`${DEFAULT_ROUTE_ORIGINAL}.lvsprov-tmp`);
  return [ensureDirectoryCommand(ORIGINALS_DIR), `[ -e ${file} ] || ${replaceViaTemp(tmp, file, [`printf '%s\\n' ${quote(original)} > ${tmp}`])}`];
}
