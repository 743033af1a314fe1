import { describe, expect, it } from 'vitest';
import { addressLabel, vipInterfaceName } from '../../src/config/values.js';
import { vipLabel } from '../../src/config/vip-label.js';

// A director's VIP label comes from the VIP alone, so adding or removing another VIP renames none
// (keepalived's reload and the address task both take a relabelled VIP off and put it back).

describe('vipLabel', () => {
  it('is the device and the whole address in hex where the device leaves room (6 characters or fewer)', () => {
    expect(vipLabel('eth0', '198.51.100.50')).toBe('eth0:c6336432');
    expect(vipLabel('eth0', '192.0.2.1')).toBe('eth0:c0000201');
    expect(vipLabel('enp1s0', '203.0.113.255')).toBe('enp1s0:cb0071ff');
    // Leading zero digits stay, so every label of a device has the same length.
    expect(vipLabel('lo', '0.0.0.1')).toBe('lo:00000001');
  });

  it('keeps the last digits a longer device leaves room for, never more than 15 characters', () => {
    expect(vipLabel('eth0.100', '198.51.100.50')).toBe('eth0.100:336432');
    expect(vipLabel('a23456789012', '198.51.100.50')).toBe('a23456789012:32');
    expect(vipLabel('a234567890123', '198.51.100.50')).toBe('a234567890123:2');
    for (const device of ['eth0', 'enp1s0', 'enp0s31f6', 'eth0.100', 'a234567890123'])
      for (const address of ['192.0.2.1', '198.51.100.50', '255.255.255.255']) {
        const label = vipLabel(device, address);
        expect(label.length, label).toBeLessThanOrEqual(15);
        expect(addressLabel.max(15).safeParse(label).success, label).toBe(true);
        expect(label.startsWith(`${device}:`)).toBe(true);
      }
  });

  it('the longest device a VIP may have still gets a label', () => {
    const longest = 'a234567890123';
    expect(vipInterfaceName.safeParse(longest).success).toBe(true);
    expect(vipInterfaceName.safeParse(`${longest}4`).success).toBe(false);
  });

  it('differs between the VIPs of a device short enough for the whole address', () => {
    const addresses = ['198.51.100.50', '198.51.100.51', '203.0.113.50', '192.0.2.50', '198.18.0.50'];
    expect(new Set(addresses.map((address) => vipLabel('eth0', address))).size).toBe(addresses.length);
  });
});
