import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseReadSections, readScript } from '../../src/engine/batch-script.js';
import { procSysPath, readRuntimeSnippet } from '../../src/resources/sysctl-runtime.js';
import { quote } from '../../src/shell/quote.js';

// The sysctl probe's runtime read, run through /bin/sh against this machine's own /proc/sys (it
// only reads), inside a read script as hosts run it: it must print exactly what one `sysctl -n`
// per key prints, whether the read's prefetch read the keys or the probe did.

const oneByOne = (names: readonly string[]): string =>
  `for k in ${names.map(quote).join(' ')}; do if v=$(sysctl -n -- "$k" 2>/dev/null); then printf 'R %s %s\\n' "$k" "$v"; else printf 'M %s\\n' "$k"; fi; done`;

const sh = (script: string, env: NodeJS.ProcessEnv = process.env): { stdout: string; status: number | null } => {
  const result = spawnSync('/bin/sh', ['-c', script], { encoding: 'utf8', env });
  return { stdout: result.stdout, status: result.status };
};

// A PATH that has stat and tail and nothing else: without sysctl, only the prefetch can read a value.
const tailOnly = mkdtempSync(join(tmpdir(), 'lvsprov-tail-only-'));
symlinkSync(sh('command -v tail').stdout.trim(), join(tailOnly, 'tail'));
symlinkSync(sh('command -v stat').stdout.trim(), join(tailOnly, 'stat'));

/** The probe's section of a read script that holds only it, the read's own PATH replaced by `path`. */
const read = (names: readonly string[], options: { path?: string; prefetch?: boolean } = {}): { stdout: string; status: number | null } => {
  let script = readScript('n0nce', [readRuntimeSnippet(names)], undefined, { prefetch: options.prefetch ?? true });
  if (options.path) script = script.replace(/PATH="[^"]*"/, `PATH=${options.path}`);
  const result = spawnSync('/bin/sh', ['-s'], { input: script });
  const section = parseReadSections('n0nce', result.stdout, 1).get(0);
  return { stdout: section?.stdout ?? '', status: section?.status ?? null };
};
afterAll(() => rmSync(tailOnly, { recursive: true, force: true }));

// Keys every Linux kernel has, among them one of several fields and one whose value may be empty.
const present = ['net.ipv4.ip_forward', 'net.ipv4.conf.lo.arp_ignore', 'net.ipv4.ip_local_port_range', 'kernel.ostype', 'net.ipv4.conf.all.rp_filter'];

describe('sysctl runtime read', () => {
  it('maps names to /proc/sys paths as sysctl does, a slash standing for a dot within a level', () => {
    expect(procSysPath('net.ipv4.conf.eth0/100.rp_filter')).toBe('/proc/sys/net/ipv4/conf/eth0.100/rp_filter');
  });

  it("reads every existing key with the prefetch's one tail, printing what sysctl -n prints", () => {
    const expected = sh(oneByOne(present));
    expect(expected.stdout).toContain('R net.ipv4.ip_local_port_range ');
    expect(read(present, { path: tailOnly })).toEqual(expected);
    // Without the prefetch, one sysctl -n per key prints the same.
    expect(read(present, { prefetch: false })).toEqual(expected);
  });

  it('reads a key the prefetch could not (missing, unreadable, a subtree) with sysctl -n, with the same output', () => {
    for (const odd of ['net.ipv4.conf.lvsprov-absent.rp_filter', 'net.ipv4.route.flush', 'net.ipv4.conf.all']) {
      const names = [present[0] as string, odd, present[1] as string];
      const expected = sh(oneByOne(names));
      expect(expected.stdout).toMatch(/^R net\.ipv4\.ip_forward /);
      expect(read(names)).toEqual(expected);
    }
  });

  it('a missing key costs no process: its file is not there', () => {
    const traced = spawnSync('strace', ['-f', '-qq', '-e', 'trace=execve', '-e', 'signal=none', 'sh', '-s'], { input: readScript('n0nce', [readRuntimeSnippet(['net.ipv4.conf.lvsprov-absent.rp_filter'])]) });
    expect(traced.stderr.toString().match(/execve\(/g)).toHaveLength(1);
  });

  it('prints nothing and reads nothing for no key', () => {
    expect(readRuntimeSnippet([])).toBe('');
  });
});
