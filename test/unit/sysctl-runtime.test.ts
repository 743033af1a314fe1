import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { procSysPath, readRuntimeSnippet } from '../../src/resources/sysctl-runtime.js';
import { quote } from '../../src/shell/quote.js';

// The sysctl probe's runtime read, run through /bin/sh against this machine's own /proc/sys (it
// only reads): it must print exactly what one `sysctl -n` per key prints, the way it read before.

const oneByOne = (names: readonly string[]): string =>
  `for k in ${names.map(quote).join(' ')}; do if v=$(sysctl -n -- "$k" 2>/dev/null); then printf 'R %s %s\\n' "$k" "$v"; else printf 'M %s\\n' "$k"; fi; done`;

const sh = (script: string, env: NodeJS.ProcessEnv = process.env): { stdout: string; status: number | null } => {
  const result = spawnSync('/bin/sh', ['-c', script], { encoding: 'utf8', env });
  return { stdout: result.stdout, status: result.status };
};

// A PATH that has tail and nothing else: without sysctl, only the one-tail way can read a value.
const tailOnly = mkdtempSync(join(tmpdir(), 'lvsprov-tail-only-'));
symlinkSync(sh('command -v tail').stdout.trim(), join(tailOnly, 'tail'));
afterAll(() => rmSync(tailOnly, { recursive: true, force: true }));

// Keys every Linux kernel has, among them one of several fields and one whose value may be empty.
const present = ['net.ipv4.ip_forward', 'net.ipv4.conf.lo.arp_ignore', 'net.ipv4.ip_local_port_range', 'kernel.ostype', 'net.ipv4.conf.all.rp_filter'];

describe('sysctl runtime read', () => {
  it('maps names to /proc/sys paths as sysctl does, a slash standing for a dot within a level', () => {
    expect(procSysPath('net.ipv4.conf.eth0/100.rp_filter')).toBe('/proc/sys/net/ipv4/conf/eth0.100/rp_filter');
  });

  it('reads every existing key with one tail, printing what sysctl -n prints', () => {
    const expected = sh(oneByOne(present));
    expect(expected.stdout).toContain('R net.ipv4.ip_local_port_range ');
    expect(sh(readRuntimeSnippet(present), { PATH: tailOnly })).toEqual(expected);
  });

  it('falls back to one sysctl -n per key when one is missing, unreadable or a subtree, with the same output', () => {
    for (const odd of ['net.ipv4.conf.lvsprov-absent.rp_filter', 'net.ipv4.route.flush', 'net.ipv4.conf.all']) {
      const names = [present[0] as string, odd, present[1] as string];
      const expected = sh(oneByOne(names));
      expect(expected.stdout).toMatch(/^R net\.ipv4\.ip_forward /);
      expect(sh(readRuntimeSnippet(names))).toEqual(expected);
    }
  });

  it('prints nothing and reads nothing for no key (tail would read the script from stdin)', () => {
    expect(readRuntimeSnippet([])).toBe('');
  });
});
