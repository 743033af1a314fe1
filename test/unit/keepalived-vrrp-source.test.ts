import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resourceTypes } from '../../src/resources/registry.js';
import { keepalivedSchema, type KeepalivedSpec } from '../../src/resources/keepalived/schema.js';
import { probeSnippet, probeSnippetWithoutAddresses } from '../../src/resources/keepalived/probe.js';
import { ADDRESSES_SNIPPET, misplacedVrrpSource, parseAddressLines } from '../../src/resources/keepalived/vrrp-source.js';

// keepalived binds a VRRP instance to its interface: one whose unicast source (the director's own
// address) is on another device sends its adverts where its peers never hear them, and both
// directors hold the VIPs. lvs.ha runs VRRP on the VIPs' interface when every VIP names one: a
// director with its address on eth0 and its VIPs on eth2 split its pair's brain. The read lists
// the host's addresses, and the planner refuses such an instance before it changes anything.

const fixture = JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/resources/keepalived/fresh-director-writes-tests-enables-starts.json'), 'utf8')) as { spec: unknown; output: { stdout: string; status: number } };
const onDevice = (spec: KeepalivedSpec, device: string): KeepalivedSpec => ({ ...spec, instances: spec.instances.map((instance) => ({ ...instance, interface: device })) });
const keepalived = resourceTypes.keepalived;
const ipLines = ['D eth0', 'D eth2', 'D eth2.7', 'D lo', '1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever', '2: eth0    inet 192.0.2.10/24 brd 192.0.2.255 scope global eth0\\       valid_lft forever preferred_lft forever', '3: eth2.7@eth2    inet 198.51.100.9/24 scope global eth2.7\\       valid_lft forever preferred_lft forever'];

describe("a VRRP instance's unicast source", () => {
  const spec = keepalivedSchema.parse(fixture.spec);

  it("reads the devices and the addresses of ip -o lines, this host's own included", () => {
    expect(parseAddressLines(ipLines)).toEqual({
      devices: ['eth0', 'eth2', 'eth2.7', 'lo'],
      addresses: [
        { device: 'lo', address: '127.0.0.1' },
        { device: 'eth0', address: '192.0.2.10' },
        { device: 'eth2.7', address: '198.51.100.9' },
      ],
    });
    // The read's own shell text, run here: this host's devices and addresses.
    const here = spawnSync('sh', ['-c', ADDRESSES_SNIPPET], { encoding: 'utf8' }).stdout.split('\n');
    expect(here[0]).toBe('A+');
    const read = parseAddressLines(here);
    expect(read.devices).toContain('lo');
    expect(read.addresses).toContainEqual({ device: 'lo', address: '127.0.0.1' });
  });

  it('held by another device than the instance runs on is refused, naming the device to run on', () => {
    const held = parseAddressLines(ipLines);
    expect(misplacedVrrpSource(spec, held, 'dir1')).toBeUndefined();
    expect(misplacedVrrpSource(onDevice(spec, 'eth2'), held, 'dir1')).toBe(
      'VRRP instance VI_51 would run on eth2, but dir1 holds its unicast source 192.0.2.10 on eth0: keepalived sends the instance\'s adverts out of eth2 alone, ' +
        'so its peers would never hear them and each director would hold the VIPs; set lvs.ha.interface to eth0 (the VIPs may keep their own interface)',
    );
    // Not on the host yet (a task of the same run may add it): not judged.
    expect(misplacedVrrpSource(onDevice(spec, 'eth2'), { ...held, addresses: held.addresses.filter((entry) => entry.device !== 'eth0') }, 'dir1')).toBeUndefined();
    // An interface the host does not have: keepalived -t refuses that config, naming it.
    expect(misplacedVrrpSource(onDevice(spec, 'eth9'), held, 'dir1')).toBeUndefined();
  });

  it("the keepalived task's read lists the addresses, and its plan refuses before any change; a read without the list plans as before", () => {
    expect(probeSnippet(spec)).toContain("ip -o -4 addr show");
    expect(keepalived.legacyProbes?.(spec)).toContain(probeSnippetWithoutAddresses(spec));
    const listed = { ...fixture.output, stdout: `${fixture.output.stdout}A+\n${ipLines.join('\n')}\nA-\n` };
    const context = { host: 'dir1' };
    expect(() => keepalived.plan(onDevice(spec, 'eth2'), keepalived.parse(listed, onDevice(spec, 'eth2')), context)).toThrow(/VRRP instance VI_51 would run on eth2, but dir1 holds its unicast source 192\.0\.2\.10 on eth0/);
    expect(keepalived.plan(spec, keepalived.parse(listed, spec), context).length).toBeGreaterThan(0);
    expect(keepalived.plan(onDevice(spec, 'eth2'), keepalived.parse(fixture.output, onDevice(spec, 'eth2')), context).length).toBeGreaterThan(0);
  });
});
