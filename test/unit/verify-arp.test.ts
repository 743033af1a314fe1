import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { arpScript } from '../../src/verify/arp-script.js';
import { parseArpOutput, type ArpBlock } from '../../src/verify/arp-output.js';
import { directorLan, inNetwork } from '../../src/verify/arp-plan.js';
import { judgeArp, type ArpVerdictInput } from '../../src/verify/arp-verdict.js';

// The ARP verdict from ARP checks captured on the netns lab (see verify-parsers.test.ts): the
// director's MAC as verify reads it over SSH, the replies the router heard.

const directorMac = '16:00:d0:76:7c:b1';
const block = (name: string, index = 0): ArpBlock => {
  const fixture = JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/verify/arp', `${name}.json`), 'utf8')) as { nonce: string; stdout: string };
  const parsed = parseArpOutput(fixture.nonce, fixture.stdout).blocks.get(index);
  if (!parsed) throw new Error(`${name} has no block ${index}`);
  return parsed;
};
const input = (overrides: Partial<ArpVerdictInput>): ArpVerdictInput => ({
  vip: '198.51.100.50',
  directors: [{ host: 'director', device: 'eth0', mac: directorMac, holdsVip: true }],
  lan: '192.0.2.0/24',
  checker: 'router',
  tool: 'iputils',
  block: block('iputils-director-only'),
  hostsByAddress: new Map([
    ['192.0.2.11', 'rs1'],
    ['192.0.2.12', 'rs2'],
  ]),
  outsideLan: [],
  ...overrides,
});

describe('ARP verdict', () => {
  it('passes when only the director answers, and says what was checked', () => {
    const check = judgeArp(input({}));
    expect(check.status).toBe('pass');
    expect(check.responders).toEqual([{ mac: directorMac, host: 'director', replies: 3 }]);
    expect(check.notes[0]).toBe('3 broadcast ARP requests for 198.51.100.50 from router on eth1 (iputils arping), on the director\'s LAN 192.0.2.0/24');
    expect(check.problems).toEqual([]);
  });

  it.each(['iputils-rs1-answers', 'busybox-rs1-answers'])('fails naming the real server that answers too (%s)', (name) => {
    const check = judgeArp(input({ block: block(name), tool: name.split('-')[0] as string }));
    expect(check.status).toBe('fail');
    expect(check.problems).toEqual(['rs1 (3e:a8:37:a6:78:30) answers ARP for 198.51.100.50: only the director may']);
    expect(check.responders.map((responder) => [responder.host, responder.replies])).toEqual([
      ['rs1', 3],
      ['director', 3],
    ]);
  });

  it('fails without naming a responder whose MAC no lookup found', () => {
    const check = judgeArp(input({ block: block('iputils-rs1-answers'), hostsByAddress: new Map() }));
    expect(check.problems).toEqual(['192.0.2.11 (3e:a8:37:a6:78:30) answers ARP for 198.51.100.50: only the director may']);
    const unknown = judgeArp(input({ block: { ...block('iputils-rs1-answers'), lookups: new Map() } }));
    expect(unknown.problems).toEqual(['a host that is not a director (3e:a8:37:a6:78:30) answers ARP for 198.51.100.50: only the director may']);
  });

  it('fails when nobody answers, and when the director does not hold the VIP', () => {
    const check = judgeArp(input({ vip: '198.51.100.51', block: block('two-vips-one-silent', 1), directors: [{ host: 'director', device: 'eth0', mac: directorMac, holdsVip: false }] }));
    expect(check.status).toBe('fail');
    expect(check.problems).toEqual(['director director does not hold 198.51.100.51 on eth0', 'nobody answered ARP for 198.51.100.51 on router eth1']);
  });

  it('names the real servers whose networks it cannot see', () => {
    expect(judgeArp(input({ outsideLan: ['tun1', '198.18.3.4'] })).notes[1]).toBe('not seen from this LAN, so not checked: ARP on the networks of tun1, 198.18.3.4');
  });
});

describe('ARP verdict under VRRP (lvs.ha): exactly one director holds the VIP and only it answers', () => {
  const backupMac = '3e:a8:37:a6:78:30';
  const pair = (first: boolean, second: boolean) => [
    { host: 'dir1', device: 'eth0', mac: directorMac, holdsVip: first },
    { host: 'dir2', device: 'eth0', mac: backupMac, holdsVip: second },
  ];

  it('passes with one holder that alone answers, and names master and backup', () => {
    const check = judgeArp(input({ vrrp: true, directors: pair(true, false) }));
    expect(check.problems).toEqual([]);
    expect(check.status).toBe('pass');
    expect(check.notes).toContain('198.51.100.50 is held by dir1 (VRRP master); backup: dir2');
  });

  it('fails on split brain and on no master', () => {
    expect(judgeArp(input({ vrrp: true, directors: pair(true, true) })).problems).toEqual(['split brain: dir1 and dir2 hold 198.51.100.50 at once; exactly one VRRP master may']);
    expect(judgeArp(input({ vrrp: true, directors: pair(false, false) })).problems[0]).toBe('no director holds 198.51.100.50: no VRRP master (is keepalived running on dir1, dir2?)');
  });

  it('fails when the backup answers ARP for a VIP it does not hold (left over by a killed keepalived)', () => {
    const check = judgeArp(input({ vrrp: true, directors: pair(true, false), block: { ...block('iputils-rs1-answers'), lookups: new Map() } }));
    expect(check.problems).toEqual([`backup director dir2 (${backupMac}) answers ARP for 198.51.100.50: only the VRRP master may`]);
  });
});

describe('ARP plan helpers', () => {
  it("takes the director's LAN from its first address wider than /32", () => {
    expect(directorLan({ device: 'eth0', addresses: [{ address: '198.51.100.50', prefix: 32 }, { address: '192.0.2.10', prefix: 24 }] })).toEqual({
      address: '192.0.2.10',
      cidr: '192.0.2.0/24',
    });
    expect(directorLan({ device: 'eth0', addresses: [{ address: '198.51.100.50', prefix: 32 }] })).toBeUndefined();
    expect(inNetwork('192.0.2.200', '192.0.2.128/25')).toBe(true);
    expect(inNetwork('192.0.2.100', '192.0.2.128/25')).toBe(false);
  });

  it('refuses anything but IPv4 addresses in the script and quotes nothing it did not check', () => {
    expect(() => arpScript('abc', [{ vip: '198.51.100.50; reboot', directorAddress: '192.0.2.10', lookups: [] }])).toThrow(/not an IPv4 address/);
    expect(() => arpScript('abc', [{ vip: '198.51.100.50', directorAddress: '192.0.2.10', lookups: ['$(id)'] }])).toThrow(/not an IPv4 address/);
    expect(() => arpScript('x;y', [])).toThrow(/nonce/);
    expect(arpScript('abc', [{ vip: '198.51.100.50', directorAddress: '192.0.2.10', lookups: ['192.0.2.11'] }])).toContain(
      'block 0 198.51.100.50 192.0.2.10 192.0.2.11 > "$d/out.0" 2>&1 &',
    );
  });
});
