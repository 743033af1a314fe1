import { describe, expect, it } from 'vitest';
import { sysctl } from '../../src/resources/sysctl.js';
import { kernelDefault, parseOriginals } from '../../src/resources/sysctl-originals.js';

// The parts of the originals record that real hosts rarely show: odd lines, keys without a
// known default, and a record that is not a value lvsprov would pass to a shell.

describe('sysctl originals', () => {
  it('reads only the task keys, the first line of each, and skips lines without a name', () => {
    const lines = ['O net.ipv4.ip_forward=0', 'O net.ipv4.ip_forward=1', 'O =5', 'O garbage', 'O net.ipv4.tcp_rmem=4096 131072 6291456', 'R x 1'];
    expect(parseOriginals(lines, ['net.ipv4.ip_forward', 'net.ipv4.tcp_rmem', 'net.ipv4.conf.all.rp_filter'])).toEqual({
      'net.ipv4.ip_forward': '0',
      'net.ipv4.tcp_rmem': '4096 131072 6291456',
    });
  });

  it('knows the kernel defaults of the keys the roles set, and no others', () => {
    const runtime = { 'net.ipv4.conf.default.rp_filter': '2' };
    expect(kernelDefault('net.ipv4.ip_forward', runtime)).toBe('0');
    expect(kernelDefault('net.ipv4.conf.lo.arp_ignore', runtime)).toBe('0');
    expect(kernelDefault('net.ipv4.conf.all.arp_announce', runtime)).toBe('0');
    expect(kernelDefault('net.ipv4.conf.tunl0.rp_filter', runtime)).toBe('2');
    expect(kernelDefault('net.ipv4.conf.eth0/100.rp_filter', runtime)).toBe('2');
    expect(kernelDefault('net.ipv4.conf.all.rp_filter', runtime)).toBe('0');
    expect(kernelDefault('net.ipv4.conf.tunl0.rp_filter', {})).toBeNull();
    expect(kernelDefault('net.ipv4.tcp_rmem', runtime)).toBeNull();
  });

  it('refuses to restore a recorded value that is not a plain sysctl value', () => {
    const spec = sysctl.schema.parse({ values: { 'net.ipv4.ip_forward': 1 } });
    const facts = sysctl.parse({ stdout: "R net.ipv4.ip_forward 1\nF-\nO net.ipv4.ip_forward=0;reboot\n", status: 0 }, spec);
    expect(() => sysctl.reset?.plan(spec, facts, { host: 'rs1' })).toThrow(/recorded for net\.ipv4\.ip_forward .* not a plain sysctl value: 0;reboot/);
  });
});
