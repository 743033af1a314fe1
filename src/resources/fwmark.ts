import { z } from 'zod';
import { absolutePath, ipv4 } from '../config/values.js';
import { command, quote } from '../shell/quote.js';
import { ABSENT_FILE, parseFileLine, readFileSnippet, removeFileChange, writeFileCommands, type FileState } from './file-state.js';
import type { Change, ProbeOutput, ResourceType } from './types.js';
import { requireTool } from './missing-tool.js';

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
    save_file: absolutePath.default('/etc/lvsprov/fwmark.nft'),
  })
  .strict();

export type FwmarkSpec = z.output<typeof fwmarkSchema>;
type MarkRule = FwmarkSpec['marks'][number];

export interface FwmarkFacts {
  /** `no-nft`: the nft program is missing; `absent`: no such table yet. */
  readonly state: 'present' | 'absent' | 'no-nft';
  /** The table's rules in canonical form; undefined when the table holds anything else. */
  readonly rules: readonly string[] | undefined;
  readonly file: FileState;
}

const CHAIN_HEADER = 'type filter hook prerouting priority mangle; policy accept;';

/** One rule as `nft list` prints it (ports sorted, mark in hex), so spec and kernel compare as text. */
export function ruleText(rule: MarkRule): string {
  const ports = [...new Set(rule.ports)].sort((a, b) => a - b);
  const match = ports.length === 0 ? '' : ports.length === 1 ? ` tcp dport ${ports[0]}` : ` tcp dport { ${ports.join(', ')} }`;
  return `ip daddr ${rule.address}${match} meta mark set 0x${rule.mark.toString(16).padStart(8, '0')}`;
}

/** The script that replaces the table: creating it first makes the delete safe when it is absent. */
export function fwmarkScript(spec: FwmarkSpec): string {
  return [
    '#!/usr/sbin/nft -f',
    `# Managed by lvsprov: firewall marks for IPVS fwmark services. Load at boot with nft -f ${spec.save_file}.`,
    `table ip ${spec.table}`,
    `delete table ip ${spec.table}`,
    `table ip ${spec.table} {`,
    '\tchain prerouting {',
    `\t\t${CHAIN_HEADER}`,
    ...spec.marks.map((rule) => `\t\t${ruleText(rule)}`),
    '\t}',
    '}',
    '',
  ].join('\n');
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

const TABLE_STATES = new Set(['present', 'absent', 'no-nft']);

export const fwmark: ResourceType<FwmarkSpec, FwmarkFacts> = {
  name: 'fwmark',
  schema: fwmarkSchema,

  key: (spec) => `fwmark ${spec.table}`,

  probe(spec) {
    return [
      `if ! command -v nft >/dev/null 2>&1; then printf 'T no-nft\\n'; ` +
        `elif fwmark_table=$(${command('nft', 'list', 'table', 'ip', spec.table)} 2>/dev/null); then printf '%s\\n' "$fwmark_table" | sed 's/^/N /'; printf 'T present\\n'; ` +
        `else printf 'T absent\\n'; fi`,
      readFileSnippet(spec.save_file),
    ].join('\n');
  },

  parse(output: ProbeOutput, spec): FwmarkFacts {
    if (output.status !== 0) throw new Error(`reading nftables table ${spec.table} failed with status ${output.status}`);
    const lines = output.stdout.split('\n');
    const state = lines.find((line) => line.startsWith('T '))?.slice(2);
    if (state === undefined || !TABLE_STATES.has(state)) throw new Error(`unexpected fwmark probe output: ${output.stdout.slice(0, 120)}`);
    const table = lines.filter((line) => line.startsWith('N ')).map((line) => line.slice(2));
    return {
      state: state as FwmarkFacts['state'],
      rules: state === 'present' ? parseTable(table) : [],
      file: parseFileLine(lines.find((line) => line.startsWith('F'))),
    };
  },

  plan(spec, facts, context) {
    requireTool('nft', facts.state !== 'no-nft', context);
    const changes: Change[] = [];
    const script = fwmarkScript(spec);
    const fileInSync = facts.file.exists && facts.file.content === script && facts.file.mode === '644';
    if (!fileInSync) {
      changes.push({
        resource: `file ${spec.save_file}`,
        summary: facts.file.exists ? `update ${spec.save_file}` : `create ${spec.save_file}`,
        diff: { kind: 'file', before: facts.file.content, after: script },
        commands: writeFileCommands(spec.save_file, script, '644'),
      });
    }
    const wanted = desired(spec);
    const current = facts.state === 'present' ? facts.rules : undefined;
    if (current === undefined || current.join('\n') !== wanted.join('\n')) {
      const before = facts.state === 'absent' ? '(absent)' : current === undefined ? '(other rules)' : current.join('; ') || '(empty)';
      changes.push({
        resource: `fwmark ${spec.table}`,
        summary: `nftables table ${spec.table}: ${before} -> ${wanted.length} mark rule${wanted.length === 1 ? '' : 's'}`,
        diff: { kind: 'value', before, after: wanted.join('; ') },
        commands: [`nft -f ${quote(spec.save_file)}`],
      });
    }
    return changes;
  },

  after(spec) {
    return { state: 'present', rules: desired(spec), file: { exists: true, content: fwmarkScript(spec), mode: '644' } };
  },

  // The table and its boot file go; nothing else in nftables is touched.
  reset: {
    plan(spec, facts) {
      const changes: Change[] = [];
      if (facts.state === 'present') {
        changes.push({
          resource: `fwmark ${spec.table}`,
          summary: `delete nftables table ${spec.table}`,
          diff: { kind: 'value', before: (facts.rules ?? ['(other rules)']).join('; '), after: '(absent)' },
          commands: [command('nft', 'delete', 'table', 'ip', spec.table)],
        });
      }
      if (facts.file.exists) changes.push(removeFileChange(spec.save_file, facts.file));
      return changes;
    },
    after: (spec, facts) => ({ state: facts.state === 'no-nft' ? 'no-nft' : 'absent', rules: [], file: ABSENT_FILE }),
  },
};
