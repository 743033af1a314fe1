import { z } from 'zod';
import { ipv4, writtenFilePath } from '../config/values.js';
import type { Change, HostContext, MarkedAddress, ResourceType } from './types.js';
import { nftTableScript, nftTableType, type NftTable, type NftTableFacts, type WantedTable } from './nft-table.js';

// Firewall marks for IPVS firewall-mark services (ipvsadm -f): packets to a VIP, optionally only to
// some TCP ports, get a mark in prerouting before IPVS sees them, so several ports share one
// service and one persistence entry. lvsprov owns one nftables table whole and replaces it in one
// `nft -f` transaction; the same script is kept in a file for boot (the director role's
// `lvsprov-fwmark` at_boot hook feeds it to `nft -f -`).

const markRuleSchema = z
  .object({
    address: ipv4,
    /** TCP ports; none marks every packet to the address. */
    ports: z.array(z.number().int().min(1).max(65535)).default([]),
    mark: z.number().int().min(1).max(4_294_967_295),
  })
  .strict();

export const fwmarkSchema = z
  .object({
    marks: z.array(markRuleSchema).min(1),
    table: z.string().regex(/^[a-z][a-z0-9_]{0,31}$/, 'must be an nftables table name (a-z 0-9 _)').default('lvsprov_fwmark'),
    save_file: writtenFilePath.default('/etc/lvsprov/fwmark.nft'),
  })
  .strict();

export type FwmarkSpec = z.output<typeof fwmarkSchema>;
type MarkRule = FwmarkSpec['marks'][number];

export type FwmarkFacts = NftTableFacts;

const CHAIN_HEADER = 'type filter hook prerouting priority mangle; policy accept;';

/** One rule as `nft list` prints it (ports sorted, mark in hex), so spec and kernel compare as text. */
export function ruleText(rule: MarkRule): string {
  const ports = [...new Set(rule.ports)].sort((a, b) => a - b);
  const match = ports.length === 0 ? '' : ports.length === 1 ? ` tcp dport ${ports[0]}` : ` tcp dport { ${ports.join(', ')} }`;
  return `ip daddr ${rule.address}${match} meta mark set 0x${rule.mark.toString(16).padStart(8, '0')}`;
}

const tableOf = (spec: FwmarkSpec): NftTable => ({ family: 'ip', name: spec.table, saveFile: spec.save_file, type: 'fwmark' });

/** The script that replaces the table. */
export function fwmarkScript(spec: FwmarkSpec): string {
  return nftTableScript(tableOf(spec), 'firewall marks for IPVS fwmark services.', 'prerouting', CHAIN_HEADER, desired(spec));
}

function desired(spec: FwmarkSpec): string[] {
  return spec.marks.map(ruleText);
}

/** `nft list table` output: the one chain lvsprov writes, or undefined for anything else. */
function parseTable(lines: readonly string[]): string[] | undefined {
  const body = lines.map((line) => line.trim()).filter((line) => line !== '');
  const chains = body.filter((line) => line.startsWith('chain '));
  if (chains.length !== 1 || chains[0] !== 'chain prerouting {' || !body.includes(CHAIN_HEADER)) return undefined;
  return body.filter((line) => line.startsWith('ip daddr '));
}

const wantedOf = (spec: FwmarkSpec): WantedTable => {
  const rules = desired(spec);
  return { script: fwmarkScript(spec), rules, describe: (current: readonly string[]) => current.join('; ') || '(empty)', summaryOfWanted: `${rules.length} mark rule${rules.length === 1 ? '' : 's'}` };
};

const table = nftTableType('fwmark', fwmarkSchema, tableOf, parseTable, wantedOf);

/**
 * The marks decide which IPVS service a new connection meets (the kernel looks a marked packet's
 * fwmark service up first, and falls back to the address-and-port service only when there is no
 * such fwmark service), so they change with the IPVS edits, in balance, never apart from them. Left
 * to prepare, a VIP's marks dropped for port services added only in balance sent its new
 * connections to no service at all (the director's own closed port) until then; pruned in retire,
 * a fwmark service replaced by port services kept catching every new connection while quiesced,
 * and refused them all, for the whole drain. Within balance they change once the services that
 * are to take the connections are there, and before those that lose them are quiesced (`steers`).
 */
const inBalance = (changes: readonly Change[], marks: readonly MarkedAddress[]): Change[] =>
  changes.map((change) => ({ ...change, phase: 'balance', steers: true, ...(marks.length > 0 ? { marks } : {}) }));

/** The addresses each mark of the spec covers. */
export function specMarks(spec: FwmarkSpec): MarkedAddress[] {
  return spec.marks.map(({ mark, address }) => ({ mark, address }));
}

/** The addresses each mark of the table as read covers (rules as ruleText prints them). */
function tableMarks(facts: NftTableFacts): MarkedAddress[] {
  return (facts.rules ?? []).flatMap((rule) => {
    const match = /^ip daddr (\S+) .*meta mark set 0x([0-9a-f]+)$/.exec(rule);
    return match?.[1] !== undefined && match[2] !== undefined ? [{ mark: parseInt(match[2], 16), address: match[1] }] : [];
  });
}

/**
 * The marks whose rules come to cover an address they did not cover: each such mark sends that
 * address's new connections to every server of its service, so it asks each DR and TUN one of
 * them to hold that VIP (which each real server's prepare adds).
 */
export function gainingMarks(spec: FwmarkSpec, facts: NftTableFacts): Set<number> {
  const marked = new Set(tableMarks(facts).map(markKey));
  return new Set(specMarks(spec).filter((entry) => !marked.has(markKey(entry))).map((entry) => entry.mark));
}

/** One mark on one address, as a key to compare sets of them. */
export const markKey = (entry: MarkedAddress): string => `${entry.mark} ${entry.address}`;

/**
 * The real servers the marks' change asks to serve a new address (HostContext.markServers: the
 * declared DR and TUN servers of each mark's service at a weight above 0). Named on the change
 * that loads the marks, where the traffic turns: where one of them failed to prepare, the engine
 * plans the director again with it withheld, and the service's planner sends it no new
 * connection (ipvs/plan.ts, keepalived/withheld.ts).
 */
function askedToServe(spec: FwmarkSpec, facts: NftTableFacts, context: HostContext | undefined): string[] {
  const servers = context?.markServers;
  if (!servers) return [];
  return [...new Set([...gainingMarks(spec, facts)].flatMap((mark) => servers.get(mark) ?? []))];
}

// The table and its boot file are all it owns: reset deletes both and touches nothing else in nftables.
export const fwmark: ResourceType<FwmarkSpec, NftTableFacts> = {
  ...table,
  plan: (spec, facts, context) => {
    const changes = inBalance(table.plan(spec, facts, context), [...tableMarks(facts), ...specMarks(spec)]);
    const joining = askedToServe(spec, facts, context);
    return joining.length > 0 ? changes.map((change) => (change.resource === `fwmark ${spec.table}` ? { ...change, joiningAddresses: joining } : change)) : changes;
  },
  reset: {
    plan: (spec, facts, context) => inBalance(table.reset?.plan(spec, facts, context) ?? [], tableMarks(facts)),
    after: (spec, facts) => table.reset?.after(spec, facts) ?? facts,
  },
};
