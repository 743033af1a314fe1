import { createHash } from 'node:crypto';
import { parseSections } from '../engine/batch-script.js';
import { quote } from '../shell/quote.js';
import { ifFirstLineIs, PREFETCHED, prefetchedOr, prefetchedUnlessHeadOr } from '../resources/file-prefetch.js';
import { writeFileCommands } from '../resources/file-state.js';
import { ORIGINALS_DIR } from '../resources/sysctl-originals.js';
import type { Change, ProbeOutput } from '../resources/types.js';
import type { OwnedRecord } from './records.js';

// The ownership manifest: what lvsprov made on a host, kept on the host so any control machine
// can tell lvsprov's objects from an administrator's. One line per object,
//   TYPE <tab> ID <tab> base64(JSON {spec, task, role}) <tab> base64(PROBE)
// where PROBE is the resource type's own read of that object. The read script runs every probe
// the manifest holds inside the same read exec as every other fact: the objects to prune are only
// known once the manifest is read, and a second round trip would cost more than the read.
// The probes are lvsprov's own output (every value schema-checked and quoted when written), in a
// root-only file; one that differs from what this lvsprov would write for the recorded spec is
// not trusted for planning (the object is kept, and recorded again with the current probe).
//
// The first line carries a sum of the object lines (in any order). A read that would find
// nothing to prune, the host holding exactly what the run declares, compares that line with the
// run's own in the shell and skips the search (a grep), every recorded probe and the rest of the
// file, which the control node rebuilds from the run (knownByHead): on a converged host the
// manifest costs no process and no bytes. A read that reads the body (the first line not the
// run's: reset, a run of some tags, a host whose records differ) finds each object a hand edit
// put behind an unchanged first line not probed: it is kept and recorded again, and the next
// read, its sum no longer the run's, probes it.

export const MANIFEST_FILE = `${ORIGINALS_DIR}/owned`;
const HEADER = '# lvsprov ownership manifest 1: what lvsprov made on this host (type, id, spec, probe). Written by lvsprov; do not edit.';

/** A record read back from the manifest: its spec is not yet checked against its type's schema (undefined when unreadable). */
export interface ManifestEntry extends OwnedRecord {
  /** What the recorded probe printed in this read; status 255 and nothing when it did not run. */
  readonly output: ProbeOutput;
  /** Whether the read ran its probe (the plan probes only what it may remove). */
  readonly probed: boolean;
}

export interface ManifestRead {
  readonly exists: boolean;
  /** The file as read, to tell whether a rewrite changes it. */
  readonly text: string;
  readonly entries: readonly ManifestEntry[];
}

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
const unb64 = (text: string): string => Buffer.from(text, 'base64').toString('utf8');

/** Ids and task names are shown to people; tabs and newlines would break the line format. */
const oneField = (text: string): string => text.replace(/[\t\r\n]+/g, ' ');

function recordLine(record: OwnedRecord): string {
  const meta = JSON.stringify({ spec: record.spec, task: oneField(record.task), ...(record.role ? { role: record.role } : {}) });
  return [record.type, oneField(record.id), b64(meta), b64(record.probe)].join('\t');
}

// A host's manifest is rendered three times a run (its first line for the read, the text a read
// that found that line stands for, the text the plan compares and writes), and a spec compiled
// once for many hosts (compile.ts freezes it and shares it) makes the same line on each of them:
// each line is worked out once per frozen spec and record, not per host and render. The JSON and
// base64 of a kilobyte or two of probe were most of the manifest's cost on the control node.
const linesBySpec = new WeakMap<object, Map<string, string>>();

/** A record's line; the same record (type, id, task, role) of the same frozen spec gives the same line. */
function cachedLine(record: OwnedRecord): string {
  const spec = record.spec;
  if (typeof spec !== 'object' || spec === null || !Object.isFrozen(spec)) return recordLine(record);
  let lines = linesBySpec.get(spec);
  if (lines === undefined) linesBySpec.set(spec, (lines = new Map()));
  // The probe is a function of type and spec (probe-of.ts), the spec fixed by its identity.
  const key = JSON.stringify([record.type, record.id, record.task, record.role ?? null]);
  let line = lines.get(key);
  if (line === undefined) lines.set(key, (line = recordLine(record)));
  return line;
}

/** The first line over object lines: the same whatever their order. */
function headerOf(lines: readonly string[]): string {
  const sum = createHash('sha256').update([...lines].sort().join('\n')).digest('hex').slice(0, 32);
  return `${HEADER} sum=${sum}`;
}

/** The manifest's first line for `records`. */
export function manifestHeader(records: readonly OwnedRecord[]): string {
  return headerOf(records.map(cachedLine));
}

export function renderManifest(records: readonly OwnedRecord[]): string {
  const lines = records.map(cachedLine);
  return `${[headerOf(lines), ...lines].join('\n')}\n`;
}

/**
 * Which recorded objects the read probes: the plan needs the state of the ones it may remove, and
 * only those, so the others cost the host no process. `except`: every object but these ids;
 * `only`: just these ids.
 */
export type ProbedEntries = { readonly except: readonly string[] } | { readonly only: readonly string[] };

export const EVERY_ENTRY: ProbedEntries = { except: [] };

/** Shell that sets `probe` to 1 when the manifest line's id (in `$id`) is one to probe, else empty. */
function probeChoice(entries: ProbedEntries): string {
  const listed = 'only' in entries ? entries.only : entries.except;
  const [yes, no] = 'only' in entries ? ['1', ''] : ['', '1'];
  if (listed.length === 0) return `probe=${no}`;
  // Quoted, so each pattern matches its id literally, as parseManifestRead's ids are compared.
  return `case "$id" in ${[...new Set(listed)].map(quote).join('|')}) probe=${yes} ;; *) probe=${no} ;; esac`;
}

/**
 * grep arguments that keep, numbered, the manifest lines that may hold an object to probe: the id
 * is the second tab-separated field, and no other field holds a tab-bounded id (types are words,
 * the rest base64), so `<tab>ID<tab>` matches that id's line and no other. A shell `read` takes a
 * file one byte per system call, and the manifest (a probe per object) runs to kilobytes: grep
 * reads it at once and leaves the shell only the lines to act on, none on an unchanged host.
 */
function candidateLines(entries: ProbedEntries): string {
  const listed = [...new Set('only' in entries ? entries.only : entries.except)];
  if (listed.length === 0) return 'only' in entries ? '' : `grep -n '' "$m"`;
  const patterns = listed.map((id) => `-e ${quote(`\t${id}\t`)}`).join(' ');
  return `grep -n ${'only' in entries ? '' : '-v '}-F ${patterns} "$m"`;
}

/**
 * The read section: the manifest itself, then the output of each probe it holds that `entries`
 * selects, each wrapped in markers carrying `token` (as the batch script's sections are) and
 * numbered by its line. An entry left out prints nothing: parseManifestRead gives it no output.
 */
export function manifestProbe(token: string, entries: ProbedEntries = EVERY_ENTRY, nothingToProbe?: string): string {
  const candidates = candidateLines(entries);
  const search =
    candidates === ''
      ? []
      : [
          `tab='	'; lines=$(${candidates})`,
          `[ -z "$lines" ] || while IFS= read -r line; do`,
          `  n=\${line%%:*}; line=\${line#*:}`,
          `  case "$line" in ''|'#'*) continue ;; esac`,
          `  id=\${line#*"$tab"}; id=\${id%%"$tab"*}`,
          `  ${probeChoice(entries)}`,
          `  [ -n "$probe" ] || continue`,
          `  printf '<<<${token} %s\n' "$n"`,
          // A shell of its own, which holds none of the read's variables, but is handed what the
          // read's prefetch holds: a recorded probe of a path the prefetch read (a reset's read
          // prefetches what the playbook declares) finds it there as the tasks' probes do,
          // instead of starting its own stat and base64; parseReadSections puts the file back.
          `  ( printf '%s' "\${line##*"$tab"}" | base64 -d | ${PREFETCHED}="$${PREFETCHED}" sh ); rc=$?`,
          `  printf '\n>>>${token} %s %s\n' "$n" "$rc"`,
          `done <<lvsprov_manifest_lines`,
          `$lines`,
          `lvsprov_manifest_lines`,
        ];
  if (nothingToProbe !== undefined) return knownByHead(search, nothingToProbe);
  return [
    `m=${quote(MANIFEST_FILE)}`,
    `if [ -f "$m" ]; then`,
    // The read's prefetch reads the manifest with the other files (`F mode base64` in its place).
    `  ${prefetchedOr(MANIFEST_FILE, BODY)}`,
    // Unindented: the here-document's lines must start their lines.
    ...search,
    `else printf 'M-\n'; fi`,
  ].join('\n');
}

const BODY = `printf 'M '; base64 -w0 < "$m"; printf '\n'`;

/**
 * The read of a manifest whose first line `head` says it holds exactly what the run declares:
 * then nothing is left to probe, and the rest of the file is what renderManifest makes of the
 * run's own records, so the read prints `M=` in its place (parseManifestRead rebuilds it) and
 * the prefetch leaves the file out: most of a converged host's read output was this file. The
 * first line is read by the prefetch, or here when it did not cover the path, a byte per system
 * call (a few hundred), where the search is a process and the file kilobytes.
 *
 * A body edited by hand behind an unchanged first line goes unseen until the run's records
 * change: the file is lvsprov's own state (root's, under /var/lib/lvsprov, saying not to edit
 * it), written whole and atomically with its first line, and what an unseen edit delays errs
 * toward leaving things alone: a line added by hand is pruned (its object removed) only once the
 * body is read again, and a line removed by hand is written back by the next run that changes
 * the records (its object left in place, as one lvsprov never recorded, if that run no longer
 * declares it). Prune never removes anything on the strength of a body it did not read. Nor is
 * a file whose lines are in another order than the run's rewritten (the sum ignores order).
 */
function knownByHead(search: readonly string[], head: string): string {
  const same = `printf 'M=\\n'; lvsprov_known=1`;
  const compared = ifFirstLineIs('"$m"', head, same, BODY);
  return [
    `m=${quote(MANIFEST_FILE)}`,
    `if [ -f "$m" ]; then`,
    '  lvsprov_known=',
    `  ${prefetchedUnlessHeadOr(MANIFEST_FILE, head, same, compared)}`,
    ...(search.length > 0 ? ['if [ -z "$lvsprov_known" ]; then', ...search, 'fi'] : []),
    `else printf 'M-\n'; fi`,
  ].join('\n');
}

/**
 * `declared`: the run's records, which a read that found its own first line (`M=`, see
 * knownByHead) stands for: the file renderManifest makes of them, none of them probed.
 */
export function parseManifestRead(output: ProbeOutput, token: string, declared?: readonly OwnedRecord[]): ManifestRead {
  if (output.status !== 0) throw new Error(`reading ${MANIFEST_FILE} failed with status ${output.status}`);
  const head = output.stdout.split('\n', 1)[0] ?? '';
  if (head === 'M-') return { exists: false, text: '', entries: [] };
  if (head === 'M=' && declared !== undefined) {
    return { exists: true, text: renderManifest(declared), entries: declared.map((record) => ({ ...record, output: { stdout: '', status: 255 }, probed: false })) };
  }
  const content = /^(?:M|F \d+) ([A-Za-z0-9+/=]*)$/.exec(head)?.[1];
  if (content === undefined) throw new Error(`unexpected ownership manifest read: ${head.slice(0, 80)}`);
  const text = unb64(content);
  const sections = parseSections(token, output.stdout);
  const entries: ManifestEntry[] = [];
  text.split('\n').forEach((line, index) => {
    if (line === '' || line.startsWith('#')) return;
    const [type = '', id = '', meta = '', probe = ''] = line.split('\t');
    const parsed = parseMeta(unb64(meta));
    // A line whose probe never ran (the file changed under the read) has no output: unreadable.
    const output = sections.get(index + 1) ?? { stdout: '', status: 255 };
    entries.push({ type, id, spec: parsed?.spec, probe: unb64(probe), task: parsed?.task ?? id, ...(parsed?.role ? { role: parsed.role } : {}), output, probed: sections.has(index + 1) });
  });
  return { exists: true, text, entries };
}

function parseMeta(text: string): { spec: unknown; task?: string; role?: string } | undefined {
  try {
    const value = JSON.parse(text) as { spec?: unknown; task?: unknown; role?: unknown };
    if (value === null || typeof value !== 'object') return undefined;
    return { spec: value.spec, ...(typeof value.task === 'string' ? { task: value.task } : {}), ...(typeof value.role === 'string' ? { role: value.role } : {}) };
  } catch {
    return undefined;
  }
}

const objects = (count: number): string => `${count} object${count === 1 ? '' : 's'}`;

/** The change that brings the manifest to `records`, or none when it already says that. */
export function manifestChange(read: ManifestRead, records: readonly OwnedRecord[]): Change | undefined {
  const resource = `file ${MANIFEST_FILE}`;
  if (records.length === 0) {
    if (!read.exists) return undefined;
    return {
      resource,
      summary: `forget every object in ${MANIFEST_FILE}`,
      diff: { kind: 'value', before: objects(read.entries.length), after: '(absent)' },
      // The directory goes with its last file, as the sysctl originals' record does.
      commands: [`rm -f -- ${quote(MANIFEST_FILE)}`, `rmdir -- ${quote(ORIGINALS_DIR)} 2>/dev/null || true`],
    };
  }
  const content = renderManifest(records);
  if (read.exists && read.text === content) return undefined;
  return {
    resource,
    summary: `record ${objects(records.length)} lvsprov made in ${MANIFEST_FILE}`,
    diff: { kind: 'value', before: read.exists ? objects(read.entries.length) : '(absent)', after: objects(records.length) },
    commands: writeFileCommands(MANIFEST_FILE, content, '600'),
  };
}
