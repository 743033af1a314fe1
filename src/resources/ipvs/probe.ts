import { parseFileLine, readFileSnippet, type FileState } from '../file-state.js';
import type { ProbeOutput } from '../types.js';
import type { Table } from './model.js';
import { parseRules } from './rules-format.js';
import { probedSaveFiles, type OsRelease } from './save-file.js';
import type { IpvsSpec } from './schema.js';
import { parsePinnedRoute, PINS_SNIPPET } from './next-hop-pin.js';

/**
 * Whether the table could be read. `no-ipvsadm`: the tool is not installed, so the table is
 * unknown: the plan stops the host unless an earlier task installs ipvsadm (the table is then
 * read as empty, which a kernel whose IPVS nobody drove yet holds). `unavailable`: ipvsadm
 * failed, typically "Can't initialize ipvs: Protocol not available" from a kernel without
 * CONFIG_IP_VS.
 */
export type IpvsStatus =
  | { readonly state: 'ok' }
  | { readonly state: 'no-ipvsadm'; /** Whether the kernel has IPVS (loaded, or a module to load). */ readonly kernel: boolean }
  | { readonly state: 'unavailable'; readonly status: number; readonly message: string };

export interface IpvsFacts {
  readonly ipvs: IpvsStatus;
  readonly table: Table;
  readonly os: OsRelease;
  /** Save file candidates by path, see probedSaveFiles. */
  readonly files: Readonly<Record<string, FileState>>;
  /** `systemctl is-enabled ipvsadm.service` ('' when systemd knows no such unit); absent without systemd. */
  readonly bootUnit?: string;
  /** Real servers whose next hop a forwarding switch pinned (next-hop-pin.ts), still pinned. */
  readonly pins: readonly string[];
}

// Lines: `S <rule>` per line of `ipvsadm -S -n`, then one `I <status>`; `O ID=...` from
// os-release; `B <answer>` where systemd runs; `R <route>` per next-hop pin; one file line per
// probed save file, in probedSaveFiles order. ipvsadm runs a second time only on failure, to
// capture its stderr apart from the rules.
/** Shell that prints the live table as `S <rule>` lines and one `I <status>` line (see parseStatus). */
export const LIVE_TABLE_SNIPPET = String.raw`if ! command -v ipvsadm >/dev/null 2>&1; then
  if [ -e /proc/net/ip_vs ] || modprobe -n -q ip_vs 2>/dev/null; then printf 'I no-ipvsadm\n'; else printf 'I no-ipvsadm no-ip_vs\n'; fi
elif ipvs_rules=$(ipvsadm -S -n 2>/dev/null); then printf '%s\n' "$ipvs_rules" | sed -e '/^$/d' -e 's/^/S /'; printf 'I 0\n'
else ipvs_status=$?; printf 'I %s %s\n' "$ipvs_status" "$(ipvsadm -S -n 2>&1 >/dev/null | tr '\n' ' ')"; fi`;

const TABLE_SNIPPET = String.raw`${LIVE_TABLE_SNIPPET}
sed -n -E 's/^(ID|ID_LIKE)=/O &/p' /etc/os-release 2>/dev/null
if [ -d /run/systemd/system ]; then printf 'B %s\n' "$(systemctl is-enabled ipvsadm.service 2>/dev/null)"; fi`;

export function probeSnippet(spec: IpvsSpec): string {
  return [TABLE_SNIPPET, PINS_SNIPPET, ...probedSaveFiles(spec).map(readFileSnippet)].join('\n');
}

/** The probe before it read the pins: manifests an older lvsprov wrote record it, and its output parses (no pins). */
export function probeSnippetWithoutPins(spec: IpvsSpec): string {
  return [TABLE_SNIPPET, ...probedSaveFiles(spec).map(readFileSnippet)].join('\n');
}

/** Why IPVS itself cannot be driven (a kernel without it), or undefined when nothing says so. */
export function ipvsUnavailable(status: IpvsStatus): string | undefined {
  if (status.state === 'unavailable') return `ipvsadm -S -n exited with status ${status.status}${status.message ? ` (${status.message})` : ''}`;
  if (status.state === 'no-ipvsadm' && !status.kernel) return 'the kernel has no ip_vs module';
  return undefined;
}

export function parseStatus(text: string): IpvsStatus {
  if (text === '0') return { state: 'ok' };
  if (text === 'no-ipvsadm' || text === 'no-ipvsadm no-ip_vs') return { state: 'no-ipvsadm', kernel: text === 'no-ipvsadm' };
  const match = /^(\d+) ?(.*)$/.exec(text);
  if (!match) throw new Error(`unexpected ipvs probe status line: ${text.slice(0, 120)}`);
  return { state: 'unavailable', status: Number(match[1]), message: (match[2] ?? '').trim() };
}

function unquote(value: string): string {
  return value.replace(/^(["'])(.*)\1$/, '$2');
}

export function parseProbe(output: ProbeOutput, spec: IpvsSpec): IpvsFacts {
  const rules: string[] = [];
  const fileLines: string[] = [];
  let status: IpvsStatus | undefined;
  let os: OsRelease = { id: '', idLike: [] };
  let bootUnit: string | undefined;
  const pins: string[] = [];
  for (const line of output.stdout.split('\n')) {
    if (line.startsWith('S ')) rules.push(line.slice(2));
    else if (line.startsWith('I ')) status = parseStatus(line.slice(2));
    else if (line.startsWith('O ID=')) os = { ...os, id: unquote(line.slice(5)).toLowerCase() };
    else if (line.startsWith('O ID_LIKE=')) os = { ...os, idLike: unquote(line.slice(10)).toLowerCase().split(/\s+/).filter(Boolean) };
    else if (line.startsWith('F')) fileLines.push(line);
    else if (line === 'B' || line.startsWith('B ')) bootUnit = line.slice(2).trim();
    else if (line.startsWith('R ')) {
      const pinned = parsePinnedRoute(line.slice(2));
      if (pinned !== undefined) pins.push(pinned);
    }
  }
  if (!status) throw new Error('the ipvs probe printed no status line');
  let table: Table = [];
  try {
    table = status.state === 'ok' ? parseRules(rules.join('\n')) : [];
  } catch (error) {
    throw new Error(`cannot read the output of ipvsadm -S -n: ${(error as Error).message}`);
  }
  const files = Object.fromEntries(probedSaveFiles(spec).map((path, index) => [path, parseFileLine(fileLines[index])]));
  return { ipvs: status, table, os, files, pins, ...(bootUnit !== undefined ? { bootUnit } : {}) };
}
