import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect } from 'vitest';
import { parseDocument } from 'yaml';
import type { FailoverReport } from '../../src/verify/failover/report.js';
import { runCli, startCli, type CliResult } from '../support/cli.js';
import type { ClusterLab } from '../support/cluster-lab.js';
import { heldBy, holders as holdersOf, type FloatingAddress } from '../support/ha-lab.js';
import { ok } from '../support/lab-test.js';

// `lvsprov verify --failover` against a director pair on a real kernel: real keepalived, real
// VRRP, real IPVS, the lab's client streaming requests. The drill must pass with its figures
// within the issue's 5 s, fail honestly when --max-gap is below what it measured, refuse when
// there is no running backup, and put keepalived back when it is interrupted; after each run
// exactly one director, dir1, holds the VIP. Last, with dir1 on `nopreempt`, the drill expects
// dir2 to keep the VIP when dir1 returns. The cases run on ha-failover.test.ts's lab, after its
// own (booting a guest and applying the pair again cost about 45 s of CI for nothing new): its
// lab pair must be settled (dir1 master, dir2 backup, both running keepalived) under `inventory`.

/** What the drills need of the lab they run on. */
export interface DrillLab {
  readonly lab: () => ClusterLab;
  /** The inventory last applied to the lab. */
  readonly inventory: () => string;
  readonly labIt: (name: string, body: () => Promise<void>, timeoutMs: number) => void;
  /** Ends the lab's own traffic: each drill judges its own client's requests. */
  readonly quiet: () => Promise<void>;
}

const VIP = '198.51.100.50';
const DIRECTORS = ['dir1', 'dir2'] as const;

const log = (line: string): void => console.info(`[drill] ${line}`);
const lvsprov = (...args: string[]): Promise<CliResult> => runCli(args);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function report(result: CliResult): FailoverReport & { exitCode: number } {
  try {
    return JSON.parse(result.stdout) as FailoverReport & { exitCode: number };
  } catch {
    throw new Error(`verify --failover printed no JSON (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
  }
}

export function failoverDrills({ lab: labOf, inventory: inventoryOf, labIt, quiet }: DrillLab): void {
  let lab: ClusterLab;
  let inventory: string;

  /** The VIP as test/support/ha-lab.ts reads it in the guest, not through lvsprov. */
  const vip = (): FloatingAddress => ({ lab, directors: DIRECTORS, address: VIP, device: 'eth0', observer: { host: 'router', device: 'eth1' } });
  const holders = (): Promise<string[]> => holdersOf(vip());

  const keepalivedRuns = async (host: string): Promise<boolean> =>
    (await lab.sh(host, 'if [ -r /run/keepalived.pid ] && kill -0 "$(cat /run/keepalived.pid)" 2>/dev/null; then echo yes; else echo no; fi')).trim() === 'yes';

  /** Until keepalived has exited on `host`, or fail after 20 s. */
  const gone = async (host: string): Promise<void> => {
    for (const deadline = Date.now() + 20_000; await keepalivedRuns(host); await sleep(100)) {
      if (Date.now() > deadline) throw new Error(`keepalived still runs on ${host} 20 s after it was stopped`);
    }
  };

  /** Until dir1 alone holds the VIP (the lab's steady state between runs). */
  const settledOnDir1 = async (): Promise<void> => {
    await heldBy(vip(), 'dir1', true, 30_000);
  };

  /** Start a drill, send it SIGINT as soon as its progress shows `line`, and return how it ended. */
  async function interruptedAt(line: string): Promise<CliResult> {
    const run = startCli(['verify', '-i', inventory, '--failover']);
    const deadline = Date.now() + 120_000;
    while (!run.output().stderr.includes(line) && Date.now() < deadline) await sleep(20);
    expect(run.output().stderr).toContain(line);
    run.child.kill('SIGINT');
    return run.done;
  }

  describe('verify --failover: a maintenance-window drill on a real director pair', () => {
    beforeAll(async () => {
      lab = labOf();
      inventory = inventoryOf();
      if (!lab) return;
      await quiet();
      await settledOnDir1();
    }, 120_000);

    labIt('the drill hands the VIP to dir2 and back to dir1, within the issue\'s 5 s and with no failed request after either handover', async () => {
      const text = await lvsprov('verify', '-i', inventory, '--failover');
      log(`verify --failover (exit ${text.code}):\n${text.stdout}\n${text.stderr}`);
      expect(text.code, `${text.stdout}\n${text.stderr}`).toBe(0);
      expect(text.stdout).toMatch(/^VRRP VI_51 {2}198\.51\.100\.50 {2}PASS$/m);
      expect(text.stdout).toContain('master dir1, backup dir2; dir1 takes the VIPs back when it returns (preemption)');
      expect(text.stdout).toMatch(/^RESULT: PASS/m);
      await settledOnDir1();

      const json = await lvsprov('verify', '-i', inventory, '--failover', '--json');
      const drill = report(json);
      expect(drill.exitCode, json.stderr).toBe(0);
      expect(drill.client).toBe('client');
      expect(drill.drills).toHaveLength(1);
      const [only] = drill.drills;
      expect(only).toMatchObject({ instance: 'VI_51', vips: [VIP], urls: [`http://${VIP}:80/`], master: 'dir1', backup: 'dir2', preempts: true, status: 'pass', problems: [] });
      const [away, back] = only?.phases ?? [];
      for (const [phase, action, holder] of [[away, 'stop keepalived on dir1', 'dir2'], [back, 'start keepalived on dir1', 'dir1']] as const) {
        log(`${action}: ${holder} held the VIP after ${phase?.heldAfterSeconds} s; longest gap ${phase?.gapSeconds} s; handover complete at ${phase?.handoverCompletedSeconds} s; ${phase?.failed} of ${phase?.sent} failed, ${phase?.failedAfterHandover} after the handover ${JSON.stringify(phase?.lateFailures)}`);
        expect(phase).toMatchObject({ action, expected: holder, holders: [holder], status: 'pass', failedAfterHandover: 0 });
        // At 10 requests a second the longest gap is never below the spacing of the requests.
        expect(phase?.gapSeconds).toBeGreaterThanOrEqual(0.05);
        expect(phase?.gapSeconds).toBeLessThanOrEqual(5);
        expect(phase?.sent).toBeGreaterThanOrEqual(20);
        expect(phase?.heldAfterSeconds).toBeGreaterThan(0);
      }
      await settledOnDir1();
      expect(await keepalivedRuns('dir1')).toBe(true);
      expect(await keepalivedRuns('dir2')).toBe(true);
    }, 300_000);

    labIt('with --max-gap below the gap it measures, the drill fails and says by how much; dir1 holds the VIP again afterwards', async () => {
      const result = await lvsprov('verify', '-i', inventory, '--failover', '--max-gap', '0.05', '--json');
      const drill = report(result);
      log(`--max-gap 0.05: exit ${result.code}; ${drill.failures.join(' | ')}`);
      expect(result.code, result.stderr).toBe(5);
      expect(drill.exitCode).toBe(5);
      expect(drill.drills[0]?.status).toBe('fail');
      expect(drill.failures.some((failure) => /^VI_51: stop keepalived on dir1: longest gap \d+\.\d\d s exceeds --max-gap 0\.05 s$/.test(failure))).toBe(true);
      for (const phase of drill.drills[0]?.phases ?? []) expect(phase.gapSeconds).toBeGreaterThan(0.05);
      await settledOnDir1();
      expect(await holders()).toEqual(['dir1']);
      expect(await keepalivedRuns('dir1')).toBe(true);
    }, 300_000);

    labIt('with keepalived stopped on the backup the drill refuses, touches nothing and exits 5', async () => {
      await lab.sh('dir2', '/etc/init.d/keepalived stop');
      try {
        // The init script only signals keepalived, which then leaves VRRP in its own time: a
        // drill started before it has gone would rightly count dir2 as a running backup.
        await gone('dir2');
        const result = await lvsprov('verify', '-i', inventory, '--failover');
        log(`no running backup: exit ${result.code}\n${result.stdout}`);
        expect(result.code, result.stderr).toBe(5);
        expect(result.stdout).toContain('VRRP VI_51  198.51.100.50  REFUSED');
        expect(result.stdout).toContain('! keepalived runs on no backup (dir2): stopping it on dir1 would leave 198.51.100.50 with no holder');
        expect(await holders()).toEqual(['dir1']);
        expect(await keepalivedRuns('dir1')).toBe(true);
      } finally {
        await lab.sh('dir2', '/etc/init.d/keepalived start');
      }
    }, 120_000);

    labIt('Ctrl-C while dir2 holds the VIP: keepalived starts again on dir1, which takes the VIP back; exit 130', async () => {
      const result = await interruptedAt('verify: VI_51: dir2 holds 198.51.100.50');
      log(`interrupted drill: exit ${result.code}\n${result.stdout}\n${result.stderr}`);
      expect(result.code).toBe(130);
      expect(result.stderr).toContain('verify: VI_51: start keepalived on dir1 again');
      expect(result.stdout).toMatch(/^RESULT: INTERRUPTED/m);
      expect(await keepalivedRuns('dir1')).toBe(true);
      await settledOnDir1();
    }, 300_000);

    labIt('Ctrl-C as the drill stops keepalived on dir1: the start that follows at once finds it gone and starts it again; exit 130', async () => {
      // Debian's init script only signals keepalived, which takes a while to give up its VIPs and
      // exit; a start sent meanwhile finds it "already running" and the script still exits 0.
      const result = await interruptedAt('verify: VI_51: stop keepalived on dir1');
      log(`drill interrupted at the stop: exit ${result.code}\n${result.stdout}\n${result.stderr}`);
      expect(result.code).toBe(130);
      expect(result.stderr).toContain('verify: VI_51: start keepalived on dir1 again');
      expect(result.stdout).not.toContain('starting keepalived on dir1 again failed');
      expect(await keepalivedRuns('dir1')).toBe(true);
      await settledOnDir1();
    }, 300_000);

    labIt('with nopreempt on dir1 nobody takes the VIP back: the drill expects the backup to keep it when the master returns, and the master to stand by', async () => {
      // The same lab with dir1 as a backup that does not preempt: keepalived reloads, dir1 keeps the VIP it holds.
      const document = parseDocument(readFileSync(inventory, 'utf8'));
      document.setIn(['lvs', 'ha', 'directors', 'dir1'], document.createNode({ priority: 254, state: 'backup', nopreempt: true }));
      const nopreempt = join(dirname(inventory), 'inventory-nopreempt.yaml');
      writeFileSync(nopreempt, document.toString());
      ok(await lvsprov('apply', '-i', nopreempt), 'apply with nopreempt');
      // Whether keepalived's reload keeps dir1 master or hands the VIP to dir2, nobody preempts now:
      // the drill's backup must keep the VIP when the master returns.
      const deadline = Date.now() + 30_000;
      let now = await holders();
      while (now.length !== 1 && Date.now() < deadline) {
        await sleep(500);
        now = await holders();
      }
      const [master = ''] = now;
      const backup = master === 'dir1' ? 'dir2' : 'dir1';
      log(`nopreempt applied: ${master} holds the VIP`);
      const result = await lvsprov('verify', '-i', nopreempt, '--failover', '--json');
      const drill = report(result);
      const [only] = drill.drills;
      log(`nopreempt: exit ${result.code}; ${(only?.phases ?? []).map((phase) => `${phase.action}: held by ${phase.holders.join('+')}, longest gap ${phase.gapSeconds} s, ${phase.failed} of ${phase.sent} failed`).join('; ')}${drill.failures.length > 0 ? `; ${drill.failures.join(' | ')}` : ''}`);
      expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
      expect(only).toMatchObject({ master, backup, preempts: false, status: 'pass' });
      expect(only?.phases.map((phase) => [phase.action, phase.expected, phase.holders, phase.status])).toEqual([
        [`stop keepalived on ${master}`, backup, [backup], 'pass'],
        [`start keepalived on ${master}`, backup, [backup], 'pass'],
      ]);
      expect(await holders()).toEqual([backup]);
      expect(await keepalivedRuns(master)).toBe(true);
    }, 600_000);
  });
}
