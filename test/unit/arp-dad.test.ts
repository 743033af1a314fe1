import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { applyScript, parseSections } from '../../src/engine/batch-script.js';
import { dadCheck } from '../../src/resources/arp-dad.js';

// The check a new holder of a moved VIP runs before adding it when its old holder's fate is
// unknown, on a real kernel and the real arping, in an anonymous network namespace: a veth pair,
// the check asking on one end (`va`, the new holder's LAN port), the other end (`vb`) standing for
// the segment's other hosts. The kernel answers ARP there exactly as on two hosts: for an address
// of `vb` (a director that still holds the VIP), and, for an address on lo, only while
// arp_ignore is 0 (a DR real server's VIP on lo with arp_ignore=1 does not answer).

const run = promisify(execFile);
const VIP = '198.51.100.50';
const NONCE = 'dad0';
const dir = mkdtempSync(join(tmpdir(), 'lvsprov-dad-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let scripts = 0;

/** The check as an apply script's one section runs it, after `setup` in a fresh network namespace. */
async function check(setup: string[], device = 'va'): Promise<{ status: number | undefined; output: string; mac: string }> {
  const lan = ['ip link add va type veth peer name vb', 'ip link set va up', 'ip link set vb up', 'ip link set lo up'];
  const file = join(dir, `apply-${(scripts += 1)}.sh`);
  writeFileSync(file, applyScript(NONCE, [[dadCheck(VIP, device)]]));
  const shell = [...lan, ...setup, "ip -br link show vb | awk '{print $3}'", `sh ${file}`].join('\n');
  const { stdout } = await run('unshare', ['-n', 'sh', '-c', shell]).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }));
  const [mac = '', ...rest] = stdout.split('\n');
  const section = parseSections(NONCE, rest.join('\n')).get(0);
  return { status: section?.status, output: section?.stdout.trim() ?? '', mac };
}

describe('asking the segment who answers ARP for a VIP before taking it over (arping -D)', () => {
  it.concurrent('a host on the segment holds it (an old director that did not let it go): fails, naming its MAC', async () => {
    const { status, output, mac } = await check([`ip addr add ${VIP}/32 dev vb`]);
    expect(status, output).toBe(1);
    expect(output).toBe(`${VIP} on va is still answered for by ${mac} (arping -D): not added, two holders would split the router's clients`);
  });

  it.concurrent('nobody holds it (the old director let it go, or is down): passes, after the probes', async () => {
    const { status, output } = await check([]);
    expect(status, output).toBe(0);
    expect(output).toBe('');
  });

  it.concurrent('a DR real server holds it on lo with arp_ignore=1: it does not answer, so it does not count', async () => {
    const { status, output } = await check([`ip addr add ${VIP}/32 dev lo label lo:0`, 'sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.vb.arp_ignore=1 net.ipv4.conf.all.arp_announce=2']);
    expect(status, output).toBe(0);
  });

  it.concurrent('the same real server with arp_ignore=0 answers for it, and counts: it would take the traffic too', async () => {
    const { status, output, mac } = await check([`ip addr add ${VIP}/32 dev lo label lo:0`]);
    expect(status, output).toBe(1);
    expect(output).toContain(`is still answered for by ${mac} (arping -D)`);
  });

  it.concurrent('a device with no ARP (lo: iputils says so and exits 0): fails, it could not ask', async () => {
    const { status, output } = await check([], 'lo');
    expect(status, output).toBe(1);
    expect(output).toMatch(new RegExp(`^arping -D -c 2 -w 2 -I lo ${VIP.replaceAll('.', '\\.')} could not ask who answers for ${VIP.replaceAll('.', '\\.')} on lo \\(exit 0\\), so it is not added:\\nInterface "lo" is not ARPable`));
  });

  it.concurrent('a device that does not exist: fails with arping\'s own words', async () => {
    const { status, output } = await check([], 'eth9');
    expect(status, output).toBe(1);
    expect(output).toContain(`could not ask who answers for ${VIP} on eth9 (exit 2), so it is not added:\narping: Device eth9 not available.`);
  });

  it('no arping on the host: fails saying so, and asks nothing', async () => {
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    for (const tool of ['sh', 'sed', 'tr', 'sort', 'grep']) symlinkSync(`/bin/${tool}`, join(bin, tool));
    const { stdout, code } = await run('/bin/sh', ['-c', `{ set -e\n${dadCheck(VIP, 'eth0')}\n}`], { env: { PATH: bin } }).then(
      (done) => ({ ...done, code: 0 }),
      (error: { stdout?: string; code?: number }) => ({ stdout: error.stdout ?? '', code: error.code }),
    );
    expect(code).toBe(1);
    expect(stdout.trim()).toBe(`no arping on this host (iputils-arping or busybox): cannot ask whether anyone still answers ARP for ${VIP} on eth0, so it is not added`);
  });
});
