import { describe, expect, it } from 'vitest';
import { allowlist, allowlistRules, allowlistScript, fenceRules } from '../../src/resources/allowlist.js';

// A session store's allowlist going from one list of sources to another: what comes in is let in
// in prepare (before the directors send the new real servers requests), what goes is shut out only
// in retire (until then the directors still send the leaving server requests, quiesced and
// drained, and its PHP still reads its sessions here).

const A = '192.0.2.11';
const B = '192.0.2.12';
const C = '192.0.2.13';
const spec = (sources: string[]) => allowlist.schema.parse({ port: 11211, sources, table: 'lvsprov_memcached', save_file: '/etc/lvsprov/memcached-allow.nft' });
const facts = (sources: string[], fenced = false) => ({
  state: 'present' as const,
  rules: [...(fenced ? fenceRules(11211) : []), ...allowlistRules(11211, sources)],
  file: { exists: true, content: allowlistScript(spec(sources)), mode: '644' },
});
const tableChanges = (from: string[], to: string[], fenced = false) =>
  allowlist.plan(spec(to), facts(from, fenced), { host: 'rs1' }).filter((change) => change.resource === 'allowlist lvsprov_memcached');

describe('the allowlist lets new sources in at prepare and shuts old ones out at retire', () => {
  // Whatever loads the save file before retire (a restart's copier opening its store, a boot)
  // must let the leaving sources in too: it holds both lists until retire.
  it('writes its save file with both lists in prepare and with the new one in retire', () => {
    const writes = allowlist.plan(spec([A, C]), facts([A, B]), { host: 'rs1' }).filter((change) => change.resource === 'file /etc/lvsprov/memcached-allow.nft');
    expect(writes.map((change) => [change.phase ?? 'prepare', change.diff?.kind === 'file' ? change.diff.after : ''])).toEqual([
      ['prepare', allowlistScript(spec([A, B, C]))],
      ['retire', allowlistScript(spec([A, C]))],
    ]);
  });

  it.each([
    { why: 'a source added: one load, in prepare', from: [A, B], to: [A, B, C], loads: [['prepare', [A, B, C]]] },
    { why: 'a source taken away: one load, in retire', from: [A, B], to: [A], loads: [['retire', [A]]] },
    { why: 'one added and one taken away: both in prepare, the new list in retire', from: [A, B], to: [A, C], loads: [['prepare', [A, B, C]], ['retire', [A, C]]] },
  ])('$why', ({ from, to, loads }) => {
    const changes = tableChanges(from, to);
    expect(changes.map((change) => [change.phase ?? 'prepare', change.diff?.kind === 'value' ? change.diff.after : ''])).toEqual(loads.map(([phase, sources]) => [phase, allowlistRules(11211, sources as string[]).join('; ')]));
  });

  it('a fenced store keeps its fence in both loads; the retire load keeps it only if the fence is still there then', () => {
    const [widen, narrow] = tableChanges([A, B], [A, C], true);
    expect(widen?.commands[0]).toMatch(/^\{ cat -- \S+ && printf '%s\\n' 'insert rule inet lvsprov_memcached input tcp dport 11211 reject with tcp reset' 'insert rule inet lvsprov_memcached input ip saddr 127\.0\.0\.1 tcp dport 11211 accept'; \} \| nft -f -$/s);
    expect(narrow?.commands[0]).toMatch(/^if nft list chain inet lvsprov_memcached input \| grep -qxF '\t\ttcp dport 11211 reject with tcp reset'; then \{ cat -- .*; else nft -f '?\/etc\/lvsprov\/memcached-allow\.nft'?; fi$/s);
  });
});
