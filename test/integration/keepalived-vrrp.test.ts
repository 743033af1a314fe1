import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { createLab, labAvailability, skipLabSuite, type Lab } from '../../src/lab/netns/index.js';
import { parseJson } from '../support/cli.js';
import { vrrpPair, writeKeepalivedPlaybook } from '../support/vrrp-pair.js';

// keepalived through lvsprov on two namespace hosts with real sshd: VRRP (unicast) between them
// decides which one holds the VIP. This machine's kernel has no IPVS, so the task here carries the
// VRRP instances only; the qemu lab proves the virtual servers. Read back through nsenter.

const availability = labAvailability();
const VIP = '198.51.100.50';
const API_VIP = '198.51.100.51';
const DIRECTORS = ['dir1', 'dir2'] as const;

describe.skipIf(skipLabSuite(availability))(`keepalived VRRP between two directors (${availability.reason})`, () => {
  let lab: Lab;
  let dir = '';
  let inventory = '';
  let playbook = '';

  const { sh, lvsprov, summaries, holders, heldBy, watch } = vrrpPair(() => lab, () => ({ inventory, playbook }), DIRECTORS, VIP);
  /** `ip -ts monitor address` on `host`'s eth0, in the background; its pid. */
  const startMonitor = async (host: string): Promise<string> =>
    (await sh(host, 'nohup ip -ts monitor address dev eth0 > /tmp/addr-mon.log 2>&1 < /dev/null & echo $!')).trim();
  /** Stops the monitor; the time of day (seconds) of its first event for `address`, a deletion or, with `''`, an addition. */
  const stopMonitor = async (host: string, pid: string, kind: 'Deleted' | '', address = VIP): Promise<number> => {
    await sh(host, `kill ${pid}`);
    const line = (await sh(host, 'cat /tmp/addr-mon.log')).split('\n').find((entry) => entry.includes(` ${address}/32 `) && (kind === 'Deleted') === entry.includes('Deleted'));
    // `[2026-12-04T15:21:29.856551]`: the hosts share the machine's clock.
    const [, h = '', m = '', s = ''] = /^\[[^T]+T(\d+):(\d+):([\d.]+)\]/.exec(line ?? '') ?? [];
    expect(s, `no ${kind || 'added'} event for ${address} on ${host}`).not.toBe('');
    return Number(h) * 3600 + Number(m) * 60 + Number(s);
  };

  const pid = (host: string): Promise<string> => sh(host, 'cat /run/keepalived.pid 2>/dev/null || true').then((text) => text.trim());
  /**
   * The init script's stop only signals keepalived; its clean shutdown (priority 0 adverts, the
   * VIPs and virtual servers removed, the children reaped) goes on after the script returned, and
   * an apply in that time rightly reads it as running. Stops it and waits until no keepalived
   * process is left on the host.
   */
  const stopKeepalived = async (host: string): Promise<void> => {
    const previous = await pid(host);
    await sh(host, '/etc/init.d/keepalived stop');
    await gone(host, previous);
  };
  const gone = async (host: string, previous: string, timeoutMs = 10_000): Promise<void> => {
    const start = Date.now();
    while (previous !== '' && (await sh(host, `kill -0 ${previous} 2>/dev/null && echo alive || true`)).trim() === 'alive') {
      if (Date.now() - start > timeoutMs) throw new Error(`${host}: keepalived ${previous} still runs ${timeoutMs} ms after its stop`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  /**
   * dir3, a third director (192.0.2.30) for the cases of a director dropped from the group:
   * `absent` not in the inventory at all, `idle` in the group `directors` directing no service,
   * `unplayed` in the inventory but in a group no play names, `director` a director of the VIP
   * beside dir1 and dir2; `both-groups` the master (priority 200) of the VIP and of a second VIP,
   * API (VRRP id 52, with dir1), `api-only` the master of API alone, and `no-group` in the group
   * `directors` directing neither (dir2 takes its place for API), `web-backup` a backup (priority 50)
   * of the VIP alone (dir2 takes its place for API); `api-added` without dir3, API in VI_51 with the
   * VIP, ahead of it.
   */
  /** `renumbered`: lvs.ha.virtual_router_id 61 instead of 51, and `dir2Unreachable` its SSH port one where nothing listens. */
  const writeInventory = (device: string, dir3: 'absent' | 'idle' | 'unplayed' | 'director' | 'both-groups' | 'api-only' | 'no-group' | 'web-backup' | 'api-added' = 'absent', { renumbered = false, dir2Unreachable = false } = {}): void =>
    writeFileSync(
      inventory,
      stringify({
        name: 'it-vrrp',
        ssh: { user: 'root', private_key: lab.clientKeyPath, known_hosts: lab.knownHostsPath, agent: false, connect_timeout: 10 },
        groups: { directors: { hosts: [...DIRECTORS, ...(dir3 === 'absent' || dir3 === 'api-added' || dir3 === 'unplayed' ? [] : ['dir3'])] }, ...(dir3 === 'unplayed' ? { spare: { hosts: ['dir3'] } } : {}) },
        hosts: { dir1: { address: '192.0.2.10' }, dir2: { address: '192.0.2.20', ...(dir2Unreachable ? { ssh: { port: 2 } } : {}) }, ...(dir3 === 'absent' || dir3 === 'api-added' ? {} : { dir3: { address: '192.0.2.30' } }) },
        lvs: dir3 === 'both-groups' || dir3 === 'api-only' || dir3 === 'no-group' || dir3 === 'web-backup'
          ? {
              ha: {
                virtual_router_id: 51,
                advert_interval: 1,
                interface: device,
                garp: { master_delay: 1, master_repeat: 3 },
                // dir1 never preempts: a master that leaves must hand over by its priority 0 advert.
                directors: { dir1: { priority: 150, state: 'backup', nopreempt: true }, dir2: { priority: 100 }, ...(dir3 === 'no-group' ? {} : { dir3: { priority: dir3 === 'web-backup' ? 50 : 200 } }) },
              },
              vips: { api: { address: API_VIP, interface: device, virtual_router_id: 52 }, web: { address: VIP, interface: device } },
              services: [
                { vip: 'api', port: 80, real_servers: [{ address: '192.0.2.11' }], directors: ['dir1', dir3 === 'no-group' || dir3 === 'web-backup' ? 'dir2' : 'dir3'] },
                { vip: 'web', port: 80, real_servers: [{ address: '192.0.2.11' }], directors: [...DIRECTORS, ...(dir3 === 'both-groups' || dir3 === 'web-backup' ? ['dir3'] : [])] },
              ],
            }
          : {
              ha: { virtual_router_id: renumbered ? 61 : 51, advert_interval: 1, interface: device, garp: { master_delay: 1, master_repeat: 3 } },
              // `api-added`: API joins the VIP's instance ahead of it (the VIPs' order in VI_51).
              vips: { ...(dir3 === 'api-added' ? { api: { address: API_VIP, interface: device } } : {}), web: { address: VIP, interface: device } },
              services: [
                ...(dir3 === 'api-added' ? [{ vip: 'api', port: 80, real_servers: [{ address: '192.0.2.11' }] }] : []),
                { vip: 'web', port: 80, real_servers: [{ address: '192.0.2.11' }], ...(dir3 === 'idle' || dir3 === 'unplayed' ? { directors: [...DIRECTORS] } : {}) },
              ],
            },
      }),
    );

  beforeAll(async () => {
    if (!availability.ok) throw new Error(`the netns lab is unavailable in CI: ${availability.reason}`);
    dir = mkdtempSync(join(tmpdir(), 'lvsprov-vrrp-'));
    lab = await createLab(
      {
        name: 'itvrrp',
        subnets: [{ name: 'lan', cidr: '192.0.2.0/24', controlAddress: '192.0.2.254' }],
        hosts: [
          { name: 'dir1', interfaces: [{ subnet: 'lan', address: '192.0.2.10' }] },
          { name: 'dir2', interfaces: [{ subnet: 'lan', address: '192.0.2.20' }] },
          { name: 'dir3', interfaces: [{ subnet: 'lan', address: '192.0.2.30' }] },
        ],
      },
      join(dir, 'lab'),
    );
    inventory = join(dir, 'inventory.yaml');
    playbook = join(dir, 'playbook.yaml');
    writeInventory('eth0');
    writeKeepalivedPlaybook(playbook);
  });

  afterAll(async () => {
    // keepalived runs inside the lab hosts' namespaces; destroying the lab ends it with them.
    const report = await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
    expect(report?.leftovers ?? []).toEqual([]);
  });

  it('apply writes a config keepalived accepted, enables and starts it; exactly one director, dir1, holds the VIP', async () => {
    // The hosts see the machine's files: Debian's package may have linked keepalived into the runlevels already.
    const linked = /^S\d\dkeepalived$/m.test(await sh('dir1', 'ls /etc/rc2.d/'));
    expect(summaries(await lvsprov('apply'))).toEqual(
      DIRECTORS.flatMap((host) => [
        ...(linked ? [] : [`${host}: enable keepalived at boot`]),
        `${host}: create /etc/keepalived/keepalived.conf (keepalived -t, then start)`,
        `${host}: start keepalived`,
      ]),
    );
    const seconds = await heldBy('dir1');
    console.log(`VRRP: dir1 held the VIP ${seconds.toFixed(1)} s after the apply`);
    for (const host of DIRECTORS) {
      expect(await sh(host, 'ls /etc/rc2.d/ | grep keepalived')).toMatch(/^S\d\dkeepalived$/m);
      expect(await sh(host, 'grep -c unicast_src_ip /etc/keepalived/keepalived.conf')).toBe('1\n');
    }
  });

  it('a second apply changes nothing', async () => {
    expect(summaries(await lvsprov('apply'))).toEqual([]);
    expect(await holders()).toEqual(['dir1']);
  });

  it('a VIP added to the instance ahead of the held one, and removed again: the held VIP keeps its label and never leaves the master', async () => {
    await heldBy('dir1');
    // The kernel's own record of every address deleted or added on dir1's eth0, beside the 10 ms sampler.
    const monitor = await startMonitor('dir1');
    const stopTracking = await trackVips();
    writeInventory('eth0', 'api-added');
    expect(summaries(await lvsprov('apply'))).toEqual(DIRECTORS.map((host) => `${host}: update /etc/keepalived/keepalived.conf (keepalived -t, then reload)`));
    const both = Date.now();
    while (!(await sh('dir1', 'ip -o -4 addr show dev eth0')).includes(` ${API_VIP}/32 `)) {
      if (Date.now() - both > 5000) throw new Error('dir1 did not add API after the reload');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const labels = await sh('dir1', 'ip -o -4 addr show dev eth0');
    writeInventory('eth0');
    expect(summaries(await lvsprov('apply'))).toEqual(DIRECTORS.map((host) => `${host}: update /etc/keepalived/keepalived.conf (keepalived -t, then reload)`));
    await new Promise((resolve) => setTimeout(resolve, 500));
    const logs = await stopTracking();
    await sh('dir1', `kill ${monitor}`);
    const events = await sh('dir1', 'cat /tmp/addr-mon.log');
    console.log(`VRRP: API added ahead of the VIP and removed: dir1 ${JSON.stringify(logs.get('dir1'))}; address events on dir1:\n${events.trim()}`);
    // Labels from the address alone: 198.51.100.50 and .51 in hex.
    expect(labels).toMatch(/ 198\.51\.100\.50\/32 .*eth0:c6336432/);
    expect(labels).toMatch(/ 198\.51\.100\.51\/32 .*eth0:c6336433/);
    expect(logs.get('dir1')?.map(([, held]) => held)).toEqual(['web', 'web+api', 'web']);
    expect(logs.get('dir2')?.map(([, held]) => held)).toEqual(['none']);
    // Not even a deletion and re-add between two samples: the only deletion is API's.
    const deleted = events.split('\n').filter((line) => line.includes('Deleted'));
    expect(deleted).toHaveLength(1);
    expect(deleted[0]).toContain(`${API_VIP}/32`);
    expect(events).not.toMatch(new RegExp(`${VIP.replace(/\./g, '\\.')}/32`));
    expect(await holders()).toEqual(['dir1']);
  });

  it('a clean stop of the master hands the VIP to the backup within 2 s; when it returns it takes the VIP back (preemption)', async () => {
    const previous = await pid('dir1');
    await sh('dir1', '/etc/init.d/keepalived stop');
    const over = await heldBy('dir2', 5000);
    console.log(`VRRP: clean stop of dir1, dir2 held the VIP after ${over.toFixed(1)} s`);
    expect(over).toBeLessThanOrEqual(2);
    await gone('dir1', previous);
    // lvsprov's own drift check starts it again; the master preempts.
    expect(summaries(await lvsprov('apply'))).toEqual(['dir1: start keepalived']);
    const back = await heldBy('dir1', 10_000);
    console.log(`VRRP: dir1 back, holding the VIP after ${back.toFixed(1)} s`);
  });

  it('a master killed with SIGKILL: the backup takes over within 5 s, and the restarted master does not keep a second copy', async () => {
    // Every keepalived process of dir1 in one kill, the VRRP and checker children before the parent:
    // a parent killed first makes its children shut down cleanly (priority 0), which is the clean stop above.
    await sh('dir1', 'kill -KILL $(cat /run/vrrp.pid /run/checkers.pid /run/keepalived.pid 2>/dev/null)');
    const start = Date.now();
    // A killed keepalived leaves its VIP on the interface and sends no last advert: the backup takes the
    // VIP when dir1's adverts stop (3 x advert_int + skew), while dir1 still lists it.
    let held: string[] = [];
    while (!(held = await holders()).includes('dir2') && Date.now() - start < 6000) await new Promise((resolve) => setTimeout(resolve, 100));
    const over = (Date.now() - start) / 1000;
    console.log(`VRRP: dir1 SIGKILLed, dir2 took the VIP after ${over.toFixed(1)} s; holders then: [${held.join(', ')}]`);
    expect(held).toContain('dir2');
    expect(over).toBeLessThanOrEqual(5);
    await sh('dir1', 'rm -f /run/keepalived.pid /run/vrrp.pid /run/checkers.pid /run/keepalived/*.pid');
    expect(summaries(await lvsprov('apply'))).toEqual(['dir1: start keepalived']);
    await heldBy('dir1', 10_000);
    expect(await holders()).toEqual(['dir1']);
  });

  it('a VIP already on the master (lvs.ha added to a plain director) stays local while keepalived starts: its copy on lo bridges keepalived taking it off and back', async () => {
    // keepalived's start removes a VIP already on its interface and adds it back once master (the
    // master-down interval later): without the bridge, the director would be that long without it.
    await stopKeepalived('dir2');
    await stopKeepalived('dir1');
    expect(await holders()).toEqual([]);
    // As a plain director's address task left it, labelled by its address.
    await sh('dir1', `ip addr add ${VIP}/32 dev eth0 label eth0:c6336432`);
    const stopWatch = await watch('dir1', 'vrrp-watch', `ip route get ${VIP} | grep -q '^local'`);
    const started = Date.now();
    expect(summaries(await lvsprov('apply'))).toEqual(['dir1: start keepalived', 'dir2: start keepalived']);
    const watched = await stopWatch();
    console.log(`VRRP: keepalived started over a VIP already on dir1 in ${((Date.now() - started) / 1000).toFixed(1)} s; ${watched.trim().split('\n').at(-1)}`);
    // Every 20 ms check found the VIP local.
    expect(watched).not.toContain('failed');
    await heldBy('dir1');
    expect(await sh('dir1', 'ip -o -4 addr show dev lo')).not.toContain(VIP);
    // keepalived holds it now: its clean stop takes it to dir2, and the master's return takes it back.
    const master = await pid('dir1');
    await sh('dir1', '/etc/init.d/keepalived stop');
    await heldBy('dir2', 5000);
    await gone('dir1', master);
    expect(summaries(await lvsprov('apply'))).toEqual(['dir1: start keepalived']);
    await heldBy('dir1', 10_000);
  });

  it('a config keepalived refuses fails the host and leaves the old config and the running daemon as they were', async () => {
    // The hosts see the machine's /etc/keepalived (Debian ships keepalived.conf.sample there): compare
    // the whole listing, so that a temp file left behind shows.
    const state = (host: string): Promise<string[]> =>
      Promise.all([pid(host), sh(host, 'cat /etc/keepalived/keepalived.conf'), sh(host, 'ls -A /etc/keepalived')]);
    const before = await Promise.all(DIRECTORS.map(state));
    for (const [, , listing] of before) expect(listing).toMatch(/^keepalived\.conf$/m);
    writeInventory('eth9');
    const result = await lvsprov('apply');
    writeInventory('eth0');
    expect(result.code).not.toBe(0);
    expect(result.stderr + result.stdout).toMatch(/keepalived -t refused the new config/);
    expect(result.stderr + result.stdout).toMatch(/eth9/);
    expect(await Promise.all(DIRECTORS.map(state))).toEqual(before);
    expect(await holders()).toEqual(['dir1']);
    expect(summaries(await lvsprov('apply'))).toEqual([]);
  });

  // keepalived binds an instance to its interface: on a device that does not hold the director's
  // unicast source, its adverts left by that device alone, its peer never heard them, and both
  // held the VIP. eth2 here is one end of a veth pair on dir1 with no address (as a NIC carrying only VIPs).
  it('an instance on a device that does not hold the director\'s own address is refused before any change, naming the device that does', async () => {
    const state = (host: string): Promise<string[]> => Promise.all([pid(host), sh(host, 'cat /etc/keepalived/keepalived.conf')]);
    const before = await Promise.all(DIRECTORS.map(state));
    await sh('dir1', 'ip link add eth2 type veth peer name eth2peer && ip link set eth2 up');
    try {
      writeInventory('eth2');
      const result = await lvsprov('apply');
      writeInventory('eth0');
      expect(result.code, result.stdout + result.stderr).toBe(2);
      const dir1 = (JSON.parse(result.stdout) as { hosts: Array<{ host: string; status: string; error?: { message: string } }> }).hosts.find((entry) => entry.host === 'dir1');
      expect(dir1?.status).toBe('failed');
      expect(dir1?.error?.message).toMatch(/VRRP instance VI_51 would run on eth2, but dir1 holds its unicast source 192\.0\.2\.10 on eth0: .*set lvs\.ha\.interface to eth0/);
      expect(await Promise.all(DIRECTORS.map(state))).toEqual(before);
      expect(await holders()).toEqual(['dir1']);
    } finally {
      await sh('dir1', 'ip link del eth2');
    }
    expect(summaries(await lvsprov('apply'))).toEqual([]);
  });

  it('the VRRP id renumbered while dir2 is unreachable: dir1 leaves VI_51, dir2 (still on it) takes the VIP, and dir1 holds back its start on VI_61: never two holders; with dir2 reached, the next apply moves both', async () => {
    /**
     * Samples the VIP's holders every 100 ms while `work` runs and for `afterMs` more; every set
     * seen, in order, without repeats, each with the seconds it lasted (`none 3.2 s`) in `timeline`.
     */
    const watchHolders = async (work: Promise<unknown>, afterMs: number): Promise<string[] & { timeline?: string }> => {
      const seen: string[] = [];
      const since: number[] = [];
      let done = false;
      void work.finally(() => (done = true));
      for (let until = Infinity; Date.now() < until; ) {
        if (done && until === Infinity) until = Date.now() + afterMs;
        const now = (await holders()).join('+') || 'none';
        if (seen.at(-1) !== now) {
          seen.push(now);
          since.push(Date.now());
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const end = Date.now();
      const timeline = seen.map((holding, index) => `${holding} ${(((since[index + 1] ?? end) - (since[index] ?? end)) / 1000).toFixed(1)} s`).join(' -> ');
      return Object.assign(seen, { timeline });
    };
    writeInventory('eth0', 'absent', { renumbered: true, dir2Unreachable: true });
    const run = lvsprov('apply');
    // dir2's adverts on VRRP id 51 go unanswered once dir1 leaves it: 3 adverts and its skew later at the most it is master there.
    const seen = await watchHolders(run, 6000);
    const result = await run;
    const json = parseJson(result);
    const dir1 = json.hosts.find((host) => host.host === 'dir1');
    console.log(`VRRP renumbered, dir2 unreachable: exit ${result.code}; holders ${seen.timeline}; dir1 held back: ${JSON.stringify(dir1?.heldBack?.map((held) => held.summary))}`);
    expect(seen.filter((holding) => holding.includes('+'))).toEqual([]);
    expect(seen.at(-1)).toBe('dir2');
    expect(result.code).not.toBe(0);
    expect(dir1?.heldBack?.map((held) => held.reason).join('\n')).toMatch(/dir2 \(192\.0\.2\.20\) was unreachable/);
    // dir2 reached: it leaves VI_51 in prepare, dir1 starts on VI_61 in balance, dir2 in withdraw.
    writeInventory('eth0', 'absent', { renumbered: true });
    const renumbering = lvsprov('apply');
    const moved = await watchHolders(renumbering, 4000);
    // dir2's leave (dir1 left in the run before) says the VIP will be held by no director for a while.
    expect(summaries(await renumbering).filter((summary) => summary.includes(`${VIP} moves to a group it joins and is held by no director until that group's master takes it in balance`))).toEqual([
      expect.stringMatching(/^dir2: leave VRRP VI_51 /),
    ]);
    // The VIP is held nowhere from dir2's leave (prepare) until dir1's new instance is master (balance).
    console.log(`VRRP renumbered, dir2 reached: holders ${moved.timeline}`);
    expect(moved.filter((holding) => holding.includes('+'))).toEqual([]);
    expect(moved.at(-1)).toBe('dir1');
    for (const host of DIRECTORS) expect(await sh(host, 'grep virtual_router_id /etc/keepalived/keepalived.conf')).toMatch(/virtual_router_id 61/);
    writeInventory('eth0');
    expect((await lvsprov('apply')).code).toBe(0);
    await heldBy('dir1', 10_000);
    expect(summaries(await lvsprov('apply'))).toEqual([]);
  });

  describe('a third director dropped from the VRRP group', () => {
    const peersOf = (host: string): Promise<string> => sh(host, "sed -n '/unicast_peer {/,/}/p' /etc/keepalived/keepalived.conf");
    const dir3HoldsNoVip = `! ip -o -4 addr show dev eth0 | grep -qF ${VIP}/32`;

    it('joins as a third director: dir1 stays master, dir3 runs keepalived as a backup', async () => {
      writeInventory('eth0', 'director');
      const result = await lvsprov('apply');
      expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
      await heldBy('dir1');
      expect(await pid('dir3')).not.toBe('');
      expect(await peersOf('dir1')).toContain('192.0.2.30');
    });

    /**
     * Runs the apply that drops dir3 while one loop on dir1 (the lab hosts share the machine's pid
     * namespace, so dir1 sees dir3's processes) reads, every few milliseconds, dir1's config and
     * then whether dir3's keepalived VRRP child (it sends the adverts and would take the VIPs; the
     * parent only outlives it by the moment it takes to reap it; a zombie counts as exited) still
     * runs. One observer, so no two clocks or polls to reconcile: a config without dir3 read while
     * the child still runs afterwards is a moment in which dir3 ran unheard (three adverts later it
     * would have become a second master). Also watches whether dir3 ever held the VIP or dir1 lost
     * it, then checks what every such drop must leave.
     */
    const dropDir3 = async (...args: string[]): Promise<Awaited<ReturnType<typeof lvsprov>>> => {
      const vrrpPid = (await sh('dir3', 'cat /run/vrrp.pid')).trim();
      expect(vrrpPid).toMatch(/^\d+$/);
      expect(await sh('dir1', `test -e /proc/${vrrpPid} && echo seen`)).toBe('seen\n');
      // Builtins only in the loop (read -t on a fifo nobody writes is its sleep): no fork between its reads.
      const order = [
        'mkfifo /tmp/order.fifo; exec 9<> /tmp/order.fifo; rm /tmp/order.fifo',
        'exited=; written=',
        'while [ ! -e /tmp/order.stop ]; do',
        '  c=; read -r -d "" c < /etc/keepalived/keepalived.conf',
        `  s=; { read -r s < /proc/${vrrpPid}/stat; } 2>/dev/null; s=\${s##*) }`,
        '  if [ -z "$s" ] || [ "${s%% *}" = Z ]; then : "${exited:=$EPOCHREALTIME}"; fi',
        '  case $c in *192.0.2.30*) ;; ?*) : "${written:=$EPOCHREALTIME}"; [ -z "$exited" ] && echo "written while the VRRP child runs at $EPOCHREALTIME";; esac',
        '  [ -n "$exited" ] && [ -n "$written" ] && break',
        '  read -r -t 0.003 -u 9',
        'done',
        'echo "exited $exited"; echo "written $written"',
      ].join('\n');
      await sh('dir1', `rm -f /tmp/order.stop /tmp/order.fifo; nohup bash --norc -c '${order}' > /tmp/order.log 2>&1 < /dev/null &`);
      const stopDir3 = await watch('dir3', 'dir3-watch', dir3HoldsNoVip);
      const stopDir1 = await watch('dir1', 'dir1-watch', `ip route get ${VIP} | grep -q '^local'`);
      const result = await lvsprov('apply', ...args);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const [dir3Log, dir1Log] = [await stopDir3(), await stopDir1()];
      const orderLog = await sh('dir1', 'touch /tmp/order.stop; sleep 0.1; cat /tmp/order.log');
      expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
      expect(orderLog).not.toContain('while the VRRP child runs');
      const [, exitedAt = '', writtenAt = ''] = /^exited ([\d.]+)\nwritten ([\d.]+)$/m.exec(orderLog) ?? [];
      expect(exitedAt, orderLog).not.toBe('');
      expect(writtenAt, orderLog).not.toBe('');
      console.log(`VRRP: dir3 dropped (${args.join(' ') || 'apply'}), its keepalived's VRRP child was seen gone ${(Number(writtenAt) - Number(exitedAt)).toFixed(3)} s before dir1's config without it; ${dir1Log.trim().split('\n').at(-1)} on dir1`);
      const stop = parseJson(result).hosts.find((host) => host.host === 'dir3')?.changes.find((change) => change.summary.startsWith('stop keepalived'));
      expect(stop?.phase).toBe('prepare');
      expect(dir3Log).not.toContain('failed');
      expect(dir1Log).not.toContain('failed');
      expect(await pid('dir3')).toBe('');
      expect(await sh('dir3', 'ls /etc/keepalived/')).not.toMatch(/^keepalived\.conf$/m);
      for (const host of DIRECTORS) expect(await peersOf(host)).not.toContain('192.0.2.30');
      expect(await holders()).toEqual(['dir1']);
      return result;
    };

    it('kept in the inventory, directing no service: its keepalived stops before dir1 and dir2 stop advertising to it, and it never takes the VIP', async () => {
      writeInventory('eth0', 'idle');
      await dropDir3();
    });

    it('in the inventory and in no play: the run opens it for its keepalived alone, which stops before dir1 and dir2 stop advertising to it; out by --limit, the apply refuses', async () => {
      writeInventory('eth0', 'director');
      expect((await lvsprov('apply')).code).toBe(0);
      await heldBy('dir1');
      expect(await pid('dir3')).not.toBe('');
      await sh('dir3', 'echo kept > /tmp/not-lvsprovs');
      writeInventory('eth0', 'unplayed');
      const limited = await lvsprov('apply', '--limit', 'dir1,dir2');
      expect(limited.code, `${limited.stdout}\n${limited.stderr}`).toBe(2);
      expect(parseJson(limited).hosts.find((host) => host.host === 'dir1')?.error?.message).toMatch(/VRRP peer 192\.0\.2\.30 .*--limit leaves dir3 out of this run/);
      expect(await peersOf('dir1')).toContain('192.0.2.30');
      const result = await dropDir3();
      // Only its keepalived: its stop, its start at boot, its config.
      expect(parseJson(result).hosts.find((host) => host.host === 'dir3')?.changes.map((change) => change.summary)).toEqual([
        'stop keepalived (it removes its VIPs and virtual servers): where it is master of VI_51, its last advert (priority 0) hands the VIPs to the next priority within 1 s',
        'disable keepalived at boot',
        'remove /etc/keepalived/keepalived.conf',
      ]);
      expect(await sh('dir3', 'cat /tmp/not-lvsprovs; ls /usr/sbin/keepalived')).toBe('kept\n/usr/sbin/keepalived\n');
      expect(summaries(await lvsprov('apply'))).toEqual([]);
    });

    it('gone from the inventory while its keepalived runs: the apply refuses, naming it, and changes no director; --stopped-peer once it is stopped', async () => {
      writeInventory('eth0', 'director');
      expect((await lvsprov('apply')).code).toBe(0);
      await heldBy('dir1');
      expect(await pid('dir3')).not.toBe('');
      const before = await Promise.all(DIRECTORS.map((host) => sh(host, 'cat /etc/keepalived/keepalived.conf')));
      writeInventory('eth0', 'absent');
      const stopDir3 = await watch('dir3', 'dir3-watch', dir3HoldsNoVip);
      const refused = await lvsprov('apply');
      // Had dir1 and dir2 dropped it, dir3 would hold the VIP three adverts and its skew later.
      await new Promise((resolve) => setTimeout(resolve, 4500));
      expect(await stopDir3()).not.toContain('failed');
      expect(refused.code, `${refused.stdout}\n${refused.stderr}`).toBe(2);
      const errors = parseJson(refused).hosts.map((host) => `${host.host}: ${host.status}: ${host.error?.message ?? ''}`);
      for (const host of DIRECTORS) expect(errors.find((line) => line.startsWith(`${host}:`))).toMatch(/: failed: .*VRRP peer 192\.0\.2\.30 .*no host of the inventory has that address.*--stopped-peer 192\.0\.2\.30/);
      expect(await Promise.all(DIRECTORS.map((host) => sh(host, 'cat /etc/keepalived/keepalived.conf')))).toEqual(before);
      expect(await holders()).toEqual(['dir1']);
      // The operator stops it (the host may as well be gone) and says so.
      await stopKeepalived('dir3');
      expect(summaries(await lvsprov('apply', '--stopped-peer', '192.0.2.30'))).toEqual(DIRECTORS.map((host) => `${host}: update /etc/keepalived/keepalived.conf (keepalived -t, then reload)`));
      for (const host of DIRECTORS) expect(await peersOf(host)).not.toContain('192.0.2.30');
      expect(await holders()).toEqual(['dir1']);
      expect(summaries(await lvsprov('apply'))).toEqual([]);
    });
  });

  /** Every 10 ms on each director, each change of whether it holds the VIP (`web`) or API (`+api`), stamped; stop returns the logs. */
  const trackVips = async (): Promise<() => Promise<Map<string, Array<[number, string]>>>> => {
    const track = `prev=start; while [ ! -e /tmp/vips.stop ]; do a=$(ip -o -4 addr show dev eth0); now=; case "$a" in *" ${VIP}/32 "*) now=web ;; esac; case "$a" in *" ${API_VIP}/32 "*) now="$now+api" ;; esac; [ "$now" != "$prev" ] && echo "$EPOCHREALTIME \${now:-none}"; prev=$now; sleep 0.01; done`;
    for (const host of ['dir1', 'dir2', 'dir3']) await sh(host, `rm -f /tmp/vips.stop; nohup bash --norc -c '${track}' > /tmp/vips.log 2>&1 < /dev/null &`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    return async () => {
      const logs = new Map<string, Array<[number, string]>>();
      for (const host of ['dir1', 'dir2', 'dir3']) {
        await sh(host, 'touch /tmp/vips.stop; sleep 0.1');
        logs.set(host, (await sh(host, 'cat /tmp/vips.log')).trim().split('\n').map((line) => line.split(' ')).map(([at, held]) => [Number(at), held ?? ''] as [number, string]));
      }
      return logs;
    };
  };

  /**
   * Applies the inventory `dir3` while the 10 ms samplers and dir3's and dir1's address monitors
   * run; a moment more after the apply shows nothing follows (a handover happens within the apply,
   * its prepare wave waits for it). The apply must succeed.
   */
  const applyWatched = async (dir3: Parameters<typeof writeInventory>[1]) => {
    const stopTracking = await trackVips();
    const [dir3Monitor, dir1Monitor] = [await startMonitor('dir3'), await startMonitor('dir1')];
    writeInventory('eth0', dir3);
    const result = await lvsprov('apply');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const logs = await stopTracking();
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    return { result, logs, dir3Monitor, dir1Monitor };
  };

  it('the master of two VRRP groups leaves one: that instance goes to FAULT (priority 0), the next priority, nopreempt, takes the VIP after its skew and never beside it; reloaded without it before its peers drop it, it keeps the other', async () => {
    writeInventory('eth0', 'both-groups');
    expect((await lvsprov('apply')).code).toBe(0);
    const holds = (host: string, vip: string) => sh(host, 'ip -o -4 addr show dev eth0').then((text) => text.includes(` ${vip}/32 `));
    // dir3 (priority 200) preempts dir1 for the VIP and takes API.
    const start = Date.now();
    const settled = async (): Promise<boolean> => (await holds('dir3', VIP)) && (await holds('dir3', API_VIP)) && !(await holds('dir1', VIP)) && !(await holds('dir1', API_VIP)) && !(await holds('dir2', VIP));
    while (!(await settled())) {
      if (Date.now() - start > 15_000) throw new Error(`dir3 did not come to hold both VIPs alone: ${await sh('dir1', 'ip -o -4 addr show dev eth0')}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    console.log(`VRRP: dir3 (priority 200) joined and held both VIPs alone ${((Date.now() - start) / 1000).toFixed(1)} s after the apply`);
    const { result, logs, dir3Monitor, dir1Monitor } = await applyWatched('api-only');
    console.log(`VRRP: VIP holders while dir3 left VI_51: ${JSON.stringify(Object.fromEntries(logs))}`);
    const plan = parseJson(result).hosts.flatMap((host) => host.changes.map((change) => `${host.host} ${change.phase}: ${change.summary}`));
    expect(plan).toContain(
      'dir3 prepare: leave VRRP VI_51 (virtual_router_id 51): reload /etc/keepalived/keepalived.conf with it tracking /etc/keepalived/keepalived.conf.lvsprov-leave, set that to 1 (the instance goes to FAULT: where it is master, a priority 0 advert hands the VIPs to the next priority, nopreempt or not), then reload without it, before its peers drop this director',
    );
    expect(plan.filter((line) => line.startsWith('dir3')), plan.join('\n')).toHaveLength(1);
    // dir3's config without VI_51 before dir1's and dir2's without dir3 in it.
    const written = async (host: string) => Number(await sh(host, 'stat -c %.9Y /etc/keepalived/keepalived.conf'));
    const dir3At = await written('dir3');
    for (const host of DIRECTORS) expect(await written(host)).toBeGreaterThan(dir3At);
    // dir3 held both, then API alone, never without API; dir1 took the VIP after dir3 let it go
    // (its priority 0 advert, then its deletion; dir1 adds it after its skew); dir2 never held it.
    const dir3Log = logs.get('dir3') ?? [];
    const dir1Log = logs.get('dir1') ?? [];
    expect(dir3Log.map(([, held]) => held)).toEqual(['web+api', '+api']);
    expect(dir1Log.map(([, held]) => held)).toEqual(['none', 'web']);
    expect(logs.get('dir2')?.map(([, held]) => held)).toEqual(['none']);
    const released = dir3Log[1]?.[0] ?? 0;
    const taken = dir1Log[1]?.[0] ?? 0;
    // The kernel's own times of dir3 deleting the VIP and dir1 adding it.
    const [deletedAt, addedAt] = [await stopMonitor('dir3', dir3Monitor, 'Deleted'), await stopMonitor('dir1', dir1Monitor, '')];
    console.log(
      `VRRP: dir3, master of VI_51 and VI_52, left VI_51: dir1 (priority 150, nopreempt) added the VIP ${(addedAt - deletedAt).toFixed(4)} s after dir3 deleted it (kernel events; sampled: ${(taken - released).toFixed(2)} s), ` +
        `${(Math.min(...(await Promise.all(DIRECTORS.map(written)))) - dir3At).toFixed(2)} s before dir1 and dir2 wrote configs without dir3; API stayed on dir3 throughout`,
    );
    // keepalived 2.2.7's reload deletes a MASTER instance without a priority 0 advert that reaches
    // its peers: removed at once, the VIP was held nowhere for the master-down interval (3.58 s
    // between the kernel events, measured at advert_int 1 and priority 150). At priority 1 first,
    // dir1 preempted it only at the end of that interval, adding the VIP up to 3.9 ms before dir3
    // deleted it, and as nopreempt, never. In FAULT, dir3 sends priority 0 and then deletes it; dir1
    // adds it after its skew, (256 - 150) / 256 s = 0.41 s: never on both, at most one advert
    // interval on neither.
    expect(addedAt).toBeGreaterThan(deletedAt);
    expect(addedAt - deletedAt).toBeLessThan(1);
    // The tracked file and every mention of it went with the instance.
    expect(await sh('dir3', 'ls /etc/keepalived/ | grep -c lvsprov-leave; grep -c track_file /etc/keepalived/keepalived.conf || true')).toBe('0\n0\n');
    expect(await sh('dir1', "sed -n '/vrrp_instance VI_52/,/^}/p' /etc/keepalived/keepalived.conf")).toContain('192.0.2.30');
    for (const host of DIRECTORS) expect(await sh(host, "sed -n '/vrrp_instance VI_51/,/^}/p' /etc/keepalived/keepalived.conf")).not.toContain('192.0.2.30');
    // What the leave left is what the inventory asks for: a second apply changes nothing.
    expect(summaries(await lvsprov('apply'))).toEqual([]);
  });

  it('the master of its only group leaves it for another: its clean stop (priority 0) hands the VIP to the next priority, nopreempt, never beside it; it starts on the new group once its peers know it', async () => {
    const holds = (host: string, vip: string) => sh(host, 'ip -o -4 addr show dev eth0').then((text) => text.includes(` ${vip}/32 `));
    expect(await holds('dir3', API_VIP)).toBe(true);
    const { result, logs, dir3Monitor, dir1Monitor } = await applyWatched('web-backup');
    console.log(`VRRP: holders while dir3 left VI_52 for VI_51: ${JSON.stringify(Object.fromEntries(logs))}`);
    const plan = parseJson(result).hosts.flatMap((host) => host.changes.map((change) => `${host.host} ${change.phase}: ${change.summary}`));
    expect(plan.filter((line) => line.startsWith('dir3')), plan.join('\n')).toEqual([
      'dir3 prepare: leave VRRP VI_52 (virtual_router_id 52): stop keepalived (where it is master, its last advert, priority 0, hands the VIPs to the next priority, nopreempt or not; it would hold no instance until the groups it joins know this director; it starts on the new config then), before its peers drop this director',
      'dir3 balance: update /etc/keepalived/keepalived.conf (keepalived -t, then start)',
      'dir3 withdraw: start keepalived',
    ]);
    // API went from dir3 to dir1 by dir3's priority 0, dir3 never held the VIP, dir2 neither; dir1 kept the VIP.
    expect(logs.get('dir3')?.map(([, held]) => held)).toEqual(['+api', 'none']);
    expect(logs.get('dir1')?.map(([, held]) => held)).toEqual(['web', 'web+api']);
    expect(logs.get('dir2')?.map(([, held]) => held)).toEqual(['none']);
    const vipEvents = await sh('dir1', 'cat /tmp/addr-mon.log');
    const [deletedAt, addedAt] = [await stopMonitor('dir3', dir3Monitor, 'Deleted', API_VIP), await stopMonitor('dir1', dir1Monitor, '', API_VIP)];
    console.log(`VRRP: dir3 left VI_52 for VI_51: dir1 added API ${(addedAt - deletedAt).toFixed(4)} s after dir3 deleted it (kernel events)`);
    expect(addedAt).toBeGreaterThan(deletedAt);
    expect(addedAt - deletedAt).toBeLessThan(1);
    expect(vipEvents).not.toContain(` ${VIP}/32 `);
    // dir3 runs keepalived again, a backup of VI_51 alone, which dir1 and dir2 advertise to.
    expect(await pid('dir3')).not.toBe('');
    expect(await sh('dir3', 'grep vrrp_instance /etc/keepalived/keepalived.conf')).toBe('vrrp_instance VI_51 {\n');
    for (const host of DIRECTORS) expect(await sh(host, "sed -n '/vrrp_instance VI_51/,/^}/p' /etc/keepalived/keepalived.conf")).toContain('192.0.2.30');
    expect(await sh('dir1', "sed -n '/vrrp_instance VI_52/,/^}/p' /etc/keepalived/keepalived.conf")).not.toContain('192.0.2.30');
    // Back: dir3 leaves VI_51, where it is a backup, for VI_52, where it preempts dir1 for API.
    writeInventory('eth0', 'api-only');
    expect((await lvsprov('apply')).code).toBe(0);
    const start = Date.now();
    while (!(await holds('dir3', API_VIP)) || (await holds('dir1', API_VIP))) {
      if (Date.now() - start > 10_000) throw new Error('dir3 did not take API back');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await holds('dir1', VIP)).toBe(true);
  });

  it('the master dropped from its last group: its clean stop in prepare hands the VIP to the next priority within one advert interval, as the plan says', async () => {
    const holds = (host: string, vip: string) => sh(host, 'ip -o -4 addr show dev eth0').then((text) => text.includes(` ${vip}/32 `));
    expect(await holds('dir3', API_VIP)).toBe(true);
    const stopTracking = await trackVips();
    writeInventory('eth0', 'no-group');
    const result = await lvsprov('apply');
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const logs = await stopTracking();
    console.log(`VRRP: VIP holders while dir3, master of VI_52, was dropped: ${JSON.stringify(Object.fromEntries(logs))}`);
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    const stop = parseJson(result).hosts.find((host) => host.host === 'dir3')?.changes.find((change) => change.summary.startsWith('stop keepalived'));
    expect([stop?.phase, stop?.summary]).toEqual(['prepare', 'stop keepalived (it removes its VIPs and virtual servers): where it is master of VI_52, its last advert (priority 0) hands the VIPs to the next priority within 1 s']);
    const dir3Log = logs.get('dir3') ?? [];
    const dir1Log = logs.get('dir1') ?? [];
    expect(dir3Log.map(([, held]) => held)).toEqual(['+api', 'none']);
    expect(dir1Log.map(([, held]) => held)).toEqual(['web', 'web+api']);
    const gap = (dir1Log[1]?.[0] ?? 0) - (dir3Log[1]?.[0] ?? 0);
    console.log(`VRRP: dir3, master of VI_52, dropped: dir1 held API ${gap.toFixed(2)} s after dir3's stop took it off`);
    expect(gap).toBeGreaterThanOrEqual(0);
    expect(gap).toBeLessThan(1);
    // dir3 held API, so its stop waits out the longest skew (1.3 s, peer-skew.ts) before the
    // balance wave rewrites and reloads dir1's config (its VI_52 peer is dir2 now): a reload
    // before dir1 took API would restart dir1's master-down timer, and API would have no holder
    // for seconds. (Without the wait dir1's config was rewritten 1.05 s after dir3's stop.)
    const dir1Changes = parseJson(result).hosts.find((host) => host.host === 'dir1')?.changes ?? [];
    expect(dir1Changes.filter((change) => change.summary.startsWith('update /etc/keepalived/keepalived.conf')).map((change) => change.phase)).toEqual(['balance']);
    const rewritten = Number((await sh('dir1', "stat -c '%.3Y' /etc/keepalived/keepalived.conf")).trim());
    const sinceStop = rewritten - (dir3Log[1]?.[0] ?? Infinity);
    console.log(`VRRP: dir1's config rewritten ${sinceStop.toFixed(2)} s after dir3's stop took API off, ${(rewritten - (dir1Log[1]?.[0] ?? 0)).toFixed(2)} s after dir1 took it`);
    expect(sinceStop).toBeGreaterThanOrEqual(1.3);
    expect(rewritten).toBeGreaterThanOrEqual(dir1Log[1]?.[0] ?? Infinity);
    // Back to dir1 and dir2 alone for the reset below.
    writeInventory('eth0', 'absent');
    expect((await lvsprov('apply')).code).toBe(0);
  });

  it('reset stops keepalived, disables it and removes its config; the VIP is gone from both', async () => {
    expect(summaries(await lvsprov('reset', '--yes'))).toEqual(
      DIRECTORS.flatMap((host) => [`${host}: stop keepalived (it removes its VIPs and virtual servers)`, `${host}: disable keepalived at boot`, `${host}: remove /etc/keepalived/keepalived.conf`]),
    );
    expect(await holders()).toEqual([]);
    for (const host of DIRECTORS) {
      expect(await pid(host)).toBe('');
      expect(await sh(host, 'ls /etc/keepalived/; ls /etc/rc2.d/ | grep keepalived || true')).not.toMatch(/keepalived.conf$|^S\d\dkeepalived/m);
    }
    expect(summaries(await lvsprov('reset', '--yes'))).toEqual([]);
  });
});
