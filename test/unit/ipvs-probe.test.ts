import { describe, expect, it } from 'vitest';
import { ipvs } from '../../src/resources/ipvs.js';

// What the ipvs resource does with probe output beyond the fixture cases: a host without IPVS,
// and output it cannot trust. The unavailable output is what ipvsadm 1.31 prints on a kernel
// without CONFIG_IP_VS (seen on the build machine): exit status 2 and this stderr.

const spec = ipvs.schema.parse({
  services: [{ protocol: 'tcp', address: '198.51.100.50', port: 80, real_servers: [{ address: '192.0.2.11', forwarding: 'dr' }] }],
});

const UNAVAILABLE =
  "I 2 modprobe: FATAL: Module ip_vs not found in directory /lib/modules/6.18.44 Can't initialize ipvs: Protocol not available " +
  'Are you sure that IP Virtual Server is built in the kernel or as module? \n';

describe('ipvs probe and IPVS availability', () => {
  it('records a failing ipvsadm as a fact', () => {
    const facts = ipvs.parse({ stdout: `${UNAVAILABLE}O ID=debian\nF-\nF-\n`, status: 0 }, spec);
    expect(facts.ipvs).toEqual({
      state: 'unavailable',
      status: 2,
      message:
        "modprobe: FATAL: Module ip_vs not found in directory /lib/modules/6.18.44 Can't initialize ipvs: Protocol not available " +
        'Are you sure that IP Virtual Server is built in the kernel or as module?',
    });
    expect(facts.table).toEqual([]);
  });

  it('refuses to plan without IPVS, naming the kernel support and modprobe ip_vs', () => {
    const facts = ipvs.parse({ stdout: `${UNAVAILABLE}O ID=debian\nF-\nF-\n`, status: 0 }, spec);
    const plan = (): unknown => ipvs.plan(spec, facts, { host: 'director1' });
    expect(plan).toThrow(/IPVS is not available on director1: ipvsadm -S -n exited with status 2 \(modprobe: FATAL/);
    expect(plan).toThrow(/CONFIG_IP_VS/);
    expect(plan).toThrow(/modprobe ip_vs/);
    expect(ipvs.after(spec, facts)).toBe(facts);
  });

  it('refuses output it cannot read rather than planning against a guess', () => {
    const stdout = 'S -A -t 198.51.100.50:80 -s wlc\nS -a -t 198.51.100.50:80 -r 192.0.2.11:80 -q -w 1\nI 0\nF-\nF-\n';
    expect(() => ipvs.parse({ stdout, status: 0 }, spec)).toThrow(/cannot read the output of ipvsadm -S -n: line 2 .*expected -g, -i or -m, found -q/);
    expect(() => ipvs.parse({ stdout: 'F-\nF-\n', status: 0 }, spec)).toThrow(/no status line/);
  });

  it('reads both distro save files, and an explicit one after them, each quoted', () => {
    const explicit = ipvs.schema.parse({ services: [], save_file: "/etc/lvs/it's.rules" });
    const probe = ipvs.probe(explicit);
    const files = [...probe.matchAll(/if \[ -f (\S+|'[^']*(?:'\\''[^']*)*') \]/g)].map((match) => match[1]);
    expect(files).toEqual(['/etc/sysconfig/ipvsadm', '/etc/ipvsadm.rules', "'/etc/lvs/it'\\''s.rules'"]);
    expect(ipvs.key(spec)).toBe(ipvs.key(explicit));
  });
});
