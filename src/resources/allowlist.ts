import { z } from 'zod';
import { ipv4, writtenFilePath } from '../config/values.js';
import { isIpv4, sortedIpv4 } from '../net/ipv4.js';
import type { ResourceType } from './types.js';
import { nftTableScript, nftTableType, type NftTable, type NftTableFacts, type WantedTable } from './nft-table.js';

// A TCP port only listed source addresses may reach: memcached has no authentication, so a
// session-store host accepts its port from the cluster's real servers alone. lvsprov owns one
// nftables table whole and replaces it in one `nft -f` transaction; the same script is kept in a
// file so a boot hook can load it again.

export const allowlistSchema = z
  .object({
    port: z.number().int().min(1).max(65535),
    /** The addresses that may connect; duplicates are harmless. */
    sources: z.array(ipv4).min(1),
    table: z.string().regex(/^[a-z][a-z0-9_]{0,31}$/, 'must be an nftables table name (a-z 0-9 _)').default('lvsprov_allow'),
    save_file: writtenFilePath.default('/etc/lvsprov/allow.nft'),
  })
  .strict();

export type AllowlistSpec = z.output<typeof allowlistSchema>;

export type AllowlistFacts = NftTableFacts;

const CHAIN_HEADER = 'type filter hook input priority filter; policy accept;';

/**
 * The rules as `nft list` prints them, so spec and kernel compare as text: one address is printed
 * bare, several as a set. IPv6 to the port is dropped whatever its source, so nothing the IPv4
 * list leaves out gets through by v6.
 */
export function allowlistRules(port: number, sources: readonly string[]): string[] {
  const addresses = sortedIpv4(sources);
  const from = addresses.length === 1 ? addresses[0] : `{ ${addresses.join(', ')} }`;
  return [`tcp dport ${port} ip saddr != ${from} drop`, `meta nfproto ipv6 tcp dport ${port} drop`];
}

const tableOf = (spec: AllowlistSpec): NftTable => ({ family: 'inet', name: spec.table, saveFile: spec.save_file, type: 'allowlist' });

/** The script that replaces the table. */
export function allowlistScript(spec: AllowlistSpec): string {
  return nftTableScript(tableOf(spec), `TCP port ${spec.port} only from the listed sources.`, 'input', CHAIN_HEADER, allowlistRules(spec.port, spec.sources));
}

/** `nft list table` output: the rules of the one chain lvsprov writes, or undefined for anything else (a set, a flag, another chain). */
function parseTable(lines: readonly string[]): string[] | undefined {
  const body = lines.map((line) => line.trim()).filter((line) => line !== '');
  if (body[1] !== 'chain input {' || body[2] !== CHAIN_HEADER || body.at(-1) !== '}' || body.at(-2) !== '}') return undefined;
  const rules = body.slice(3, -2);
  return rules.some((line) => line.endsWith('{') || line === '}') ? undefined : rules;
}

const fromText = (port: number, count: number): string => `port ${port} from ${count} address${count === 1 ? '' : 'es'}`;

/** The port and the sources of rules this type writes; undefined for any other rules. */
function ownRules(rules: readonly string[]): { readonly port: number; readonly sources: string[] } | undefined {
  const match = /^tcp dport (\d+) ip saddr != (?:\{ (.+) \}|(\S+)) drop$/.exec(rules[0] ?? '');
  if (!match) return undefined;
  const sources = (match[2] ?? match[3] ?? '').split(', ');
  // A set edited by hand may hold a range or a prefix: not one of ours.
  return sources.every(isIpv4) && allowlistRules(Number(match[1]), sources).join('\n') === rules.join('\n') ? { port: Number(match[1]), sources } : undefined;
}

/** `port P from N addresses` when the rules are ones this type writes, else the rules themselves. */
function describe(rules: readonly string[]): string {
  const own = ownRules(rules);
  return own ? fromText(own.port, own.sources.length) : rules.join('; ') || '(empty)';
}

/**
 * A source the list drops (a real server taken out of the services) is still let in until retire:
 * until then the directors still send it requests (quiesced in balance, drained, withdrawn), and
 * its PHP still reads and writes its sessions here. Prepare loads both lists' sources together.
 */
function widened(spec: AllowlistSpec, current: readonly string[]): ReturnType<NonNullable<WantedTable['widened']>> {
  const own = ownRules(current);
  if (own === undefined || own.port !== spec.port || own.sources.every((source) => spec.sources.includes(source))) return undefined;
  const sources = sortedIpv4([...own.sources, ...spec.sources]);
  return { script: allowlistScript({ ...spec, sources }), rules: allowlistRules(spec.port, sources), summary: fromText(spec.port, sources.length) };
}

/**
 * The two rules that keep everyone but 127.0.0.1 off the port while the daemon behind it starts
 * empty and fills itself (the memcached role inserts them before each start, its boot file loads
 * them, its copier takes them away by loading the table's save file), as `nft list` prints them.
 */
export const fenceRules = (port: number): string[] => [`ip saddr 127.0.0.1 tcp dport ${port} accept`, `tcp dport ${port} reject with tcp reset`];

const wantedOf = (spec: AllowlistSpec): WantedTable => ({
  script: allowlistScript(spec),
  rules: allowlistRules(spec.port, spec.sources),
  describe,
  summaryOfWanted: fromText(spec.port, sortedIpv4(spec.sources).length),
  widened: (current) => widened(spec, current),
  // A store left fenced (its copy failed) stays fenced when its allowlist changes: the restart
  // that follows copies and opens it. Opened here, PHP would read it unfilled until then.
  fence: { chain: 'input', rules: fenceRules(spec.port) },
});

// The table and its boot file are all it owns: reset deletes both and touches nothing else in nftables.
export const allowlist: ResourceType<AllowlistSpec, NftTableFacts> = nftTableType('allowlist', allowlistSchema, tableOf, parseTable, wantedOf);
