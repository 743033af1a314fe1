import { parseSections } from '../engine/batch-script.js';
import { quote } from '../shell/quote.js';
import { prefetchedOr } from '../resources/file-prefetch.js';
import { writeFileCommands } from '../resources/file-state.js';
import { ORIGINALS_DIR } from '../resources/sysctl-originals.js';
import type { Change, ProbeOutput } from '../resources/types.js';
import type { OwnedRecord } from './records.js';

// The ownership manifest: what lvsprov made on a host, kept on the host so any control machine
// can tell lvsprov's objects from an administrator's. One line per object,
//   TYPE <tab> ID <tab> base64(JSON {spec, task, role}) <tab> base64(PROBE)
// where PROBE is the resource type's own read of that object. The read takes the manifest with
// the other files; the objects it records and the plan may remove (no task declares them any
// more) are read in one more exec, only on a host that has any: once a run has removed them,
// which is every run but the one after a task was taken out, that exec is never made. Only a
// recorded probe that is what this lvsprov writes for the recorded spec is run and trusted (the
// object is otherwise kept, and recorded again with the current probe); the control node sends
// its own text of it, so nothing read from a host is run as a script.

export const MANIFEST_FILE = `${ORIGINALS_DIR}/owned`;
const HEADER = '# lvsprov ownership manifest 1: what lvsprov made on this host (type, id, spec, probe). Written by lvsprov; do not edit.';

/** A record read back from the manifest: its spec is not yet checked against its type's schema (undefined when unreadable). */
export interface ManifestEntry extends OwnedRecord {
  /** Its line in the manifest (the first is 1): the follow-up read's section number. */
  readonly line: number;
  /** What the recorded probe printed in this read; status 255 and nothing when it did not run. */
  readonly output: ProbeOutput;
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

export function renderManifest(records: readonly OwnedRecord[]): string {
  const lines = records.map((record) => {
    const meta = JSON.stringify({ spec: record.spec, task: oneField(record.task), ...(record.role ? { role: record.role } : {}) });
    return [record.type, oneField(record.id), b64(meta), b64(record.probe)].join('\t');
  });
  return `${[HEADER, ...lines].join('\n')}\n`;
}

/**
 * Which recorded objects the plan needs read: the ones it may remove, and only those, so the
 * others cost the host nothing. `except`: every object but these ids; `only`: just these ids.
 */
export type ProbedEntries = { readonly except: readonly string[] } | { readonly only: readonly string[] };

export const EVERY_ENTRY: ProbedEntries = { except: [] };

export function isProbed(entries: ProbedEntries, id: string): boolean {
  return 'only' in entries ? entries.only.includes(id) : !entries.except.includes(id);
}

/** The read's section: the manifest itself (`M base64`, or `F mode base64` from the prefetch), or `M-` when there is none. */
export function manifestProbe(): string {
  return [
    `m=${quote(MANIFEST_FILE)}`,
    `if [ -f "$m" ]; then`,
    // The read's prefetch reads the manifest with the other files (`F mode base64` in its place).
    `  ${prefetchedOr(MANIFEST_FILE, `printf 'M '; base64 -w0 < "$m"; printf '\n'`)}`,
    `else printf 'M-\n'; fi`,
  ].join('\n');
}

/**
 * The follow-up read: each given probe in a subshell of its own (a probe may exit), its output
 * between markers carrying `token` and its manifest line; parseManifestRead takes them from the
 * manifest section's output, to which the caller appends this script's.
 */
export function recordedProbesScript(token: string, probes: ReadonlyArray<{ readonly line: number; readonly probe: string }>): string {
  return probes.map(({ line, probe }) => [`printf '<<<${token} %s\\n' ${line}`, `(\n${probe}\n)`, `printf '\\n>>>${token} %s %s\\n' ${line} "$?"`].join('\n')).join('\n');
}

export function parseManifestRead(output: ProbeOutput, token: string): ManifestRead {
  if (output.status !== 0) throw new Error(`reading ${MANIFEST_FILE} failed with status ${output.status}`);
  const head = output.stdout.split('\n', 1)[0] ?? '';
  if (head === 'M-') return { exists: false, text: '', entries: [] };
  const content = /^(?:M|F \d+) ([A-Za-z0-9+/=]*)$/.exec(head)?.[1];
  if (content === undefined) throw new Error(`unexpected ownership manifest read: ${head.slice(0, 80)}`);
  const text = unb64(content);
  const sections = parseSections(token, output.stdout);
  const entries: ManifestEntry[] = [];
  text.split('\n').forEach((line, index) => {
    if (line === '' || line.startsWith('#')) return;
    const [type = '', id = '', meta = '', probe = ''] = line.split('\t');
    const parsed = parseMeta(unb64(meta));
    // A line whose probe never ran (the plan does not need it) has no output: unreadable.
    const output = sections.get(index + 1) ?? { stdout: '', status: 255 };
    entries.push({ type, id, line: index + 1, spec: parsed?.spec, probe: unb64(probe), task: parsed?.task ?? id, ...(parsed?.role ? { role: parsed.role } : {}), output });
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

/** The change that brings the manifest to `records`, or none when it already says that. */
export function manifestChange(read: ManifestRead, records: readonly OwnedRecord[]): Change | undefined {
  const resource = `file ${MANIFEST_FILE}`;
  if (records.length === 0) {
    if (!read.exists) return undefined;
    return {
      resource,
      summary: `forget every object in ${MANIFEST_FILE}`,
      diff: { kind: 'value', before: `${read.entries.length} object${read.entries.length === 1 ? '' : 's'}`, after: '(absent)' },
      // The directory goes with its last file, as the sysctl originals' record does.
      commands: [`rm -f -- ${quote(MANIFEST_FILE)}`, `rmdir -- ${quote(ORIGINALS_DIR)} 2>/dev/null || true`],
    };
  }
  const content = renderManifest(records);
  if (read.exists && read.text === content) return undefined;
  return {
    resource,
    summary: `record ${records.length} object${records.length === 1 ? '' : 's'} lvsprov made in ${MANIFEST_FILE}`,
    diff: { kind: 'value', before: read.exists ? `${read.entries.length} object${read.entries.length === 1 ? '' : 's'}` : '(absent)', after: `${records.length}` },
    commands: writeFileCommands(MANIFEST_FILE, content, '600'),
  };
}
