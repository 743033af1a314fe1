// The text `arptables-save` prints, read well enough to find, add and drop single rules while
// every other line - foreign rules, chain declarations, comments - is carried through unchanged.

/** The fields of a rule this project writes; the zod schema lives with the resource. */
export interface ArpRule {
  readonly chain: string;
  readonly target: string;
  readonly source?: string | undefined;
  readonly destination?: string | undefined;
  readonly mangle_source?: string | undefined;
}

/** Debian's arptables 0.0.5 (legacy backend) on empty tables, byte for byte. */
export const EMPTY_TABLES = '*filter\n:INPUT ACCEPT\n:OUTPUT ACCEPT\n:FORWARD ACCEPT\n\n';

export function ruleKey(rule: ArpRule): string {
  return `${rule.chain} ${rule.target} s=${rule.source ?? ''} d=${rule.destination ?? ''} m=${rule.mangle_source ?? ''}`;
}

/** A rule as legacy arptables-save prints it: target first, then matches, and a trailing space. */
function saveLine(rule: ArpRule): string {
  const matches = [rule.source && `-s ${rule.source}`, rule.destination && `-d ${rule.destination}`, rule.mangle_source && `--mangle-ip-s ${rule.mangle_source}`];
  return `-A ${rule.chain} -j ${rule.target} ${matches.filter(Boolean).join(' ')} `;
}

/**
 * The key of a saved rule line, or null when it uses anything this resource does not write
 * (negation, interfaces, MACs, another mangle target): such a rule is never one of ours.
 * Parsed by option, not by position, because printers differ: legacy arptables 0.0.5 prints
 * `-j` first and drops `/32`; arptables-nft (iptables 1.8) prints `-j` last, may print `/32`,
 * and some versions add the default `--h-length 6` / `--h-type 1`.
 */
export function lineKey(line: string): string | null {
  const tokens = line.trim().split(/\s+/);
  if (tokens[0] !== '-A' || tokens[1] === undefined) return null;
  const found: Record<string, string> = {};
  const host = (value: string): string => value.replace(/\/(32|255\.255\.255\.255)$/, '');
  for (let i = 2; i < tokens.length; i += 2) {
    const option = tokens[i] ?? '';
    const value = tokens[i + 1];
    if (value === undefined) return null;
    if (option === '-j' || option === '--jump') found.target = value;
    else if (option === '-s' || option === '--source-ip') found.s = host(value);
    else if (option === '-d' || option === '--destination-ip') found.d = host(value);
    else if (option === '--mangle-ip-s') found.m = value;
    else if (option === '--mangle-target' && value === 'ACCEPT') continue;
    else if (option === '--h-length' && value === '6') continue;
    else if (option === '--h-type' && (value === '1' || value === 'Ethernet')) continue;
    else return null;
  }
  if (found.target === undefined) return null;
  return `${tokens[1]} ${found.target} s=${found.s ?? ''} d=${found.d ?? ''} m=${found.m ?? ''}`;
}

export interface SavedRule {
  readonly chain: string;
  readonly key: string | null;
  readonly text: string;
}

/** arptables-save output split around its rule lines, so it can be re-rendered byte for byte. */
export interface SavedTables {
  readonly head: string[];
  readonly rules: SavedRule[];
  readonly tail: string[];
}

export function parseSave(text: string): SavedTables {
  const lines = text.split('\n');
  const first = lines.findIndex((line) => line.startsWith('-A '));
  if (first < 0) {
    // No rules: they go after the chain declarations, before whatever follows them.
    const end = lines.reduce((last, line, index) => (line.startsWith(':') || line.startsWith('*') ? index + 1 : last), 0);
    return { head: lines.slice(0, end), rules: [], tail: lines.slice(end) };
  }
  const last = lines.length - 1 - [...lines].reverse().findIndex((line) => line.startsWith('-A '));
  let chain = '';
  const rules = lines.slice(first, last + 1).map((text) => {
    if (text.startsWith('-A ')) chain = text.split(/\s+/)[1] ?? '';
    return { chain, key: lineKey(text), text };
  });
  return { head: lines.slice(0, first), rules, tail: lines.slice(last + 1) };
}

export function renderSave(tables: SavedTables): string {
  return [...tables.head, ...tables.rules.map((rule) => rule.text), ...tables.tail].join('\n');
}

/** Appends after the chain's last rule, keeping rules grouped by chain as arptables-save does. */
export function appendRule(tables: SavedTables, rule: ArpRule): SavedTables {
  const declared = tables.head.filter((line) => line.startsWith(':')).map((line) => line.slice(1).split(/\s+/)[0] ?? '');
  const order = (chain: string): number => (declared.includes(chain) ? declared.indexOf(chain) : declared.length);
  const after = tables.rules.reduce((at, saved, index) => (order(saved.chain) <= order(rule.chain) ? index + 1 : at), 0);
  const rules = [...tables.rules];
  rules.splice(after, 0, { chain: rule.chain, key: ruleKey(rule), text: saveLine(rule) });
  return { ...tables, rules };
}

/** Compares save texts by meaning: counters, comments, blank lines and option order aside. */
export function canonical(text: string): string {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => lineKey(line) ?? line.replace(/\s*\[\d+:\d+\]$/, '').split(/\s+/).join(' '))
    .join('\n');
}
