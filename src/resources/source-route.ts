import { z } from 'zod';
import { command, quote } from '../shell/quote.js';
import { ipv4 } from '../config/values.js';
import { throwIfToolMissing, withTool } from './missing-tool.js';
import type { Change, ProbeOutput, ResourceType } from './types.js';

// A default route for the packets of one source address only: a NAT real server's replies leave
// from its RIP and must pass the director, its DR or TUN replies leave from the VIP and must not
// (a director holding the VIP drops them as martians). Two policy rules and one table:
//   pref P    from RIP lookup main suppress_prefixlength 0   (the LAN and every specific route, as before)
//   pref P+1  from RIP lookup T                              (T: default via DIP)
// so the RIP's packets go through the director where they would take a default route, and the
// VIP's keep the main table's default. Both methods' replies find their way at once, whatever the
// main default is, which is what lets a live service switch between NAT and DR lose no reply.

const table = z.number().int().min(1).max(252);

export const sourceRouteSchema = z
  .object({
    source: ipv4,
    via: ipv4,
    /** The routing table holding the default via `via` (1-252: 253-255 are the kernel's own). */
    table,
    /** The suppress rule's preference; the lookup rule takes the next one. */
    priority: z.number().int().min(1).max(32000),
    state: z.enum(['present', 'absent']).default('present'),
    /** Also restore the rules and the table's default at boot: see src/config/boot-tasks.ts. */
    at_boot: z.boolean().optional(),
  })
  .strict();

export type SourceRouteSpec = z.output<typeof sourceRouteSchema>;

export interface SourceRouteFacts {
  /**
   * This source's rules, as `PREF: RULE` (`ip -N -4 rule show`, words single-spaced): those at the
   * spec's two preferences, and any other pair of this source shaped as a source route (left by
   * an earlier priority or table), which goes.
   */
  readonly rules: readonly string[];
  /** The table's default route (`via X dev Y`, ` nexthop` appended for a multipath one), or null. */
  readonly gateway: string | null;
  /** The table's other routes: never lvsprov's, so the table is someone else's. */
  readonly otherRoutes: readonly string[];
  /** Other sources' source routes through the same table (their lookup rules): the default is shared. */
  readonly sharers: readonly string[];
  /** Rules that look the table up and are no source route's: the table is someone else's. */
  readonly foreign: readonly string[];
}

const MAIN = 254;
const suppressRule = (spec: SourceRouteSpec): string => `${spec.priority}: from ${spec.source} lookup ${MAIN} suppress_prefixlength 0`;
const lookupRule = (spec: SourceRouteSpec): string => `${spec.priority + 1}: from ${spec.source} lookup ${spec.table}`;
const ruleWords = (rule: string): string[] => {
  const [pref, ...rest] = rule.split(' ');
  return ['pref', (pref ?? '').replace(':', ''), ...rest];
};

/** `PREF: from SOURCE lookup TABLE`, the lookup rule of a source route, split; undefined for any other rule. */
function lookupOf(rule: string): { pref: number; source: string; table: number } | undefined {
  const match = /^(\d+): from (\S+) lookup (\d+)$/.exec(rule);
  return match ? { pref: Number(match[1]), source: match[2] as string, table: Number(match[3]) } : undefined;
}

/** The table a rule looks up, by number (`ip -N`). */
function tableOf(rule: string): number | undefined {
  const match = / lookup (\d+)( |$)/.exec(rule);
  return match ? Number(match[1]) : undefined;
}

/** Whether the rules hold a source route's lookup rule: its suppress rule sits right before it. */
function isSourceRoute(rule: string, all: readonly string[]): boolean {
  const lookup = lookupOf(rule);
  return lookup !== undefined && all.includes(`${lookup.pref - 1}: from ${lookup.source} lookup ${MAIN} suppress_prefixlength 0`);
}

/** A source route's suppress rule, whose lookup rule sits right after it. */
function isSuppressOfSourceRoute(rule: string, all: readonly string[]): boolean {
  const match = /^(\d+): from (\S+) lookup 254 suppress_prefixlength 0$/.exec(rule);
  return match !== null && all.some((other) => {
    const lookup = lookupOf(other);
    return lookup !== undefined && lookup.pref === Number(match[1]) + 1 && lookup.source === match[2];
  });
}

function describe(facts: SourceRouteFacts): string {
  return facts.rules.length === 0 && facts.gateway === null ? '(absent)' : [...facts.rules, `table: default ${facts.gateway ?? '(none)'}`].join('; ');
}

function wanted(spec: SourceRouteSpec): Pick<SourceRouteFacts, 'rules' | 'gateway'> {
  return { rules: [suppressRule(spec), lookupRule(spec)], gateway: `via ${spec.via}` };
}

/** The table's gateway matches when it goes via the spec's gateway (the kernel adds the device). */
const gatewayOk = (spec: SourceRouteSpec, gateway: string | null): boolean => gateway !== null && gateway.split(' ')[1] === spec.via && !gateway.includes(' nexthop');

/**
 * Removes a table's default unless a rule still looks the table up when the line runs: another
 * source's route may share the table, and may have been added by this very run, after the read.
 * Deletes, never `ip rule flush`: before iproute2 4.20 a flush ignored its selectors and removed
 * every rule but the kernel's own.
 */
export function dropTableDefault(tableNumber: number, ifPresent: boolean): string {
  const users = `${command('ip', '-N', '-4', 'rule', 'show')} | grep -Eq ${quote(`[[:space:]]lookup ${tableNumber}([[:space:]]|$)`)}`;
  const drop = command('ip', 'route', 'del', 'default', 'table', String(tableNumber));
  return `${users} || ${ifPresent ? `${drop} 2>/dev/null || :` : drop}`;
}

/** The tables other than the spec's that the rules going away looked up: their defaults were ours. */
function leftTables(spec: SourceRouteSpec, gone: readonly string[]): number[] {
  return [...new Set(gone.flatMap((rule) => (lookupOf(rule) !== undefined ? [tableOf(rule) as number] : [])))].filter((number) => number !== spec.table);
}

function removal(spec: SourceRouteSpec, facts: SourceRouteFacts): Change[] {
  if (facts.rules.length === 0 && facts.gateway === null) return [];
  const resource = `source_route ${spec.source}`;
  // Another rule still looks the table up: its default is theirs too, and stays.
  const shared = facts.sharers.length > 0 || facts.foreign.length > 0;
  const ownDefault = facts.gateway !== null && !shared && gatewayOk(spec, facts.gateway);
  const after = shared && facts.gateway !== null ? `table: default ${facts.gateway} (kept: ${[...facts.sharers, ...facts.foreign].join(', ')} look it up)` : '(absent)';
  if (facts.rules.length === 0 && !ownDefault) return [];
  // The rules first: a rule left pointing at an emptied table would fall through anyway, but
  // the order keeps the RIP's packets on one whole path at every moment.
  return [
    {
      resource,
      summary: `${resource}: ${describe(facts)} -> ${after}`,
      diff: { kind: 'value', before: describe(facts), after },
      commands: [
        ...facts.rules.map((rule) => command('ip', 'rule', 'del', ...ruleWords(rule))),
        ...(ownDefault ? [dropTableDefault(spec.table, false)] : []),
        ...leftTables(spec, facts.rules).map((number) => dropTableDefault(number, true)),
      ],
    },
  ];
}

/**
 * The table must be this source route's, or shared with other source routes through the same
 * gateway: a table another rule uses, or one that holds other routes, is someone else's, and
 * taking it over would reroute their packets. Refused, naming what is there.
 */
function checkTable(spec: SourceRouteSpec, facts: SourceRouteFacts): void {
  const choose = `choose a table of its own (the realserver-nat role's nat_reply_table)`;
  if (facts.foreign.length > 0) {
    throw new Error(`table ${spec.table} is looked up by ${facts.foreign.map((rule) => `rule "${rule}"`).join(', ')}, which lvsprov did not make; it will not take the table over: ${choose}`);
  }
  if (facts.otherRoutes.length > 0) {
    throw new Error(`table ${spec.table} holds routes lvsprov did not make (${facts.otherRoutes.join('; ')}); it will not take the table over: ${choose}`);
  }
  if (facts.gateway === null || gatewayOk(spec, facts.gateway)) return;
  // Already this source's table: the director moved, and the other sources of the host's role
  // move with it in the same run.
  const ownLookup = facts.rules.some((rule) => lookupOf(rule)?.table === spec.table);
  if (ownLookup) return;
  if (facts.sharers.length > 0) {
    throw new Error(
      `table ${spec.table}'s default goes ${facts.gateway} for ${facts.sharers.map((rule) => `"${rule}"`).join(', ')}; ${spec.source}'s replies want ${spec.via}, and a table has one default: ${choose}`,
    );
  }
  throw new Error(`table ${spec.table} already holds a default route (${facts.gateway}) that no rule of ${spec.source} looks up; it will not take the table over: ${choose}`);
}

export const sourceRoute: ResourceType<SourceRouteSpec, SourceRouteFacts> = {
  name: 'source_route',
  schema: sourceRouteSchema,

  key: (spec) => `source_route ${spec.source}`,

  // -N: tables by number, whatever names /etc/iproute2/rt_tables gives them. The whole table: a
  // route other than the default says it is someone else's.
  probe: (spec) => withTool('ip', [`${command('ip', '-N', '-4', 'rule', 'show')} | while IFS= read -r l; do printf 'R %s\\n' "$l"; done`, `${command('ip', '-4', 'route', 'show', 'table', String(spec.table))} | while IFS= read -r l; do printf 'T %s\\n' "$l"; done`].join('\n')),

  parse(output: ProbeOutput, spec): SourceRouteFacts {
    throwIfToolMissing(output, 'ip');
    if (output.status !== 0) throw new Error(`reading the rules of ${spec.source} failed with status ${output.status}`);
    const all: string[] = [];
    let gateway: string | null = null;
    const otherRoutes: string[] = [];
    for (const line of output.stdout.split('\n')) {
      if (line.startsWith('R ')) {
        // `1000:\tfrom 192.0.2.11 lookup 254 suppress_prefixlength 0`
        all.push(line.slice(2).trim().split(/\s+/).join(' '));
      } else if (line.startsWith('T default ')) {
        gateway = line.slice('T default '.length).trim().split(/\s+/).filter((word, index, words) => ['via', 'dev'].includes(word) || ['via', 'dev'].includes(words[index - 1] ?? '')).join(' ');
      } else if (/^T\s+nexthop /.test(line) && gateway !== null) {
        if (!gateway.endsWith(' nexthop')) gateway = `${gateway} nexthop`;
      } else if (line.startsWith('T ') && line.slice(2).trim() !== '') {
        otherRoutes.push(line.slice(2).trim().split(/\s+/).join(' '));
      }
    }
    const atOurs = (rule: string): boolean => {
      const pref = Number(rule.split(':')[0]);
      return (pref === spec.priority || pref === spec.priority + 1) && rule.split(' ')[2] === spec.source;
    };
    const stale = (rule: string): boolean => rule.split(' ')[2] === spec.source && (isSourceRoute(rule, all) || isSuppressOfSourceRoute(rule, all));
    const rules = all.filter((rule) => atOurs(rule) || stale(rule));
    const users = all.filter((rule) => !rules.includes(rule) && tableOf(rule) === spec.table);
    return {
      rules,
      gateway,
      otherRoutes,
      sharers: users.filter((rule) => isSourceRoute(rule, all)),
      foreign: users.filter((rule) => !isSourceRoute(rule, all)),
    };
  },

  plan(spec, facts) {
    if (spec.state === 'absent') return removal(spec, facts);
    checkTable(spec, facts);
    const want = wanted(spec);
    const extra = facts.rules.filter((rule) => !want.rules.includes(rule));
    const missing = want.rules.filter((rule) => !facts.rules.includes(rule));
    const routeOk = gatewayOk(spec, facts.gateway);
    if (extra.length === 0 && missing.length === 0 && routeOk) return [];
    const resource = `source_route ${spec.source}`;
    // The table's route before the rule that leads to it; the suppress rule before both. A table
    // the rules going away looked up loses its default once nothing looks it up.
    const commands = [
      ...extra.map((rule) => command('ip', 'rule', 'del', ...ruleWords(rule))),
      ...leftTables(spec, extra).map((number) => dropTableDefault(number, true)),
      ...(routeOk ? [] : [command('ip', 'route', 'replace', 'default', 'via', spec.via, 'table', String(spec.table))]),
      ...missing.map((rule) => command('ip', 'rule', 'add', ...ruleWords(rule.replace(` lookup ${MAIN} `, ' lookup main ')))),
    ];
    const before = describe(facts);
    const after = describe({ ...facts, ...want });
    // The source's replies already go through a director's gateway, which changes (see Change.movesGateway).
    const moves = !routeOk && facts.gateway !== null && extra.length === 0 && missing.length === 0;
    return [{ resource, summary: `${resource}: ${before} -> ${after}`, diff: { kind: 'value', before, after }, commands, ...(moves ? { movesGateway: true as const } : {}) }];
  },

  after(spec, facts) {
    if (spec.state === 'absent') return removed(spec, facts);
    const routeOk = gatewayOk(spec, facts.gateway);
    return { ...facts, rules: wanted(spec).rules, gateway: routeOk ? facts.gateway : `via ${spec.via}` };
  },

  owns: (spec) => (spec.state === 'present' ? [{ id: `source_route ${spec.source}`, spec }] : []),

  reset: {
    plan: (spec, facts) => (spec.state === 'present' ? removal(spec, facts) : []),
    after: (spec, facts) => (spec.state === 'present' ? removed(spec, facts) : facts),
  },
};

/** What a removal leaves: no rule of this source, and the table's default where another rule still looks it up. */
function removed(spec: SourceRouteSpec, facts: SourceRouteFacts): SourceRouteFacts {
  const shared = facts.sharers.length > 0 || facts.foreign.length > 0;
  return { ...facts, rules: [], gateway: shared || !gatewayOk(spec, facts.gateway) ? facts.gateway : null };
}
