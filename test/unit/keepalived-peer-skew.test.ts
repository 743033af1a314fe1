import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keepalived } from '../../src/resources/keepalived.js';

// A director dropped from its VRRP groups stops keepalived in prepare; where it held the VIPs, the
// step waits out the longest peer skew after its priority 0 advert, so that its peers' reload in
// balance does not restart their master-down timer before one of them took the VIPs. Whether it
// held them is read on the host before the stop (ka_held): here that read runs for real, in a
// private network namespace with the VIP on eth0 or not.

const fixture = JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/resources/keepalived/in-sync-runs-no-check.json'), 'utf8')) as { spec: unknown; output: { stdout: string; status: number } };
const spec = keepalived.schema.parse(fixture.spec);
const facts = keepalived.parse(fixture.output, spec);

/** ka_held as the stop's first command leaves it, on a host whose eth0 holds `addresses`. */
function heldAfterFirstCommand(addresses: readonly string[]): string {
  const [stop] = keepalived.reset?.plan(spec, facts, { host: 'dir1', pruning: true }) ?? [];
  expect(stop?.phase).toBe('prepare');
  const script = [
    'ip link add eth0 type veth peer name peer0',
    'ip link set eth0 up',
    'ip addr add 192.0.2.10/24 dev eth0',
    ...addresses.map((address) => `ip addr add ${address} dev eth0 label eth0:1`),
    stop?.commands[0] ?? 'false',
    'printf %s "$ka_held"',
  ].join('\n');
  const result = spawnSync('unshare', ['-n', 'sh', '-c', script], { encoding: 'utf8' });
  expect(result.status, result.stderr).toBe(0);
  return result.stdout;
}

describe('a master dropped from VRRP: the stop in prepare knows whether it held the VIPs', () => {
  it('the VIP on eth0: held, so the step waits out the skew after the stop', () => {
    expect(heldAfterFirstCommand(['198.51.100.50/32'])).toBe('1');
  });

  it('no VIP (a backup, or a master that lost it): not held, no wait', () => {
    expect(heldAfterFirstCommand([])).toBe('0');
  });

  it('another address that begins the same (198.51.100.5) is not the VIP', () => {
    expect(heldAfterFirstCommand(['198.51.100.5/32'])).toBe('0');
  });
});
