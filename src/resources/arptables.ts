import { z } from 'zod';
import { command } from '../shell/quote.js';
import { ipv4, writtenFilePath } from '../config/values.js';
import { ABSENT_FILE, parseFileLine, readFileSnippet, removeFileChange, replaceFileChange, type FileState } from './file-state.js';
import { requireTool } from './missing-tool.js';
import type { Change, ProbeOutput, ResourceType } from './types.js';
import { EMPTY_TABLES, appendRule, canonical, parseSave, renderSave, ruleKey } from './arptables-save.js';

// ARP suppression for TUN/DR real servers: drop ARP requests for the VIP and rewrite the VIP out
// of the sender address of outgoing ARP. Only the listed rules are managed: chains are never
// flushed and rules lvsprov does not list stay where they are. The save file holds what
// `arptables-save` will print once the plan ran, so a boot-time `arptables-restore` recreates it.

export const arptablesRuleSchema = z
  .object({
    chain: z.enum(['INPUT', 'OUTPUT']),
    destination: ipv4.optional(),
    source: ipv4.optional(),
    target: z.enum(['DROP', 'mangle']),
    mangle_source: ipv4.optional(),
  })
  .strict()
  .superRefine((rule, ctx) => {
    if (rule.target === 'mangle' && rule.mangle_source === undefined) {
      ctx.addIssue({ code: 'custom', path: ['mangle_source'], message: 'target mangle needs mangle_source' });
    }
    if (rule.target !== 'mangle' && rule.mangle_source !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['mangle_source'], message: 'mangle_source only applies to target mangle' });
    }
    if (rule.destination === undefined && rule.source === undefined) {
      ctx.addIssue({ code: 'custom', message: 'a rule needs destination or source; without either it matches every ARP packet of the host' });
    }
  });

export type ArptablesRule = z.output<typeof arptablesRuleSchema>;

export const arptablesSchema = z
  .object({
    rules: z.array(arptablesRuleSchema).min(1),
    save_file: writtenFilePath.default('/etc/arptables.rules'),
    state: z.enum(['present', 'absent']).default('present'),
  })
  .strict()
  .superRefine((spec, ctx) => {
    const seen = new Map<string, number>();
    spec.rules.forEach((rule, index) => {
      const first = seen.get(ruleKey(rule));
      if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['rules', index], message: `duplicates rules[${first}]` });
      else seen.set(ruleKey(rule), index);
    });
  });

export type ArptablesSpec = z.output<typeof arptablesSchema>;

export interface ArptablesFacts {
  /** Whether arptables-save exists; when it does not, `runtime` is EMPTY_TABLES. */
  readonly installed: boolean;
  /** What arptables-save printed when it failed (e.g. no arp_tables in the kernel). */
  readonly error: string | null;
  /** The current `arptables-save` output. */
  readonly runtime: string;
  readonly file: FileState;
}

function ruleArgs(rule: ArptablesRule): string[] {
  return [
    ...(rule.source === undefined ? [] : ['-s', rule.source]),
    ...(rule.destination === undefined ? [] : ['-d', rule.destination]),
    '-j',
    rule.target,
    ...(rule.mangle_source === undefined ? [] : ['--mangle-ip-s', rule.mangle_source]),
  ];
}

interface Reconciled {
  readonly appended: ArptablesRule[];
  readonly removed: Array<{ rule: ArptablesRule; count: number }>;
  readonly predicted: string;
  readonly writeFile: boolean;
}

function reconcile(spec: ArptablesSpec, facts: ArptablesFacts): Reconciled {
  let tables = parseSave(facts.runtime);
  const appended: ArptablesRule[] = [];
  const removed: Array<{ rule: ArptablesRule; count: number }> = [];
  for (const rule of spec.rules) {
    const key = ruleKey(rule);
    const count = tables.rules.filter((saved) => saved.key === key).length;
    if (spec.state === 'present' && count === 0) {
      appended.push(rule);
      tables = appendRule(tables, rule);
    } else if (spec.state === 'absent' && count > 0) {
      removed.push({ rule, count });
      tables = { ...tables, rules: tables.rules.filter((saved) => saved.key !== key) };
    }
  }
  const predicted = renderSave(tables);
  const stale = !facts.file.exists || canonical(facts.file.content) !== canonical(predicted) || facts.file.mode !== '644';
  // Removing rules never creates a save file that was not there (nothing of ours was persisted),
  // and without arptables there is no runtime to mirror, so the file is left as it is.
  const writeFile = spec.state === 'present' ? stale : facts.installed && facts.file.exists && stale;
  return { appended, removed, predicted, writeFile };
}

export const arptables: ResourceType<ArptablesSpec, ArptablesFacts> = {
  name: 'arptables',
  schema: arptablesSchema,

  key: (spec) => `arptables ${spec.save_file}`,

  probe(spec) {
    // The status rides at the end of the captured text so that trailing newlines survive $(...).
    return [
      `if command -v arptables-save >/dev/null 2>&1; then`,
      `  out=$(arptables-save 2>&1; printf '.%s' "$?"); printf 'A %s ' "\${out##*.}"; printf '%s' "\${out%.*}" | base64 -w0; printf '\\n'`,
      `else printf 'A-\\n'; fi`,
      readFileSnippet(spec.save_file),
    ].join('\n');
  },

  parse(output: ProbeOutput): ArptablesFacts {
    let installed = false;
    let status = 0;
    let text = '';
    let fileLine: string | undefined;
    for (const line of output.stdout.split('\n')) {
      const saved = /^A (\d+) ?(\S*)$/.exec(line);
      if (saved) {
        installed = true;
        status = Number(saved[1]);
        text = Buffer.from(saved[2] ?? '', 'base64').toString('utf8');
      } else if (line.startsWith('F')) fileLine = line;
    }
    const failed = installed && status !== 0;
    // Without arptables the tables read as empty; plan stops the host unless a package task
    // of this run installs it first.
    const runtime = !installed ? EMPTY_TABLES : failed ? '' : text;
    return { installed, error: failed ? text.trim() || `exit status ${status}` : null, runtime, file: parseFileLine(fileLine) };
  },

  plan(spec, facts, context) {
    if (facts.error !== null) throw new Error(`arptables-save failed on ${context.host}: ${facts.error}`);
    // Rules to add need the tool (or a package task before this one). Rules to remove do not:
    // without arptables nothing of lvsprov's can be in the tables, so reset has nothing to undo.
    if (spec.state === 'present') requireTool('arptables-save', facts.installed, context);
    const { appended, removed, predicted, writeFile } = reconcile(spec, facts);
    const pending = facts.installed ? '' : ' (arptables not installed yet)';
    const changes: Change[] = [
      ...appended.map((rule) => ({
        resource: `arptables ${rule.chain}`,
        summary: `append ${command(rule.chain, ...ruleArgs(rule))}${pending}`,
        commands: [command('arptables', '-A', rule.chain, ...ruleArgs(rule))],
      })),
      ...removed.map(({ rule, count }) => ({
        resource: `arptables ${rule.chain}`,
        summary: `delete ${command(rule.chain, ...ruleArgs(rule))}${count > 1 ? ` (${count} copies)` : ''}`,
        commands: Array.from({ length: count }, () => command('arptables', '-D', rule.chain, ...ruleArgs(rule))),
      })),
    ];
    return writeFile ? [...changes, replaceFileChange(spec.save_file, facts.file, predicted, '644')] : changes;
  },

  after(spec, facts) {
    if (facts.error !== null) return facts;
    const { predicted, writeFile } = reconcile(spec, facts);
    const file = writeFile ? { exists: true, content: predicted, mode: '644' } : facts.file;
    return { ...facts, runtime: predicted, file };
  },

  // Each rule is its own object, so one VIP's rules go while another's stay.
  owns: (spec) => (spec.state === 'present' ? spec.rules.map((rule) => ({ id: `arptables ${spec.save_file} ${ruleKey(rule)}`, spec: { ...spec, rules: [rule] } })) : []),

  mergeOwned: (a, b) => (a.save_file === b.save_file && a.state === b.state ? { ...a, rules: [...a.rules, ...b.rules] } : undefined),

  // The listed rules go, as with state absent; foreign rules stay, and the save file keeps
  // mirroring them. When no rule at all is left, the save file goes too.
  reset: {
    plan(spec, facts, context) {
      if (spec.state !== 'present') return [];
      const changes = arptables.plan(withdrawn(spec), facts, context);
      if (!dropsSaveFile(spec, facts)) return changes;
      return [...changes.filter((change) => change.resource !== `file ${spec.save_file}`), removeFileChange(spec.save_file, facts.file)];
    },
    after(spec, facts) {
      if (spec.state !== 'present') return facts;
      const predicted = arptables.after(withdrawn(spec), facts);
      return dropsSaveFile(spec, facts) ? { ...predicted, file: ABSENT_FILE } : predicted;
    },
  },
};

function withdrawn(spec: ArptablesSpec): ArptablesSpec {
  return { ...spec, state: 'absent' };
}

/** Without arptables there is no runtime to judge the file by, so it is left, as apply leaves it. */
function dropsSaveFile(spec: ArptablesSpec, facts: ArptablesFacts): boolean {
  if (!facts.installed || facts.error !== null || !facts.file.exists) return false;
  return parseSave(reconcile(withdrawn(spec), facts).predicted).rules.length === 0;
}
