import { command, quote } from '../shell/quote.js';
import { ABSENT_FILE, parseFileLine, readFileSnippet, removeFileChange, writeFileChange, type FileState } from './file-state.js';
import type { z } from 'zod';
import type { Change, HostContext, ProbeOutput, ResourceType } from './types.js';
import { requireTool } from './missing-tool.js';

// An nftables table that lvsprov owns whole (the fwmark and allowlist types): replaced in one
// `nft -f` transaction from a script that lvsprov also keeps in a file, so that a boot hook can
// load the same table again. The kernel's table is compared with the wanted one as the text
// `nft list` prints; a table holding anything else is read as "other rules" and replaced.

export interface NftTable {
  readonly family: 'ip' | 'inet';
  readonly name: string;
  /** The script kept for boot, which `nft -f` loads. */
  readonly saveFile: string;
  /** The resource type, which names the table's changes (`fwmark lvsprov_fwmark`). */
  readonly type: string;
}

export interface NftTableFacts {
  /** `no-nft`: the nft program is missing; `absent`: no such table yet. */
  readonly state: 'present' | 'absent' | 'no-nft';
  /** The table's rules in canonical form; undefined when the table holds anything else. */
  readonly rules: readonly string[] | undefined;
  readonly file: FileState;
}

const TABLE_STATES = new Set(['present', 'absent', 'no-nft']);

/** Creating the table first makes the delete safe when it is absent; the whole file is one transaction. */
export function nftTableScript(table: NftTable, comment: string, chain: string, header: string, rules: readonly string[]): string {
  const { family, name } = table;
  return [
    '#!/usr/sbin/nft -f',
    `# Managed by lvsprov: ${comment} Load at boot with nft -f ${table.saveFile}.`,
    `table ${family} ${name}`,
    `delete table ${family} ${name}`,
    `table ${family} ${name} {`,
    `\tchain ${chain} {`,
    `\t\t${header}`,
    ...rules.map((rule) => `\t\t${rule}`),
    '\t}',
    '}',
    '',
  ].join('\n');
}

export function nftTableProbe(table: NftTable): string {
  return [
    `if ! command -v nft >/dev/null 2>&1; then printf 'T no-nft\\n'; ` +
      `elif nft_table=$(${command('nft', 'list', 'table', table.family, table.name)} 2>/dev/null); then printf '%s\\n' "$nft_table" | sed 's/^/N /'; printf 'T present\\n'; ` +
      `else printf 'T absent\\n'; fi`,
    readFileSnippet(table.saveFile),
  ].join('\n');
}

/** The probe's output; `rulesOf` reads the listed table's lines into rules, or undefined for a table lvsprov did not write. */
export function parseNftTable(output: ProbeOutput, table: NftTable, rulesOf: (lines: readonly string[]) => string[] | undefined): NftTableFacts {
  if (output.status !== 0) throw new Error(`reading nftables table ${table.name} failed with status ${output.status}`);
  const lines = output.stdout.split('\n');
  const state = lines.find((line) => line.startsWith('T '))?.slice(2);
  if (state === undefined || !TABLE_STATES.has(state)) throw new Error(`unexpected ${table.type} probe output: ${output.stdout.slice(0, 120)}`);
  return {
    state: state as NftTableFacts['state'],
    rules: state === 'present' ? rulesOf(lines.filter((line) => line.startsWith('N ')).map((line) => line.slice(2))) : [],
    file: parseFileLine(lines.find((line) => line.startsWith('F'))),
  };
}

export interface WantedTable {
  readonly script: string;
  readonly rules: readonly string[];
  /**
   * Rules that something other than lvsprov's table puts above the table's own for a while (the
   * fence that keeps clients off a daemon that starts empty), as `nft list` prints them, first
   * first. A table that begins with them is compared without them, and keeps them when replaced.
   */
  readonly fence?: { readonly chain: string; readonly rules: readonly string[] };
  /** How the summary says what is there now (facts present, rules read) and what will be. */
  readonly describe: (rules: readonly string[]) => string;
  readonly summaryOfWanted: string;
  /**
   * The table to load in prepare when going from `current` to the wanted rules would shut out
   * something that is let in now: both together (what comes in, and what is still let in), the
   * wanted table then loaded in retire, once the hosts that leave are drained. Undefined when
   * nothing now let in is shut out.
   */
  readonly widened?: (current: readonly string[]) => { readonly script: string; readonly rules: readonly string[]; readonly summary: string } | undefined;
}

/** The boot file written when it differs, the table loaded from it when the kernel's differs. */
export function planNftTable(table: NftTable, facts: NftTableFacts, context: HostContext, wanted: WantedTable): Change[] {
  requireTool('nft', facts.state !== 'no-nft', context);
  const listed = facts.state === 'present' ? facts.rules : undefined;
  const fence = wanted.fence;
  const fenced = fence !== undefined && listed !== undefined && fence.rules.every((rule, index) => listed[index] === rule);
  const current = fenced ? listed.slice(fence.rules.length) : listed;
  const differs = current === undefined || current.join('\n') !== wanted.rules.join('\n');
  const widened = differs && current !== undefined ? wanted.widened?.(current) : undefined;
  if (current !== undefined && widened !== undefined) return planWidened(table, facts, wanted, current, widened, fenced);
  const changes: Change[] = [];
  const write = writeFileChange(table.saveFile, facts.file, wanted.script, '644');
  if (write) changes.push(write);
  if (differs) {
    const before = facts.state !== 'present' ? '(absent)' : current === undefined ? '(other rules)' : wanted.describe(current);
    changes.push({
      resource: `${table.type} ${table.name}`,
      summary: `nftables table ${table.name}: ${before} -> ${wanted.summaryOfWanted}${fenced ? ' (its fence kept)' : ''}`,
      diff: { kind: 'value', before: current === undefined ? before : current.join('; ') || '(empty)', after: wanted.rules.join('; ') },
      commands: [fenced && fence ? reloadKeepingFence(table, fence) : `nft -f ${quote(table.saveFile)}`],
    });
  }
  return changes;
}

/**
 * Going to rules that shut out some of what is let in now (WantedTable.widened): in prepare the
 * save file holds both lists' sources and is loaded, so whatever loads it before retire (a
 * restart's copier opening its store, a boot) lets both in too; in retire the wanted file is
 * written and loaded, keeping a fence only if it is still there then (a restart of this run may
 * have opened the table since the read).
 */
function planWidened(table: NftTable, facts: NftTableFacts, wanted: WantedTable, current: readonly string[], widened: NonNullable<ReturnType<NonNullable<WantedTable['widened']>>>, fenced: boolean): Change[] {
  const changes: Change[] = [];
  const fence = wanted.fence;
  const load = `nft -f ${quote(table.saveFile)}`;
  const first = writeFileChange(table.saveFile, facts.file, widened.script, '644');
  if (first) changes.push(first);
  const grows = widened.rules.join('\n') !== current.join('\n');
  if (grows)
    changes.push({
      resource: `${table.type} ${table.name}`,
      summary: `nftables table ${table.name}: ${wanted.describe(current)} -> ${widened.summary}, until retire${fenced ? ' (its fence kept)' : ''}`,
      diff: { kind: 'value', before: current.join('; ') || '(empty)', after: widened.rules.join('; ') },
      commands: [fenced && fence ? reloadKeepingFence(table, fence) : load],
    });
  const last = writeFileChange(table.saveFile, { exists: true, content: widened.script, mode: '644' }, wanted.script, '644');
  if (last) changes.push({ ...last, phase: 'retire' });
  const stillFenced = fence && `nft list chain ${table.family} ${table.name} ${fence.chain} | grep -qxF ${quote(`\t\t${fence.rules.at(-1) ?? ''}`)}`;
  changes.push({
    resource: `${table.type} ${table.name}`,
    summary: `nftables table ${table.name}: ${grows ? widened.summary : wanted.describe(current)} -> ${wanted.summaryOfWanted}, once the leaving hosts are drained`,
    diff: { kind: 'value', before: widened.rules.join('; '), after: wanted.rules.join('; ') },
    commands: [fence ? `if ${stillFenced}; then ${reloadKeepingFence(table, fence)}; else ${load}; fi` : load],
    phase: 'retire',
  });
  return changes;
}

/**
 * The table loaded again with the fence above its rules, in one transaction (the boot file's
 * way): loaded alone, then fenced again, the daemon would be open between the two. `insert`
 * puts a rule first, so the fence's last rule goes in first.
 */
function reloadKeepingFence(table: NftTable, fence: NonNullable<WantedTable['fence']>): string {
  const inserts = [...fence.rules].reverse().map((rule) => `insert rule ${table.family} ${table.name} ${fence.chain} ${rule}`);
  return `{ cat -- ${quote(table.saveFile)} && printf '%s\\n' ${inserts.map((line) => quote(line)).join(' ')}; } | nft -f -`;
}

export function nftTableAfter(wanted: Pick<WantedTable, 'script' | 'rules'>): NftTableFacts {
  return { state: 'present', rules: wanted.rules, file: { exists: true, content: wanted.script, mode: '644' } };
}

/** Reset: the table and its boot file go; nothing else in nftables is touched. */
export const resetNftTable = {
  plan(table: NftTable, facts: NftTableFacts): Change[] {
    const changes: Change[] = [];
    if (facts.state === 'present') {
      changes.push({
        resource: `${table.type} ${table.name}`,
        summary: `delete nftables table ${table.name}`,
        diff: { kind: 'value', before: (facts.rules ?? ['(other rules)']).join('; '), after: '(absent)' },
        commands: [command('nft', 'delete', 'table', table.family, table.name)],
      });
    }
    if (facts.file.exists) changes.push(removeFileChange(table.saveFile, facts.file));
    return changes;
  },
  after: (facts: NftTableFacts): NftTableFacts => ({ state: facts.state === 'no-nft' ? 'no-nft' : 'absent', rules: [], file: ABSENT_FILE }),
};

/**
 * A resource type that owns one nftables table: `tableOf` names it, `rulesOf` reads a listing
 * back into rules (undefined for a table lvsprov did not write), `wantedOf` gives the table a spec
 * asks for.
 */
export function nftTableType<Spec>(
  name: string,
  schema: z.ZodType<Spec, unknown>,
  tableOf: (spec: Spec) => NftTable,
  rulesOf: (lines: readonly string[]) => string[] | undefined,
  wantedOf: (spec: Spec) => WantedTable,
): ResourceType<Spec, NftTableFacts> {
  return {
    name,
    schema,
    key: (spec) => `${name} ${tableOf(spec).name}`,
    probe: (spec) => nftTableProbe(tableOf(spec)),
    parse: (output, spec) => parseNftTable(output, tableOf(spec), rulesOf),
    plan: (spec, facts, context) => planNftTable(tableOf(spec), facts, context, wantedOf(spec)),
    after: (spec) => nftTableAfter(wantedOf(spec)),
    reset: {
      plan: (spec, facts) => resetNftTable.plan(tableOf(spec), facts),
      after: (_spec, facts) => resetNftTable.after(facts),
    },
  };
}
