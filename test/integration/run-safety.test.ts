import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labAvailability, skipLabSuite, type Lab } from '../../src/lab/netns/index.js';
import { parseJson, runCli, startCli, type CliResult, type JsonHost } from '../support/cli.js';
import { drInventory, startDrLab, VIP, writeInventory } from '../support/dr-lab.js';
import { labSh } from '../support/lab-sh.js';

// Runs that share hosts, interrupts and lost connections, on network-namespace hosts with real
// sshd. Everything is read back through nsenter; slowness is tc tbf inside a host's namespace, a
// dead host an nftables table there that drops everything.

const availability = labAvailability();
const limit = ['--limit', 'routers,realservers'];
const hosts = ['router', 'rs1', 'rs2'];

describe.skipIf(skipLabSuite(availability))(`runs that share hosts, interrupts, lost connections (${availability.reason})`, () => {
  let lab: Lab;
  let dir: string;
  let inventory: string;

  const sh = (host: string, script: string): Promise<string> => labSh(lab, host, script);
  const apply = (...args: string[]): Promise<CliResult> => runCli(['apply', '-i', inventory, ...limit, ...args], { namespace: lab.controlNamespace });
  const startApply = (...args: string[]) => startCli(['apply', '-i', inventory, ...limit, ...args], { namespace: lab.controlNamespace });
  const statuses = (result: CliResult): Array<[string, string]> => parseJson(result).hosts.map((host) => [host.host, host.status]);

  /** Undo part of what the roles did on every host, so that a run has changes to make everywhere. */
  const drift = (): Promise<unknown> =>
    Promise.all([
      sh('router', `sysctl -q -w net.ipv4.ip_forward=0; ip route del ${VIP}/32 2>/dev/null; true`),
      ...['rs1', 'rs2'].map((host) =>
        sh(host, `ip addr del ${VIP}/32 dev lo 2>/dev/null; sysctl -q -w net.ipv4.conf.all.arp_ignore=0 net.ipv4.conf.lo.arp_announce=0; rm -f /var/www/lvsprov/index.html`),
      ),
    ]);
  const slow = (host: string, rate: string): Promise<string> => sh(host, `tc qdisc replace dev eth0 root tbf rate ${rate} burst 1600 latency 400ms`);
  const unslow = (host: string): Promise<string> => sh(host, 'tc qdisc del dev eth0 root 2>/dev/null; true');
  /**
   * Reads waiting in their loop for this host's lock: processes with the lock file open (a read
   * opens it before it tries it) that sleep between tries, other than the shell that holds it (the
   * owner line's holder). A read that gives way to an older run ends without sleeping, so it is not counted. The
   * hosts share the machine's pid space, so the file is told apart by device and inode.
   */
  const lockWaiters = async (host: string): Promise<number> =>
    Number(
      (
        await sh(
          host,
          'lock=/run/lvsprov/run.lock; [ -e $lock ] || { echo 0; exit 0; }; id=$(stat -c %d:%i $lock); n=0; ' +
            'holder=$(sed -n "s/.* holder=\\([0-9]*\\) .*/\\1/p" /run/lvsprov/run.owner 2>/dev/null); ' +
            'for fd in $(find /proc/[0-9]*/fd -lname $lock 2>/dev/null); do ' +
            'pid=${fd#/proc/}; pid=${pid%%/*}; ' +
            '[ "$(stat -L -c %d:%i $fd 2>/dev/null)" = "$id" ] || continue; ' +
            '[ "$pid" = "$holder" ] && continue; ' +
            'case "$(tr "\\0" " " </proc/$pid/cmdline 2>/dev/null)" in sleep*|"") continue ;; esac; ' +
            'pgrep -P $pid sleep >/dev/null && n=$((n + 1)); done; echo $n',
        )
      ).trim(),
    );
  /**
   * Hold a host's apply at its first `ip` command whose words start with `words`: an `ip` ahead of
   * the real one on the host's PATH waits there until released, whatever the timing.
   */
  const holdIp = (host: string, words: string): Promise<string> =>
    sh(host, `mkdir -p /usr/local/sbin && printf '%s\\n' '#!/bin/sh' 'case "$*" in "${words}"*) touch /tmp/lvsprov-ip.held; while [ ! -e /tmp/lvsprov-ip.release ]; do sleep 0.1; done ;; esac' 'exec /bin/ip "$@"' >/usr/local/sbin/ip && chmod 755 /usr/local/sbin/ip`);
  const ipHeld = async (host: string): Promise<boolean> => (await sh(host, '[ -e /tmp/lvsprov-ip.held ] && echo held; true')).trim() === 'held';
  const releaseIp = (host: string): Promise<string> => sh(host, 'touch /tmp/lvsprov-ip.release; rm -f /usr/local/sbin/ip; sleep 0.5; rm -f /tmp/lvsprov-ip.held /tmp/lvsprov-ip.release');
  const converged = async (): Promise<void> => {
    const again = await apply('--json');
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(parseJson(again).hosts.map((host) => [host.host, host.status, host.changes.length])).toEqual(hosts.map((host) => [host, 'ok', 0]));
  };
  const until = async (what: string, check: () => Promise<boolean>, seconds = 60): Promise<void> => {
    const deadline = Date.now() + seconds * 1000;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  beforeAll(async () => {
    if (!availability.ok) throw new Error(`the netns lab is unavailable in CI: ${availability.reason}`);
    ({ lab, dir } = await startDrLab('itsafe'));
    const base = drInventory(lab) as { hosts: Record<string, Record<string, unknown>> };
    // rs1 is given up sooner than the default 40 s (the black-hole test below): the inventory's
    // keepalive settings, per host, reach its connection.
    const hosts = { ...base.hosts, rs1: { ...base.hosts.rs1, ssh: { server_alive_interval: 3, server_alive_count_max: 2 } } };
    inventory = writeInventory(dir, 'inventory.yaml', { ...base, hosts });
    expect((await apply()).code).toBe(0);
  });

  afterAll(async () => {
    const report = await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
    expect(report?.leftovers ?? []).toEqual([]);
  });

  it('two applies at once on the same hosts, 5 rounds: the second waits for the first, reads afresh and finds every host done', async () => {
    for (let round = 1; round <= 5; round += 1) {
      await drift();
      // The overlap is arranged, not hoped for: the first run is held at the router's route
      // change (it holds the router's lock until its last wave), frozen there (SIGSTOP), and let go
      // only once the second run is seen waiting for one of its locks.
      await holdIp('router', 'route replace ');
      const first = startApply('--json');
      await until(`round ${round}: the first run to reach the router's route change`, () => ipHeld('router'));
      first.child.kill('SIGSTOP');
      await releaseIp('router');
      const second = startApply('--json');
      await until(`round ${round}: the second run to wait for a host lock`, async () => (await Promise.all(hosts.map(lockWaiters))).some((count) => count > 0));
      first.child.kill('SIGCONT');
      const [a, b] = await Promise.all([first.done, second.done]);
      const both = `round ${round}\n${a.stdout}${a.stderr}\n${b.stdout}${b.stderr}`;
      expect([a.code, b.code], both).toEqual([0, 0]);
      // The first run made every change; the second found nothing left to do on any host.
      expect(statuses(a), both).toEqual(hosts.map((host) => [host, 'changed']));
      expect(statuses(b), both).toEqual(hosts.map((host) => [host, 'ok']));
      const waited = parseJson(b).hosts.filter((host) => host.lock);
      expect(waited.length, both).toBeGreaterThan(0);
      for (const host of waited) expect(host.lock?.heldBy).toMatch(new RegExp(`^lvsprov pid ${first.child.pid} on \\S+, started \\d{4}-`));
      // And its progress says so, one line per host it waited for.
      const lines = b.stderr.match(/^(\S+): waited \d+\.\d s for the host lock held by lvsprov pid \d+ on \S+, started \S+, which reaches it as \1; read afresh$/gm) ?? [];
      expect(lines.length, both).toBe(waited.length);
      console.log(`round ${round}: the second run waited on ${waited.map((host) => `${host.host} ${host.lock?.waitedSeconds.toFixed(1)} s`).join(', ')}`);
    }
    await converged();
  }, 600_000);

  it("a run gives each host's lock up as it closes that connection: the moment it exits, every lock is free and its holder gone", async () => {
    // The shell that holds a host's lock ends as its input does: nothing of the run holds it after.
    const locks = (): Promise<string[]> =>
      Promise.all(
        hosts.map(async (host) =>
          (
            await sh(
              host,
              "holder=$(sed -n 's/.* holder=\\([0-9]*\\) .*/\\1/p' /run/lvsprov/run.owner); " +
                'if flock -n /run/lvsprov/run.lock true; then echo free; else echo held; fi; ' +
                'if [ -n "$holder" ] && [ -d /proc/$holder ]; then echo "holder $holder alive"; else echo holder gone; fi',
            )
          ).trim(),
        ),
      );
    await drift();
    const changed = await apply('--json');
    expect(changed.code, changed.stdout + changed.stderr).toBe(0);
    expect(await locks()).toEqual(hosts.map(() => 'free\nholder gone'));
    const unchanged = await apply('--json');
    expect(statuses(unchanged)).toEqual(hosts.map((host) => [host, 'ok']));
    expect(await locks()).toEqual(hosts.map(() => 'free\nholder gone'));
  }, 120_000);

  it('a run killed with kill -9 leaves no lock behind: the next run proceeds at once and converges', async () => {
    await drift();
    await slow('rs1', '24kbit');
    const first = startApply('--json');
    // Killed while it holds rs1's lock (its owner file names it) and applies there.
    await until('the first run to hold rs1', async () => (await sh('rs1', 'cat /run/lvsprov/run.owner 2>/dev/null; true')).includes(`pid=${first.child.pid} `));
    await until('the first run to apply on rs1', async () => (await sh('rs1', 'sysctl -n net.ipv4.conf.all.arp_ignore')).trim() === '1');
    first.child.kill('SIGKILL');
    await first.done;
    await unslow('rs1');

    const started = Date.now();
    const next = await apply('--json', '--lock-timeout', '30');
    console.log(`kill -9: the next run took ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(next.code, next.stdout + next.stderr).toBe(0);
    expect((Date.now() - started) / 1000).toBeLessThan(20);
    await converged();
  }, 180_000);

  it('one machine under two names (rs2 by its address and by a second address of it): the name read second fails at once, naming the other, in --check as in apply; the rest converges', async () => {
    // A second address on rs2, known to the control host under rs2's key, and an inventory that
    // names the machine twice: no check of the inventory can tell the two addresses are one host.
    await sh('rs2', 'ip addr add 192.0.2.112/24 dev eth0');
    try {
      const known = readFileSync(lab.knownHostsPath, 'utf8');
      const rs2Key = known.split('\n').find((line) => line.startsWith('192.0.2.12 '))?.slice('192.0.2.12 '.length);
      expect(rs2Key).toBeDefined();
      const knownHosts = join(dir, 'known_hosts.twice');
      writeFileSync(knownHosts, `${known}192.0.2.112 ${rs2Key}\n`);
      const base = drInventory(lab, { knownHosts }) as { groups: Record<string, { hosts: string[] }>; hosts: Record<string, unknown> };
      const twice = writeInventory(dir, 'twice.yaml', {
        ...base,
        groups: { ...base.groups, realservers: { hosts: ['rs1', 'rs2', 'rs2-again'] } },
        hosts: { ...base.hosts, 'rs2-again': { address: '192.0.2.112' } },
      });
      const twiceMessage = (first: string | undefined): string =>
        `this run reached this machine already, as host ${first}: the inventory names one machine twice (two of its addresses, or an address and a DNS name); list it once`;
      // A check takes no lock: its reads say which machine answered, and it fails the same name the apply would.
      const checked = await runCli(['apply', '--check', '-i', twice, ...limit, '--json'], { namespace: lab.controlNamespace });
      expect(checked.code, checked.stdout + checked.stderr).toBe(2);
      const checkedFailed = parseJson(checked).hosts.filter((host) => host.status === 'failed');
      expect(checkedFailed.map((host) => host.host), checked.stdout).toHaveLength(1);
      expect(checkedFailed[0]?.error?.message).toBe(twiceMessage(checkedFailed[0]?.host === 'rs2' ? 'rs2-again' : 'rs2'));
      expect(parseJson(checked).hosts.filter((host) => host.status !== 'failed').map((host) => host.host).sort()).toEqual(['router', 'rs1', checkedFailed[0]?.host === 'rs2' ? 'rs2-again' : 'rs2'].sort());

      const result = await runCli(['apply', '-i', twice, ...limit, '--json'], { namespace: lab.controlNamespace });
      expect(result.code, result.stdout + result.stderr).toBe(2);
      const json = parseJson(result);
      const failed = json.hosts.filter((host) => host.status === 'failed');
      // Whichever of the two read first holds the lock; the other stops before its read.
      expect(failed.map((host) => host.host), result.stdout).toHaveLength(1);
      const [loser] = failed;
      const winner = loser?.host === 'rs2' ? 'rs2-again' : 'rs2';
      expect(loser?.error?.message).toBe(twiceMessage(winner));
      expect(loser?.changes).toEqual([]);
      // The winner is provisioned as the host it was named (rs2-again's test page says so).
      expect(json.hosts.filter((host) => host.host !== loser?.host).map((host) => [host.host, host.status === 'failed' ? 'failed' : 'done'])).toEqual([
        ['router', 'done'],
        ['rs1', 'done'],
        [winner, 'done'],
      ]);
    } finally {
      await sh('rs2', 'ip addr del 192.0.2.112/24 dev eth0');
    }
    expect((await apply()).code).toBe(0);
    await converged();
  }, 180_000);

  // SIGHUP is the terminal going (the operator's ssh session to the control node dropped).
  it.each(['SIGINT', 'SIGHUP'] as const)('%s during an apply: the running host finishes, the others are not started, exit 130 with a recap; the re-run converges', async (signal) => {
    await drift();
    // One host at a time: the router is applying when the interrupt comes (held at its route
    // change until the interrupt is sent), the real servers wait.
    await holdIp('router', 'route replace ');
    const run = startApply('--forks', '1');
    await until('the router to reach its route change', () => ipHeld('router'));
    run.child.kill(signal);
    await releaseIp('router');
    const result = await run.done;
    expect(result.code, result.stdout + result.stderr).toBe(130);
    expect(result.stderr).toContain('interrupted: starting nothing new');
    expect(result.stdout).toMatch(/^router +: changed +ok=1 {2}changed=[1-9] /m);
    // The router's route is there: its apply ran to its end.
    expect((await sh('router', `ip -4 route show exact ${VIP}/32`)).trim()).toBe(`${VIP} dev eth1 scope link`);
    // Every host the interrupt stopped says so, and was left untouched.
    const stopped = ['rs1', 'rs2'].filter((host) => new RegExp(`^${host} +: interrupted .*interrupted before apply \\(nothing changed\\)$`, 'm').test(result.stdout));
    expect(stopped.length, result.stdout).toBeGreaterThan(0);
    for (const host of stopped) expect(await sh(host, 'ip -o -4 addr show dev lo')).not.toContain(VIP);
    expect(result.stdout).toContain(`INTERRUPTED: ${3 - stopped.length} host(s) ran to the end, ${stopped.length} stopped before applying`);

    const rerun = await apply('--json');
    expect(statuses(rerun)).toEqual(hosts.map((host) => [host, stopped.includes(host) ? 'changed' : 'ok']));
    await converged();
  }, 180_000);

  it('an interrupt gives up a host that does not answer its TCP connect at once, in apply and in status, not at its 60 s connect timeout', async () => {
    // rs1 drops every SYN to its sshd; its connect timeout is 60 s.
    const base = drInventory(lab) as { hosts: Record<string, Record<string, unknown>> };
    const patient = writeInventory(dir, 'patient.yaml', { ...base, hosts: { ...base.hosts, rs1: { ...base.hosts.rs1, ssh: { connect_timeout: 60 } } } });
    await sh('rs1', "nft add table inet lvsprov_synhole; nft 'add chain inet lvsprov_synhole in { type filter hook input priority -300; }'; nft add rule inet lvsprov_synhole in tcp dport 22 drop");
    try {
      const interrupted = async (args: readonly string[]): Promise<{ result: CliResult; seconds: number }> => {
        const run = startCli([...args, '-i', patient, ...limit], { namespace: lab.controlNamespace });
        // Long enough for the router and rs2 to be reached; rs1's SYNs go unanswered meanwhile.
        await new Promise((resolve) => setTimeout(resolve, 3_000));
        const signalled = Date.now();
        run.child.kill('SIGINT');
        const result = await run.done;
        return { result, seconds: (Date.now() - signalled) / 1000 };
      };
      const applied = await interrupted(['apply']);
      expect(applied.result.code, applied.result.stdout + applied.result.stderr).toBe(130);
      expect(applied.seconds).toBeLessThan(20);
      expect(applied.result.stdout).toMatch(/^rs1 +: interrupted .*interrupted before apply \(nothing changed\)$/m);
      expect(applied.result.stdout).not.toMatch(/unreachable=[1-9]/);
      for (const args of [['status'], ['status', '--watch', '5']]) {
        const status = await interrupted(args);
        expect(status.result.code, `${args.join(' ')}: ${status.result.stdout}${status.result.stderr}`).toBe(130);
        expect(status.seconds).toBeLessThan(20);
      }
    } finally {
      await sh('rs1', 'nft delete table inet lvsprov_synhole');
    }
    expect((await apply()).code).toBe(0);
    await converged();
  }, 180_000);

  it('an apply whose output nobody reads any more (`apply 2>&1 | head`) goes on to its end on every host and exits 0', async () => {
    await drift();
    // One host at a time, the router held at its route change; both readers go meanwhile. Every
    // line the run prints afterwards (the router's result, the waves of the real servers, the
    // recap) then fails with EPIPE.
    await holdIp('router', 'route replace ');
    const run = startApply('--forks', '1');
    await until('the router to reach its route change', () => ipHeld('router'));
    run.child.stdout?.destroy();
    run.child.stderr?.destroy();
    await releaseIp('router');
    const result = await run.done;
    expect(result.code, result.stdout + result.stderr).toBe(0);
    // Every host was changed: the real servers too, which the run reached only after its output had gone.
    for (const host of ['rs1', 'rs2']) expect(await sh(host, 'ip -o -4 addr show dev lo')).toContain(VIP);
    await converged();
  }, 180_000);

  it('a host black-holed mid-apply fails as a lost connection once its keepalives go unanswered (3 s x 3 here), its unconfirmed changes unknown; the others converge', async () => {
    await drift();
    // rs1's apply is held at its VIP address change (an `ip` on rs1's own PATH, ahead of the real
    // one, waits there until released), so that rs1 goes silent mid-apply whatever the timing:
    // its ARP sysctls made and reported, its address and test page not yet.
    await holdIp('rs1', 'addr add ');
    const run = startApply('--json');
    await until('rs1 to reach its address change', () => ipHeld('rs1'));
    // The hole swallows the run's own connection to rs1 only (by its client port), so that a later
    // run still reaches rs1 and finds out who holds its lock.
    const ports = (await sh('rs1', "ss -Htn state established '( sport = :22 )' | awk '{ n = split($4, a, \":\"); print a[n] }'")).trim().split('\n').filter(Boolean);
    expect(ports.length, 'the run holds one connection to rs1').toBe(1);
    const port = ports[0] as string;
    await sh('rs1', `nft add table inet lvsprov_blackhole; nft 'add chain inet lvsprov_blackhole in { type filter hook input priority -300; }'; nft 'add chain inet lvsprov_blackhole out { type filter hook output priority -300; }'; nft add rule inet lvsprov_blackhole in tcp sport ${port} tcp dport 22 drop; nft add rule inet lvsprov_blackhole out tcp sport 22 tcp dport ${port} drop`);
    const cut = Date.now();
    const result = await run.done;
    const seconds = (Date.now() - cut) / 1000;
    console.log(`black hole: the run ended ${seconds.toFixed(1)} s after rs1 stopped answering`);

    expect(result.code, result.stdout + result.stderr).toBe(2);
    // Given up 9 s after its last answer (the last keepalive answered came up to 3 s before the cut).
    expect(seconds).toBeGreaterThan(5);
    expect(seconds).toBeLessThan(15);
    const rs1 = parseJson(result).hosts.find((host) => host.host === 'rs1') as JsonHost;
    expect(rs1.status).toBe('failed');
    const made = rs1.outcomes?.filter((outcome) => outcome === 'made').length ?? 0;
    const unknown = rs1.outcomes?.filter((outcome) => outcome === 'unknown').length ?? 0;
    expect(rs1.error?.message).toBe(`connection lost during apply (no answer for 9 s): ${made} change(s) made, ${unknown} unknown (the host may have made them)`);
    // Every change of rs1's one wave either reported made or may have been made: none failed,
    // none is counted as not made.
    expect(made + unknown, JSON.stringify(rs1.outcomes)).toBe(rs1.changes.length);
    expect(made, JSON.stringify(rs1.outcomes)).toBeGreaterThan(0);
    expect(unknown, JSON.stringify(rs1.outcomes)).toBeGreaterThan(0);
    expect(statuses(result).filter(([host]) => host !== 'rs1')).toEqual([
      ['router', 'changed'],
      ['rs2', 'changed'],
    ]);

    // rs1's sshd never saw the connection close, so the lost run still holds rs1's lock: another
    // run fails rs1 naming it. (Its --lock-timeout counts from the run's start, connecting
    // included, so the wait on rs1 itself may round to 0 s.)
    const blocked = await apply('--json', '--lock-timeout', '1');
    const rs1Blocked = parseJson(blocked).hosts.find((host) => host.host === 'rs1') as JsonHost;
    expect(rs1Blocked.error?.message).toMatch(new RegExp(`^locked by another run: lvsprov pid ${run.child.pid} on \\S+, started \\S+, which reaches it as rs1; waited [01] s \\(--lock-timeout 1\\)$`));
    expect(blocked.code).toBe(2);
    // sshd drops that connection once TCP gives up on it; here the test ends it at once, and the
    // lock goes with it.
    // The owner line names the connection's process (conn=): its sshd. The shell that holds the
    // lock, still in the held change, keeps it until that change is done.
    await sh('rs1', 'kill "$(sed -n "s/.* conn=\\([0-9]*\\) .*/\\1/p" /run/lvsprov/run.owner)"');
    await sh('rs1', 'nft delete table inet lvsprov_blackhole');
    await releaseIp('rs1');
    const rerun = await apply('--json');
    expect(rerun.code, rerun.stdout + rerun.stderr).toBe(0);
    await converged();
  }, 180_000);
});
