import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ipvs } from '../../src/resources/ipvs.js';
import { parseRules } from '../../src/resources/ipvs/rules-format.js';

// Runs the ipvs probe snippet in this machine's /bin/sh and checks its facts against what
// ipvsadm, os-release and the file system say when asked directly. On a kernel without IPVS
// (the build machines) that proves the failure path; in the qemu guest, the table path.

const sh = (script: string) => spawnSync('sh', ['-c', script], { encoding: 'utf8' });

describe('ipvs probe on this machine', () => {
  const spec = ipvs.schema.parse({ services: [], save_file: '/nonexistent/lvsprov/ipvs.rules' });
  const run = sh(ipvs.probe(spec));
  const facts = ipvs.parse({ stdout: run.stdout, status: run.status ?? -1 }, spec);

  // Each path is proven where this machine has it and reported skipped, with the reason, where not.
  const hasIpvsadm = sh('command -v ipvsadm').status === 0;
  const direct = hasIpvsadm ? sh('ipvsadm -S -n') : undefined;

  it('without ipvsadm, reports it missing, and whether the kernel has IPVS', (ctx) => {
    if (hasIpvsadm) return ctx.skip('ipvsadm is installed here: the missing-ipvsadm path cannot be shown');
    expect(facts.ipvs).toEqual({ state: 'no-ipvsadm', kernel: existsSync('/proc/net/ip_vs') || sh('modprobe -n -q ip_vs').status === 0 });
  });

  it('where the kernel has no IPVS, reports the failure ipvsadm -S -n reports', (ctx) => {
    if (direct === undefined) return ctx.skip('ipvsadm is not installed here');
    if (direct.status === 0) return ctx.skip('this kernel has IPVS: the failure path cannot be shown');
    expect(facts.ipvs).toEqual({ state: 'unavailable', status: direct.status, message: direct.stderr.trim().split('\n').join(' ') });
  });

  it('where the kernel has IPVS, reports the table ipvsadm -S -n reports', (ctx) => {
    if (direct === undefined) return ctx.skip('ipvsadm is not installed here');
    if (direct.status !== 0) return ctx.skip(`no IPVS in this kernel (ipvsadm -S -n: ${direct.stderr.trim().split('\n')[0] ?? ''}); the qemu lab proves the table path`);
    expect(facts.ipvs).toEqual({ state: 'ok' });
    expect(facts.table).toEqual(parseRules(direct.stdout));
  });

  it('reads ID and ID_LIKE from os-release', () => {
    const release = existsSync('/etc/os-release') ? readFileSync('/etc/os-release', 'utf8') : '';
    const value = (key: string): string => /^(["']?)(.*)\1$/.exec(new RegExp(`^${key}=(.*)$`, 'm').exec(release)?.[1] ?? '')?.[2] ?? '';
    expect(facts.os).toEqual({ id: value('ID').toLowerCase(), idLike: value('ID_LIKE').toLowerCase().split(/\s+/).filter(Boolean) });
  });

  it('reads each candidate save file', () => {
    for (const path of ['/etc/sysconfig/ipvsadm', '/etc/ipvsadm.rules', '/nonexistent/lvsprov/ipvs.rules']) {
      const file = facts.files[path];
      expect(file?.exists, path).toBe(existsSync(path));
      if (file?.exists) expect(file.content).toBe(readFileSync(path, 'utf8'));
    }
  });
});
