import { existsSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { bootGuest, ensureInitramfs, ensureKernel, forwardArgv, LabPrerequisiteError, type Guest } from '../../src/lab/qemu/index.js';
import { run } from '../../src/lab/qemu/run.js';

// One real boot of Debian's kernel under qemu (TCG) for the whole file: boots take tens of
// seconds. Without root, qemu or a kernel the suite is skipped with the reason, except in CI
// (CI=true), where a missing prerequisite is a failure: the lab must work there.

const repoRoot = join(import.meta.dirname, '..', '..');
let guest: Guest | undefined;
let skipReason = 'the guest did not boot';

beforeAll(async () => {
  try {
    guest = await bootGuest({ log: (line) => console.info(`[qemu-guest] ${line}`) });
    const { bootMs, guestUptimeMs, firstLoginMs } = guest.timings;
    console.info(`[qemu-guest] boot ${bootMs} ms (guest uptime at ready ${guestUptimeMs} ms), first ssh login ${firstLoginMs} ms`);
  } catch (error) {
    if (error instanceof LabPrerequisiteError && process.env.CI !== 'true') {
      skipReason = `qemu lab prerequisite missing: ${error.message}`;
      console.warn(`[qemu-guest] skipping: ${skipReason}`);
      return;
    }
    throw error;
  }
}, 900_000);

afterAll(async () => {
  await guest?.stop();
}, 120_000);

function booted(context: TestContext): Guest {
  if (!guest) context.skip(skipReason);
  return guest as Guest;
}

async function ok(g: Guest, argv: string[] | { script: string }): Promise<string> {
  const result = await g.run(argv);
  expect(result.code, `${JSON.stringify(argv)} failed: ${result.stderr}`).toBe(0);
  return result.stdout;
}

describe('qemu guest with a real Debian kernel', () => {
  it('runs the downloaded kernel, not the machine kernel', async (context) => {
    const g = booted(context);
    const guestRelease = (await ok(g, ['uname', '-r'])).trim();
    expect(guestRelease).toBe(g.kernel.release);
    expect(guestRelease).not.toBe(release());
  });

  it('has IPVS loaded: /proc/net/ip_vs exists', async (context) => {
    const g = booted(context);
    expect((await g.run(['test', '-e', '/proc/net/ip_vs'])).code).toBe(0);
    expect(await ok(g, ['cat', '/proc/net/ip_vs'])).toMatch(/^IP Virtual Server version/);
  });

  it('takes an IPVS virtual service and saves it back', async (context) => {
    const g = booted(context);
    await ok(g, ['ipvsadm', '-A', '-t', '198.51.100.50:80', '-s', 'wrr']);
    const saved = await ok(g, ['ipvsadm', '-S', '-n']);
    expect(saved.split('\n')).toContain('-A -t 198.51.100.50:80 -s wrr');
    await ok(g, ['ipvsadm', '-D', '-t', '198.51.100.50:80']);
    expect(await ok(g, ['ipvsadm', '-S', '-n'])).not.toContain('198.51.100.50');
  });

  it('has IPIP: tunl0 exists', async (context) => {
    const g = booted(context);
    expect(await ok(g, ['ip', 'link', 'show', 'tunl0'])).toContain('tunl0');
  });

  it('claims only host routes on qemu network, leaving 198.18.0.0/15 to labs', async (context) => {
    const g = booted(context);
    expect((await ok(g, ['ip', '-4', 'route', 'show'])).trim()).toBe('198.18.0.2 dev eth0 scope link');
    expect(await ok(g, ['ip', '-4', '-br', 'addr', 'show', 'dev', 'eth0'])).toContain('198.18.0.15/32');
  });

  it('forwards TCP from the machine to a namespace inside the guest (the jump-host path)', async (context) => {
    const g = booted(context);
    const setup = `set -e
ip netns add lvsq-web
ip link add lvsq-w0 type veth peer name eth0 netns lvsq-web
ip addr add 192.0.2.1/24 dev lvsq-w0
ip link set lvsq-w0 up
ip -n lvsq-web link set lo up
ip -n lvsq-web addr add 192.0.2.80/24 dev eth0
ip -n lvsq-web link set eth0 up
mkdir -p /tmp/lvsq-www
echo "served from $(uname -r) in lvsq-web" > /tmp/lvsq-www/index.html
ip netns exec lvsq-web busybox httpd -p 192.0.2.80:8080 -h /tmp/lvsq-www
`;
    const teardown = 'for pid in $(ip netns pids lvsq-web); do kill "$pid"; done; ip netns del lvsq-web; rm -rf /tmp/lvsq-www';
    try {
      const started = await g.run({ script: setup });
      expect(started.code, started.stderr).toBe(0);
      const started2 = Date.now();
      const response = await run(forwardArgv(g.endpoint, '192.0.2.80', 8080), { input: 'GET /index.html HTTP/1.0\r\n\r\n', timeoutMs: 60_000 });
      console.info(`[qemu-guest] HTTP through ssh -W into a guest namespace: ${Date.now() - started2} ms`);
      expect(response.stdout).toMatch(/^HTTP\/1\.[01] 200/);
      expect(response.stdout).toContain(`served from ${g.kernel.release} in lvsq-web`);
    } finally {
      await g.run({ script: teardown });
    }
  });

  it('sees node and this repository through the shared root', async (context) => {
    const g = booted(context);
    const packageJson = join(repoRoot, 'package.json');
    const started = Date.now();
    const name = await ok(g, ['node', '-e', 'process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).name)', packageJson]);
    const roundTripMs = Date.now() - started;
    expect(name).toBe('lvsprov');
    // The node start-up alone, timed inside the guest, apart from the SSH round trip.
    const timed = await ok(g, { script: 'a=$(date +%s%N); node -e 1; b=$(date +%s%N); echo $(( (b - a) / 1000000 ))' });
    console.info(`[qemu-guest] node -e 1 in the guest: ${timed.trim()} ms; node over ssh incl. round trip: ${roundTripMs} ms`);
  });

  it('builds network namespaces joined by veth pairs on a bridge, and they reach each other', async (context) => {
    const g = booted(context);
    // A switch namespace holding a bridge and two hosts plugged into it, all inside the guest.
    const script = `set -e
ip netns add lvsq-sw
ip netns add lvsq-a
ip netns add lvsq-b
ip -n lvsq-sw link add br0 type bridge
ip -n lvsq-sw link set br0 up
for h in a b; do
  ip link add "v-$h" netns lvsq-sw type veth peer name eth0 netns "lvsq-$h"
  ip -n lvsq-sw link set "v-$h" master br0 up
  ip -n "lvsq-$h" link set lo up
  ip -n "lvsq-$h" link set eth0 up
done
ip -n lvsq-a addr add 192.0.2.11/24 dev eth0
ip -n lvsq-b addr add 192.0.2.12/24 dev eth0
ip netns exec lvsq-a ping -c 2 -W 5 192.0.2.12
ip netns exec lvsq-b ip -br addr show eth0
`;
    const started = Date.now();
    const result = await g.run({ script });
    const cleanup = await g.run({ script: 'for n in lvsq-a lvsq-b lvsq-sw; do ip netns del "$n"; done' });
    console.info(`[qemu-guest] 3 namespaces + bridge + 2 veth + ping: ${Date.now() - started} ms`);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/2 received/);
    expect(result.stdout).toContain('192.0.2.12/24');
    expect(cleanup.code, cleanup.stderr).toBe(0);
  });

  it('reuses the cached kernel and initramfs without apt, dpkg, cpio or busybox', async (context) => {
    const g = booted(context);
    // With no tools reachable, any attempt to download or rebuild would throw.
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      const byName = await ensureKernel({ packageName: g.kernel.packageName });
      expect(byName.root).toBe(g.kernel.root);
      const fallback = await ensureKernel();
      expect(fallback.release).toBe(g.kernel.release);
      expect(existsSync(await ensureInitramfs(g.kernel))).toBe(true);
    } finally {
      process.env.PATH = path;
    }
  });

  it('stops: the guest powers off, no qemu process remains, the work dir is gone', async (context) => {
    const g = booted(context);
    const started = Date.now();
    await g.stop();
    console.info(`[qemu-guest] stop took ${Date.now() - started} ms`);
    // qemu is this process's child: stop() returns once it has exited, and node reaps the zombie
    // on its next turn of the event loop. Give that a bounded moment, then the pid must be gone.
    for (let i = 0; i < 50; i++) {
      try {
        process.kill(g.pid, 0);
      } catch {
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(() => process.kill(g.pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
    expect(existsSync(g.workDir)).toBe(false);
  });
});
