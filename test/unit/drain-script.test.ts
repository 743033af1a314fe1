import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { drainScript, parseDrain, QUIET_SECONDS } from '../../src/engine/drain-script.js';
import type { RealServerRef } from '../../src/resources/types.js';
import { listBoundCommand, parseBound } from '../../src/resources/ipvs/bound-connections.js';

// The drain poll runs through a real /bin/sh; ipvsadm is a shell function that prints the
// director's table as `ipvsadm -L -n -t VIP:PORT` does, with ActiveConn counting down per poll.

const dir = mkdtempSync(join(tmpdir(), 'lvsprov-drain-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const web: RealServerRef = { service: ['-t', '198.51.100.50:80'], server: '192.0.2.13:80', address: '192.0.2.13' };
const tun: RealServerRef = { service: ['-t', '198.18.100.50:80'], server: '192.0.2.14:80', address: '192.0.2.14' };
/** A real server of fwmark service 1, whose mark covers 198.51.100.50 (NAT: a port of its own). */
const marked: RealServerRef = { service: ['-f', '1'], server: '192.0.2.13:80', address: '192.0.2.13', vips: ['198.51.100.50'] };

/** A connection-table line of a connection from the client to VIRTUAL, sent to 192.0.2.13. */
const markEntry = (state: string, virtual: string): string => `TCP 14:59  ${state.padEnd(11)} 203.0.113.100:41234 ${virtual.padEnd(18)} 192.0.2.13:80\n`;

/**
 * `ipvsadm` that shows 192.0.2.13:80 with `active[poll]` active connections on its Nth call for
 * -t 198.51.100.50:80, and as its connection table (`-L -n -c`) the Nth entry of `tables`.
 */
function fakeIpvsadm(active: number[], tables: string[] = []): string {
  const counter = join(dir, `polls-${Math.random().toString(16).slice(2)}`);
  const tableCounter = `${counter}-c`;
  const tableCases = tables.map((table, index) => `${index}) printf '%b' ${JSON.stringify(table)} ;;`).join(' ');
  return `ipvsadm() {
  if [ "$3" = -c ]; then
    n=$(cat ${tableCounter} 2>/dev/null || echo 0); echo $((n + 1)) > ${tableCounter}
    printf 'IPVS connection entries\\npro expire state       source             virtual            destination\\n'
    case "$n" in ${tableCases} *) ;; esac
    return 0
  fi
  if [ "$4" != 198.51.100.50:80 ]; then printf 'TCP  %s wrr\\n' "$4"; return 0; fi
  n=$(cat ${counter} 2>/dev/null || echo 0); echo $((n + 1)) > ${counter}
  set -- ${active.join(' ')}; shift "$n" 2>/dev/null || true; a=\${1:-0}
  printf 'IP Virtual Server version 1.2.1 (size=4096)\\nProt LocalAddress:Port Scheduler Flags\\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\\n'
  printf 'TCP  198.51.100.50:80 wrr\\n  -> 192.0.2.11:80                Route   1      7          0\\n  -> 192.0.2.13:80                Route   0      %s          5\\n' "$a"
}
`;
}

function run(script: string): string {
  const result = spawnSync('/bin/sh', ['-s'], { input: script, encoding: 'utf8', timeout: 20_000 });
  expect(result.status, result.stderr).toBe(0);
  return result.stdout;
}

describe('drain poll', () => {
  it('polls until every leaving server has no active connection; another server\'s connections and inactive ones do not count', () => {
    const out = run(`${fakeIpvsadm([2, 1, 0])}${drainScript([web, tun], 30)}`);
    expect(parseDrain(out, 2)).toEqual({ drained: true, polls: 3, active: [0, 0], seconds: expect.any(Number) });
  });

  it('waits while a connection of a leaving server is still opening (SYN_RECV), though ActiveConn is 0', () => {
    const entry = (state: string, virtual: string, destination: string): string => `TCP 00:59  ${state.padEnd(11)} 203.0.113.100:41234 ${virtual.padEnd(18)} ${destination}\n`;
    // Entries that do not hold the drain: closing states, the same server in another service,
    // another server of the service, and UDP.
    const others = [
      entry('FIN_WAIT', '198.51.100.50:80', '192.0.2.13:80'),
      entry('TIME_WAIT', '198.51.100.50:80', '192.0.2.13:80'),
      entry('ESTABLISHED', '198.51.100.51:80', '192.0.2.13:80'),
      entry('SYN_RECV', '198.51.100.50:80', '192.0.2.11:80'),
      'UDP 04:50  UDP         203.0.113.100:5353 198.51.100.50:80   192.0.2.13:80\n',
    ].join('');
    const tables = [others + entry('SYN_RECV', '198.51.100.50:80', '192.0.2.13:80'), others + entry('ESTABLISHED', '198.51.100.50:80', '192.0.2.13:80'), others];
    const out = run(`${fakeIpvsadm([0, 0, 0, 0], tables)}${drainScript([web], 30)}`);
    expect(parseDrain(out, 1)).toEqual({ drained: true, polls: 3, active: [0], seconds: expect.any(Number) });
  });

  it('of a service on every port (port 0, persistent), waits for an opening connection too: its table entries carry the port the client came to', () => {
    // The kernel gives such a connection the packet's port, on the VIP and on the server alike,
    // while the service and its servers are listed with port 0.
    const everyPort: RealServerRef = { service: ['-t', '198.51.100.50:0'], server: '192.0.2.13:0', address: '192.0.2.13' };
    const opening = `TCP 00:59  SYN_RECV    203.0.113.100:41234 198.51.100.50:443  192.0.2.13:443\n`;
    const other = `TCP 00:59  SYN_RECV    203.0.113.100:41235 198.51.100.50:443  192.0.2.11:443\n`;
    const out = run(`${fakeIpvsadm([], [opening + other, opening, other])}${drainScript([everyPort], 30)}`);
    expect(parseDrain(out, 1)).toEqual({ drained: true, polls: 3, active: [0], seconds: expect.any(Number) });
  });

  it('looks at the connection table only once ActiveConn is 0', () => {
    const script = drainScript([web], 30);
    expect(script.indexOf('ipvsadm -L -n -c')).toBeGreaterThan(script.indexOf('if [ "$left" -eq 0 ]; then'));
    // A fwmark service whose VIPs are not known: ActiveConn alone decides for it.
    expect(drainScript([{ service: ['-f', '1'], server: '192.0.2.13:80', address: '192.0.2.13' }], 30)).not.toContain('ipvsadm -L -n -c');
  });

  it('stops at the timeout with what is still active', () => {
    const outcome = parseDrain(run(`${fakeIpvsadm([4, 4, 4, 4, 4])}${drainScript([web], 1)}`), 1);
    expect(outcome?.drained).toBe(false);
    expect(outcome?.active).toEqual([4]);
    expect(outcome?.seconds).toBeGreaterThanOrEqual(1);
  });

  it('with a timeout of 0 (--drain-timeout 0) looks once and reports what is still active: what the deletion cuts', () => {
    const outcome = parseDrain(run(`${fakeIpvsadm([3, 0])}${drainScript([web], 0)}`), 1);
    expect(outcome).toEqual({ drained: false, polls: 1, active: [3], seconds: expect.any(Number) });
    expect(outcome?.seconds).toBeLessThanOrEqual(1);
  });

  describe('a real server whose forwarding method the director switched', () => {
    const switched: RealServerRef = { ...web, vip: '198.51.100.50' };
    const old = markEntry('ESTABLISHED', '198.51.100.50:80');
    const opening = `TCP 00:59  SYN_RECV    203.0.113.100:41300 198.51.100.50:80   192.0.2.13:80\n`;
    // Made after the switch (by the new method), and the same server in another service.
    const others = `TCP 14:59  ESTABLISHED 203.0.113.100:41500 198.51.100.50:80   192.0.2.13:80\nTCP 14:59  ESTABLISHED 203.0.113.100:41234 198.51.100.51:80   192.0.2.13:80\n`;

    it('the switch lists the server\'s opening and established connections of that service, as the drain takes them', () => {
      const table = `${old}${opening}${markEntry('FIN_WAIT', '198.51.100.50:80').replace('41234', '41400')}${others.split('\n')[1]}\nTCP 14:59  ESTABLISHED 203.0.113.100:41600 198.51.100.50:80   192.0.2.11:80\n`;
      const listed = parseBound(run(`${fakeIpvsadm([0], [table])}ipvsadm -e -t 198.51.100.50:80 -r 192.0.2.13:80 -i -w 1\n${listBoundCommand(switched)}\n`));
      expect(listed).toEqual(['203.0.113.100:41234 198.51.100.50:80 192.0.2.13:80', '203.0.113.100:41300 198.51.100.50:80 192.0.2.13:80']);
      expect(parseBound(`bound 203.0.113.100:41234 198.51.100.50:80 192.0.2.13:80'\nbound x y z\nipvsadm: warning\n`)).toEqual([]);
    });

    it("a UDP service's server lists its flows' entries (their state is UDP), and the drain waits while they are in the table", () => {
      const udpServer: RealServerRef = { ...switched, service: ['-u', '198.51.100.50:80'] };
      const flow = 'UDP 04:59  UDP         203.0.113.100:41234 198.51.100.50:80   192.0.2.13:80\n';
      const listed = parseBound(run(`${fakeIpvsadm([0], [flow])}ipvsadm -e -u 198.51.100.50:80 -r 192.0.2.13:80 -g -w 1\n${listBoundCommand(udpServer)}\n`));
      expect(listed).toEqual(['203.0.113.100:41234 198.51.100.50:80 192.0.2.13:80']);
      const out = run(`${fakeIpvsadm([0, 0, 0], [flow, flow, ''])}${drainScript([{ ...web, service: ['-u', '198.51.100.50:80'] }], 30, undefined, [], [listed])}`);
      expect(parseDrain(out, 1)).toEqual({ drained: true, polls: 3, active: [0], seconds: expect.any(Number) });
    });

    it('waits only for the connections the switch listed (ActiveConn counts the new method\'s too), until none is opening or established', () => {
      const listed = ['203.0.113.100:41234 198.51.100.50:80 192.0.2.13:80', '203.0.113.100:41300 198.51.100.50:80 192.0.2.13:80'];
      const tables = [old + opening + others, old + opening.replace('SYN_RECV   ', 'ESTABLISHED') + others, old.replace('ESTABLISHED', 'FIN_WAIT   ') + others, others];
      // Without a VIP named, no question to the kernel whether it holds one.
      const out = run(`${fakeIpvsadm([9, 9, 9, 9, 9], tables)}${drainScript([web], 30, undefined, [], [listed])}`);
      expect(parseDrain(out, 1)).toEqual({ drained: true, polls: 3, active: [0], seconds: expect.any(Number) });
      // Beside a leaving server, each is counted its own way: the leaving one by ActiveConn, then the table.
      const tunOld = `TCP 14:59  ESTABLISHED 203.0.113.100:41234 198.18.100.50:80   192.0.2.14:80\n`;
      const both = run(`${fakeIpvsadm([2, 0, 0, 0, 0], [tunOld, tunOld, '', '', ''])}${drainScript([web, tun], 30, undefined, [], [undefined, ['203.0.113.100:41234 198.18.100.50:80 192.0.2.14:80']])}`);
      expect(parseDrain(both, 2)).toEqual({ drained: true, polls: 3, active: [0, 0], seconds: expect.any(Number) });
    });

    it('a switched server with nothing listed is drained at once', () => {
      expect(parseDrain(run(`${fakeIpvsadm([9], [old + others])}${drainScript([web], 30, undefined, [], [[]])}`), 1)).toEqual({ drained: true, polls: 1, active: [0], seconds: expect.any(Number) });
    });
  });

  it('a server that is already gone counts as drained', () => {
    const gone: RealServerRef = { ...web, server: '192.0.2.99:80' };
    const outcome = parseDrain(run(`${fakeIpvsadm([3])}${drainScript([gone], 30)}`), 1);
    // One poll, no sleep: the elapsed whole seconds are 0, or 1 when a second boundary falls inside it.
    expect(outcome).toEqual({ drained: true, polls: 1, active: [0], seconds: expect.any(Number) });
    expect(outcome?.seconds).toBeLessThanOrEqual(1);
  });

  describe('on a director that does not hold the VIP (the standby of a keepalived pair)', () => {
    const held: RealServerRef = { ...web, vip: '198.51.100.50' };
    /** `ip route get` answering, on its Nth call, the Nth of `answers`: 'local', 'away' or 'none' (no output, exit 2). */
    const fakeIp = (answers: string[]): string => {
      const counter = join(dir, `ip-${Math.random().toString(16).slice(2)}`);
      const cases = answers.map((answer, index) => `${index}) a=${answer} ;;`).join(' ');
      return `ip() {
  n=$(cat ${counter} 2>/dev/null || echo 0); echo $((n + 1)) > ${counter}
  a=none; case "$n" in ${cases} *) a=${answers.at(-1) ?? 'none'} ;; esac
  [ "$3" = 198.51.100.50 ] || a=none
  case "$a" in
    local) printf 'local 198.51.100.50 dev lo table local src 198.51.100.50 uid 0 \n    cache <local>\n' ;;
    away) printf '198.51.100.50 dev eth0 src 198.51.100.2 uid 0 \n    cache\n' ;;
    *) echo 'RTNETLINK answers: Network is unreachable' >&2; return 2 ;;
  esac
}
`;
    };

    it('its connections to a leaving server are leftovers: no traffic reaches them, the drain ends at once', () => {
      const out = run(`${fakeIp(['away'])}${fakeIpvsadm([4, 4, 4])}${drainScript([held], 30)}`);
      expect(parseDrain(out, 1)).toEqual({ drained: true, polls: 1, active: [0], seconds: expect.any(Number) });
    });

    it('counts them while it holds the VIP, and asks again at every poll', () => {
      const holding = run(`${fakeIp(['local'])}${fakeIpvsadm([3, 2, 0])}${drainScript([held], 30)}`);
      expect(parseDrain(holding, 1)).toEqual({ drained: true, polls: 3, active: [0], seconds: expect.any(Number) });
      // The VIP leaves after the first poll (a failover mid-drain): from then on nothing reaches the server through it.
      const failover = run(`${fakeIp(['local', 'away'])}${fakeIpvsadm([3, 3, 3])}${drainScript([held], 30)}`);
      expect(parseDrain(failover, 1)).toEqual({ drained: true, polls: 2, active: [0], seconds: expect.any(Number) });
    });

    it('an opening connection in the table counts only while the VIP is held', () => {
      const opening = 'TCP 00:59  SYN_RECV    203.0.113.100:41234 198.51.100.50:80   192.0.2.13:80\n';
      const away = run(`${fakeIp(['away'])}${fakeIpvsadm([0], [opening])}${drainScript([held], 30)}`);
      expect(parseDrain(away, 1)).toMatchObject({ drained: true, polls: 1 });
      const here = run(`${fakeIp(['local'])}${fakeIpvsadm([0, 0], [opening, ''])}${drainScript([held], 30)}`);
      expect(parseDrain(here, 1)).toMatchObject({ drained: true, polls: 2 });
    });

    it('when the kernel gives no answer, the connections count', () => {
      const outcome = parseDrain(run(`${fakeIp(['none'])}${fakeIpvsadm([4, 4, 4])}${drainScript([held], 1)}`), 1);
      expect(outcome).toMatchObject({ drained: false, active: [4] });
    });

    describe('a VIP another director announced in this run (it moved; the router sends it there)', () => {
      /** The fake table, plus `ipvsadm -L -n --stats --exact`: 192.0.2.13:80 with `inPackets[call]` (the last one from then on). */
      const withStats = (active: number[], inPackets: number[]): string => {
        const counter = join(dir, `stats-${Math.random().toString(16).slice(2)}`);
        const cases = inPackets.map((count, index) => `${index}) p=${count} ;;`).join(' ');
        return `${fakeIpvsadm(active).replace('ipvsadm() {', 'ipvsadm_table() {')}ipvsadm() {
  [ "$3" = --stats ] || { ipvsadm_table "$@"; return; }
  n=$(cat ${counter} 2>/dev/null || echo 0); echo $((n + 1)) > ${counter}
  p=${inPackets.at(-1) ?? 0}; case "$n" in ${cases} *) ;; esac
  printf 'Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n  -> RemoteAddress:Port\n'
  printf 'TCP  198.51.100.50:80 9 %s 0 900 0\n  -> 192.0.2.13:80 4 %s 0 600 0\n' "$p" "$p"
}
`;
      };
      const established = Array<number>(40).fill(4);

      it(`stops counting a leaving server's connections once no packet reached it for ${QUIET_SECONDS} s`, () => {
        const outcome = parseDrain(run(`${fakeIp(['local'])}${withStats(established, [10, 20])}${drainScript([held], 30, undefined, ['198.51.100.50'])}`), 1);
        expect(outcome).toMatchObject({ drained: true, active: [0] });
        // The count last changed at the second poll.
        expect(outcome?.seconds).toBeGreaterThanOrEqual(QUIET_SECONDS + 1);
        expect(outcome?.seconds).toBeLessThan(QUIET_SECONDS + 5);
      }, 20_000);

      it('waits as ever while packets still reach it (the router still sends here)', () => {
        const growing = Array.from({ length: 40 }, (_, index) => index * 7);
        const outcome = parseDrain(run(`${fakeIp(['local'])}${withStats(established, growing)}${drainScript([held], 3, undefined, ['198.51.100.50'])}`), 1);
        expect(outcome).toMatchObject({ drained: false, active: [4] });
      }, 20_000);

      it('a VIP that did not move is never judged by its packets', () => {
        expect(drainScript([held], 30)).not.toContain('--stats');
        expect(drainScript([held], 30, undefined, ['198.51.100.51'])).not.toContain('--stats');
      });

      it(`a fwmark server's connections to a moved VIP stop counting once no packet reached it for ${QUIET_SECONDS} s`, () => {
        const tables = Array<string>(40).fill(markEntry('ESTABLISHED', '198.51.100.50:443'));
        const outcome = parseDrain(run(`${fakeIp(['local'])}${withStats([], [10, 20]).replace(/^ipvsadm_table\(\) \{/m, `${fakeIpvsadm([], tables).replace('ipvsadm() {', 'ipvsadm_conns() {')}ipvsadm_table() {\n  [ "$3" != -c ] || { ipvsadm_conns "$@"; return; }`)}${drainScript([marked], 30, undefined, ['198.51.100.50'])}`), 1);
        expect(outcome).toMatchObject({ drained: true, active: [0] });
        expect(outcome?.seconds).toBeGreaterThanOrEqual(QUIET_SECONDS + 1);
        expect(outcome?.seconds).toBeLessThan(QUIET_SECONDS + 5);
      }, 20_000);
    });
  });

  describe("a fwmark service's server, with the VIPs its mark covers", () => {
    /** `ip route get ADDRESS` answering `local` for the addresses in `local`, a route away for the others. */
    const fakeIpBy = (local: readonly string[]): string => `ip() {
  case " ${local.join(' ')} " in
    *" $3 "*) printf 'local %s dev lo table local src %s uid 0 \n    cache <local>\n' "$3" "$3" ;;
    *) printf '%s dev eth0 src 198.51.100.2 uid 0 \n    cache\n' "$3" ;;
  esac
}
`;
    const two: RealServerRef = { ...marked, vips: ['198.51.100.50', '198.51.100.51'] };

    it('asks at every poll whether each VIP is delivered here, and counts in the connection table, not ActiveConn', () => {
      const script = drainScript([marked], 30);
      expect(script).toContain("ip route get 198.51.100.50 2>/dev/null");
      expect(script).toContain("keys='198.51.100.50 192.0.2.13'");
      expect(script).not.toContain('ipvsadm -L -n -f');
      const several = drainScript([two], 30);
      expect(several).toContain("ip route get 198.51.100.50 2>/dev/null");
      expect(several).toContain("ip route get 198.51.100.51 2>/dev/null");
      expect(several).toContain("keys='198.51.100.50 192.0.2.13|198.51.100.51 192.0.2.13'");
      // Without a known VIP (a mark lvsprov does not make) it counts as ever.
      expect(drainScript([{ ...marked, vips: [] }], 30)).toContain("ipvsadm -L -n -f 1 2>/dev/null | awk -v rs=192.0.2.13:80 '$1 == \"->\" && $2 == rs { n = $5 }");
    });

    it('waits for its connections, opening ones too, while this director holds the VIP', () => {
      const tables = [markEntry('ESTABLISHED', '198.51.100.50:443') + markEntry('SYN_RECV', '198.51.100.50:80'), markEntry('SYN_RECV', '198.51.100.50:80'), ''];
      const out = run(`${fakeIpBy(['198.51.100.50'])}${fakeIpvsadm([], tables)}${drainScript([marked], 30)}`);
      expect(parseDrain(out, 1)).toEqual({ drained: true, polls: 3, active: [0], seconds: expect.any(Number) });
      const counted = parseDrain(run(`${fakeIpBy(['198.51.100.50'])}${fakeIpvsadm([], Array<string>(5).fill(tables[0] ?? ''))}${drainScript([marked], 1)}`), 1);
      expect(counted).toMatchObject({ drained: false, active: [2] });
    });

    it('ends at once where the VIP went to another director: the entries left here get no packet', () => {
      const tables = Array<string>(5).fill(markEntry('ESTABLISHED', '198.51.100.50:443'));
      const out = run(`${fakeIpBy([])}${fakeIpvsadm([], tables)}${drainScript([marked], 30)}`);
      expect(parseDrain(out, 1)).toEqual({ drained: true, polls: 1, active: [0], seconds: expect.any(Number) });
    });

    it('of a mark whose VIPs only partly left, counts only the connections to those still here', () => {
      // Entries that do not count: another server, a closing connection, UDP.
      const others = [
        'TCP 00:59  ESTABLISHED 203.0.113.100:41234 198.51.100.51:80   192.0.2.11:80\n',
        'TCP 00:59  FIN_WAIT    203.0.113.100:41234 198.51.100.51:80   192.0.2.13:80\n',
        'UDP 04:50  UDP         203.0.113.100:5353 198.51.100.51:53   192.0.2.13:53\n',
      ].join('');
      const gone = markEntry('ESTABLISHED', '198.51.100.50:443').repeat(3);
      const tables = [others + gone + markEntry('ESTABLISHED', '198.51.100.51:8080'), others + gone];
      const out = run(`${fakeIpBy(['198.51.100.51'])}${fakeIpvsadm([], tables)}${drainScript([two], 30)}`);
      expect(parseDrain(out, 1)).toEqual({ drained: true, polls: 2, active: [0], seconds: expect.any(Number) });
      const stuck = parseDrain(run(`${fakeIpBy(['198.51.100.50', '198.51.100.51'])}${fakeIpvsadm([], Array<string>(5).fill(tables[0] ?? ''))}${drainScript([two], 1)}`), 1);
      expect(stuck).toMatchObject({ drained: false, active: [4] });
    });
  });

  // A run interrupted during the drain, or killed, closes its channel; the shell on the director
  // holds the host lock until it ends, and ends at its next write into the closed channel.
  describe('a poll whose reader went away (the run was interrupted or killed) ends at once, not at its timeout', () => {
    it.each([
      ['a shell that takes SIGPIPE', 'exec sh -s'],
      ['a shell that ignores SIGPIPE (its write fails)', 'trap "" PIPE; exec sh -s'],
    ])('%s', async (_, shell) => {
      const child = spawn('/bin/sh', ['-c', shell], { stdio: ['pipe', 'pipe', 'ignore'] });
      const ended = new Promise<number>((resolve) => child.on('exit', () => resolve(Date.now())));
      child.stdin.end(`${fakeIpvsadm(Array<number>(60).fill(1))}${drainScript([web], 60)}`);
      // Polling by now, a server still active.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const closed = Date.now();
      child.stdout.destroy();
      const at = await Promise.race([ended, new Promise<number>((resolve) => setTimeout(() => resolve(Number.NaN), 10_000))]);
      if (Number.isNaN(at)) child.kill('SIGKILL');
      expect((at - closed) / 1000).toBeLessThan(3);
    }, 15_000);
  });

  it('quotes every word it takes from the plan', () => {
    const odd: RealServerRef = { service: ['-t', "198.51.100.50:80'; touch /tmp/x; '"], server: "1'2", address: '' };
    expect(drainScript([odd], 5)).toContain(`ipvsadm -L -n -t '198.51.100.50:80'\\''; touch /tmp/x; '\\''' 2>/dev/null | awk -v rs='1'\\''2'`);
  });

  it('output that is not the last line it prints is not an outcome', () => {
    expect(parseDrain('sh: ipvsadm: not found\n', 1)).toBeUndefined();
    expect(parseDrain('drained 1 1 0 0\n', 1)).toBeUndefined();
  });
});
