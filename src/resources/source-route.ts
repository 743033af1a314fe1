import { z } from 'zod';
import { command } from '../shell/quote.js';
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
  })
  .strict();

export type SourceRouteSpec = z.output<typeof sourceRouteSchema>;

export interface SourceRouteFacts {
  /** `ip -N -4 rule show` lines of this source at the spec's two preferences, as `PREF: RULE`. */
  readonly rules: readonly string[];
  /** The table's default route (`via X dev Y`), or null. */
  readonly gateway: string | null;
}

const MAIN = 254;
const suppressRule = (spec: SourceRouteSpec): string => `${spec.priority}: from ${spec.source} lookup ${MAIN} suppress_prefixlength 0`;
const lookupRule = (spec: SourceRouteSpec): string => `${spec.priority + 1}: from ${spec.source} lookup ${spec.table}`;
const ruleWords = (rule: string): string[] => {
  const [pref, ...rest] = rule.split(' ');
  return ['pref', (pref ?? '').replace(':', ''), ...rest];
};

function describe(facts: SourceRouteFacts): string {
  return facts.rules.length === 0 && facts.gateway === null ? '(absent)' : [...facts.rules, `table: default ${facts.gateway ?? '(none)'}`].join('; ');
}

function wanted(spec: SourceRouteSpec): SourceRouteFacts {
  return { rules: [suppressRule(spec), lookupRule(spec)], gateway: `via ${spec.via}` };
}

/** The table's gateway matches when it goes via the spec's gateway (the kernel adds the device). */
const gatewayOk = (spec: SourceRouteSpec, gateway: string | null): boolean => gateway !== null && gateway.split(' ')[1] === spec.via && !gateway.includes(' nexthop');

function removal(spec: SourceRouteSpec, facts: SourceRouteFacts): Change[] {
  if (facts.rules.length === 0 && facts.gateway === null) return [];
  const resource = `source_route ${spec.source}`;
  // The rules first: a rule left pointing at an emptied table would fall through anyway, but
  // the order keeps the RIP's packets on one whole path at every moment.
  return [
    {
      resource,
      summary: `${resource}: ${describe(facts)} -> (absent)`,
      diff: { kind: 'value', before: describe(facts), after: '(absent)' },
      commands: [...facts.rules.map((rule) => command('ip', 'rule', 'del', ...ruleWords(rule))), ...(facts.gateway !== null ? [command('ip', 'route', 'del', 'default', 'table', String(spec.table))] : [])],
    },
  ];
}

export const sourceRoute: ResourceType<SourceRouteSpec, SourceRouteFacts> = {
  name: 'source_route',
  schema: sourceRouteSchema,

  key: (spec) => `source_route ${spec.source}`,

  // -N: tables by number, whatever names /etc/iproute2/rt_tables gives them.
  probe: (spec) => withTool('ip', [`${command('ip', '-N', '-4', 'rule', 'show')} | while IFS= read -r l; do printf 'R %s\\n' "$l"; done`, `${command('ip', '-4', 'route', 'show', 'table', String(spec.table), 'exact', 'default')} | while IFS= read -r l; do printf 'T %s\\n' "$l"; done`].join('\n')),

  parse(output: ProbeOutput, spec): SourceRouteFacts {
    throwIfToolMissing(output, 'ip');
    if (output.status !== 0) throw new Error(`reading the rules of ${spec.source} failed with status ${output.status}`);
    const rules: string[] = [];
    let gateway: string | null = null;
    for (const line of output.stdout.split('\n')) {
      if (line.startsWith('R ')) {
        // `1000:\tfrom 192.0.2.11 lookup 254 suppress_prefixlength 0`
        const rule = line.slice(2).trim().split(/\s+/).join(' ');
        const pref = Number(rule.split(':')[0]);
        if ((pref === spec.priority || pref === spec.priority + 1) && rule.split(' ')[2] === spec.source) rules.push(rule);
      } else if (line.startsWith('T default ')) {
        gateway = line.slice('T default '.length).trim().split(/\s+/).filter((word, index, words) => ['via', 'dev'].includes(word) || ['via', 'dev'].includes(words[index - 1] ?? '')).join(' ');
      }
    }
    return { rules, gateway };
  },

  plan(spec, facts) {
    if (spec.state === 'absent') return removal(spec, facts);
    const want = wanted(spec);
    const extra = facts.rules.filter((rule) => !want.rules.includes(rule));
    const missing = want.rules.filter((rule) => !facts.rules.includes(rule));
    const routeOk = gatewayOk(spec, facts.gateway);
    if (extra.length === 0 && missing.length === 0 && routeOk) return [];
    const resource = `source_route ${spec.source}`;
    // The table's route before the rule that leads to it; the suppress rule before both.
    const commands = [
      ...extra.map((rule) => command('ip', 'rule', 'del', ...ruleWords(rule))),
      ...(routeOk ? [] : [command('ip', 'route', 'replace', 'default', 'via', spec.via, 'table', String(spec.table))]),
      ...missing.map((rule) => command('ip', 'rule', 'add', ...ruleWords(rule.replace(` lookup ${MAIN} `, ' lookup main ')))),
    ];
    const after = describe(want);
    return [{ resource, summary: `${resource}: ${describe(facts)} -> ${after}`, diff: { kind: 'value', before: describe(facts), after }, commands }];
  },

  after(spec, facts) {
    if (spec.state === 'absent') return { rules: [], gateway: null };
    const routeOk = gatewayOk(spec, facts.gateway);
    return { rules: wanted(spec).rules, gateway: routeOk ? facts.gateway : `via ${spec.via}` };
  },

  owns: (spec) => (spec.state === 'present' ? [{ id: `source_route ${spec.source}`, spec }] : []),

  reset: {
    plan: (spec, facts) => (spec.state === 'present' ? removal(spec, facts) : []),
    after: (spec, facts) => (spec.state === 'present' ? { rules: [], gateway: null } : facts),
  },
};
