import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ipvs } from '../../src/resources/ipvs.js';
import { parseRules } from '../../src/resources/ipvs/rules-format.js';

// Runs the ipvs probe snippet in this machine's /bin/sh and checks its facts against what
// ipvsadm, os-release and the file system say when asked directly. On a kernel without IPVS
// (the build machines) that proves the failure path; in the qemu guest, the table path. The
// missing-ipvsadm path runs with a PATH that leaves ipvsadm out.

const sh = (script: string) => spawnSync('sh', ['-c', script], { encoding: 'utf8' });

describe('ipvs probe on this machine', () => {
  const spec = ipvs.schema.parse({ services: [], save_file: '/nonexistent/lvsprov/ipvs.rules' });
  const run = sh(ipvs.probe(spec));
  const facts = ipvs.parse({ stdout: run.stdout, status: run.status ?? -1 }, spec);

  const direct = sh('ipvsadm -S -n');

  it('without ipvsadm (left out of PATH), reports it missing, and whether the kernel has IPVS', () => {
    // A PATH of one directory that links every program of the system's but ipvsadm.
    const bin = mkdtempSync(join(tmpdir(), 'lvsprov-no-ipvsadm-'));
    try {
      for (const dir of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
        for (const name of existsSync(dir) ? readdirSync(dir) : []) {
          if (name !== 'ipvsadm' && !existsSync(join(bin, name))) symlinkSync(join(dir, name), join(bin, name));
        }
      }
      const run = spawnSync('sh', ['-c', ipvs.probe(spec)], { encoding: 'utf8', env: { PATH: bin } });
      const withoutTool = ipvs.parse({ stdout: run.stdout, status: run.status ?? -1 }, spec);
      expect(withoutTool.ipvs).toEqual({ state: 'no-ipvsadm', kernel: existsSync('/proc/net/ip_vs') || sh('modprobe -n -q ip_vs').status === 0 });
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });

  // This machine's kernel has no IPVS, the qemu guest's has: the same test reads the failure here and the table there.
  it('reports what ipvsadm -S -n reports: the failure where the kernel has no IPVS, the table where it has', () => {
    expect(direct.error, 'ipvsadm is installed by scripts/setup.sh').toBeUndefined();
    if (direct.status === 0) {
      expect(facts.ipvs).toEqual({ state: 'ok' });
      expect(facts.table).toEqual(parseRules(direct.stdout));
    } else {
      expect(facts.ipvs).toEqual({ state: 'unavailable', status: direct.status, message: direct.stderr.trim().split('\n').join(' ') });
    }
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
