import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createLab, flatLabSpec, type Lab } from '../../src/lab/netns/index.js';
import { summarizeProfile, type CpuProfile } from './cpu-profile.js';
import { addDebianHostKeys } from './debian-host-keys.js';
import { floorContender, type HostOptions } from './floor.js';
import { useStockBashrc } from './host-shell.js';
import { lvsprovInventory, writeYaml } from './inventories.js';
import { cli, lvsprovPlaybook } from './lvsprov-contender.js';
import { reapedCpuSeconds } from './proc-cpu.js';
import { repoRoot } from './repo-root.js';
import { resetHosts } from './reset.js';
import { SshdLogs } from './sshd-logs.js';
import { runEnv, timedRun, usage } from './timed-run.js';

// One lab, many rounds, to compare node flags for the CLI (or to see whether a lab drifts run
// over run): each round runs the curve25519 floor and, per variant of node flags, a re-run
// (with --first: a reset, a first apply, then a re-run), every other round in the reverse order.
// One line per run: wall time, the hosts' CPU per host, lvsprov's CPU, peak RSS, and with
// --cpu-prof the main thread's time in garbage collection (wall-clock samples). A variant whose
// first word ends in .js or .cjs runs that bin instead of this tree's (another build, kept in a copy of
// the tree), with the flags after it. --debian-host-keys gives the hosts Debian's three host keys.
// --added-rtt MS puts every host behind a proxy in the control namespace that holds each chunk
// MS/2 in each direction (latency-proxy.ts), the floor and lvsprov alike: a network with a longer
// round trip, which this kernel cannot add itself.
//   node dist-bench/bench/src/flag-rounds.js --hosts 1000 --rounds 2 [--first] [--cpu-prof DIR] [--debian-host-keys] [--added-rtt MS] -- '--max-semi-space-size=2' '' '/tmp/old/bin/lvsprov.cjs'

const usageText = "usage: node dist-bench/bench/src/flag-rounds.js [--hosts N] [--rounds N] [--first] [--cpu-prof DIR] [--debian-host-keys] [--added-rtt MS] -- '[BIN.cjs] FLAGS' ['[BIN.cjs] FLAGS'...]";

const { values, positionals } = parseArgs({
  options: {
    hosts: { type: 'string', default: '50' },
    rounds: { type: 'string', default: '3' },
    first: { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
    'debian-host-keys': { type: 'boolean', default: false },
    'added-rtt': { type: 'string', default: '0' },
  },
  allowPositionals: true,
});
const hosts = Number(values.hosts);
const rounds = Number(values.rounds);
const addedRttMs = Number(values['added-rtt']);
if (!Number.isInteger(hosts) || hosts < 1 || hosts > 1000 || !Number.isInteger(rounds) || rounds < 1 || !Number.isInteger(addedRttMs) || addedRttMs < 0 || addedRttMs % 2 !== 0) {
  process.stderr.write(`${usageText}\n`);
  process.exit(4);
}
const variants = positionals.length > 0 ? positionals : [''];
const profileRoot = values['cpu-prof'];

/** Milliseconds of the profile's samples taken while the main thread was collecting garbage. */
async function collectingMs(dir: string): Promise<number | undefined> {
  const file = (await readdir(dir)).find((name) => name.endsWith('.cpuprofile'));
  if (!file) return undefined;
  const summary = summarizeProfile(JSON.parse(await readFile(join(dir, file), 'utf8')) as CpuProfile);
  return summary.byArea.find(([where]) => where === '(garbage collector)')?.[1] ?? 0;
}

const label = (flags: string): string => flags || 'no flags';

/** A variant's bin (its first word when that ends in .js or .cjs, else this tree's) and its node flags. */
function binAndFlags(variant: string): [string, string[]] {
  const [first, ...rest] = variant.split(/\s+/).filter(Boolean);
  return first !== undefined && /\.c?js$/.test(first) ? [first, rest] : [cli, first === undefined ? [] : [first, ...rest]];
}

/** The proxy's first port; host i listens on the next i. */
const proxyBasePort = 20000;

/**
 * Start the latency proxy in the control namespace, and the ways through it: for lvsprov an
 * ssh_config block per host (its address as the Host, HostName 127.0.0.1 and a port of its own,
 * its key looked up under its address by HostKeyAlias); for the floor the same as ssh options.
 */
async function behindProxy(lab: Lab, dir: string, rttMs: number): Promise<{ proxy: ChildProcess; inventory: Record<string, unknown>; floorOptions: HostOptions }> {
  const targets = lab.hosts.map((host, index) => ({ listen: proxyBasePort + index, host: host.addresses[0] as string, port: 22 }));
  const targetsFile = join(dir, 'proxy-targets.json');
  await writeFile(targetsFile, JSON.stringify(targets));
  const sshConfig = join(dir, 'proxy-ssh-config');
  await writeFile(sshConfig, targets.map((target) => `Host ${target.host}\n  HostName 127.0.0.1\n  Port ${target.listen}\n  HostKeyAlias ${target.host}\n`).join(''));
  const [command, ...args] = lab.controlArgv([process.execPath, join(repoRoot, 'dist-bench/bench/src/latency-proxy.js'), String(rttMs / 2), targetsFile]);
  const child = spawn(command as string, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`the latency proxy exited (${code}) before it listened`)));
  });
  const inventory = lvsprovInventory(lab) as { ssh: Record<string, unknown> };
  inventory.ssh.config_file = sshConfig;
  const floorOptions: HostOptions = (index) => ['-o', 'HostName=127.0.0.1', '-o', `Port=${proxyBasePort + index}`, '-o', `HostKeyAlias=${targets[index]?.host ?? ''}`];
  return { proxy: child, inventory, floorOptions };
}

async function main(): Promise<void> {
  const workDir = await mkdtemp(join(tmpdir(), 'lvsprov-flag-rounds-'));
  let lab: Lab | undefined;
  let proxied: Awaited<ReturnType<typeof behindProxy>> | undefined;
  const stop = (): void => void (lab?.destroy() ?? Promise.resolve()).finally(() => process.exit(130));
  process.once('SIGINT', stop).once('SIGTERM', stop);
  try {
    lab = await createLab(flatLabSpec(`rounds${(process.pid % 46656).toString(36)}`, hosts), join(workDir, 'lab'));
    const theLab = lab;
    if (values['debian-host-keys']) await addDebianHostKeys(theLab);
    await SshdLogs.enable(theLab, { LoginGraceTime: '300' });
    await useStockBashrc(theLab);
    proxied = addedRttMs > 0 ? await behindProxy(theLab, workDir, addedRttMs) : undefined;
    const inventory = await writeYaml(workDir, 'inventory.yaml', proxied ? proxied.inventory : lvsprovInventory(theLab));
    const timing = { env: runEnv, rssFile: join(workDir, 'rss.txt'), wrap: (argv: readonly string[]) => theLab.controlArgv(argv) };
    const sshds = theLab.hosts.map((host) => host.sshdPid);
    const print = (what: string, seconds: number, hostCpu: number | undefined, rest: string): void => {
      const perHost = hostCpu === undefined ? '?' : ((hostCpu * 1000) / hosts).toFixed(1);
      process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${what.padEnd(40)} ${seconds.toFixed(2)} s  hosts ${perHost} ms/host  ${rest} load ${loadavg()[0]?.toFixed(1)}\n`);
    };
    const hostCpuOf = async <T>(run: () => Promise<T>): Promise<[T, number | undefined]> => {
      const before = await reapedCpuSeconds(sshds);
      const result = await run();
      const after = await reapedCpuSeconds(sshds);
      return [result, before !== undefined && after !== undefined ? after - before : undefined];
    };
    const floor = floorContender(theLab, 'curve25519', proxied?.floorOptions);
    const apply = async (flags: string, kind: 'first apply' | 're-run', round: number): Promise<void> => {
      const profileDir = profileRoot ? join(profileRoot, `${hosts}-${round}-${kind.replace(/\W/g, '')}-${flags.replace(/\W/g, '') || 'none'}`) : undefined;
      if (profileDir) await mkdir(profileDir, { recursive: true });
      const [bin, nodeFlags] = binAndFlags(flags);
      const argv = [process.execPath, ...nodeFlags, ...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : []), bin, 'apply', '-i', inventory, '-p', lvsprovPlaybook, '--json'];
      const [result, hostCpu] = await hostCpuOf(() => timedRun(argv, { ...timing, cwd: repoRoot }));
      const report = JSON.parse(result.stdout) as { hosts: Array<{ status: string }>; firstConnectionMs?: number; handshakes?: { limit: number; widest?: number; peak: number } };
      if (!Array.isArray(report.hosts)) throw new Error(`${kind} [${label(flags)}] exited ${result.code}: ${result.stderr.slice(0, 2000)}${result.stdout.slice(0, 2000)}`);
      const expected = kind === 'first apply' ? 'changed' : 'ok';
      const wrong = report.hosts.filter((host) => host.status !== expected).length;
      const { cpuSeconds, maxRssKiB } = usage(result);
      const gc = profileDir ? await collectingMs(profileDir) : undefined;
      print(`${kind} [${label(flags)}]`, result.seconds, hostCpu, `ctl ${cpuSeconds?.toFixed(2) ?? '?'} s  rss ${maxRssKiB === undefined ? '?' : Math.round(maxRssKiB / 1024)} MiB  first connection ${report.firstConnectionMs ?? '?'} ms  handshakes ${report.handshakes ? `${report.handshakes.limit}-${report.handshakes.widest ?? report.handshakes.limit} peak ${report.handshakes.peak}` : '?'}${gc === undefined ? '' : `  gc ${gc.toFixed(0)} ms`}${wrong > 0 ? `  ${wrong} hosts not ${expected}` : ''}`);
    };
    if (!values.first) {
      await resetHosts(theLab);
      await apply(variants[0] ?? '', 'first apply', 0);
    }
    for (let round = 1; round <= rounds; round++) {
      const [outcome, hostCpu] = await hostCpuOf(() => floor.run(timing, false));
      print('floor, curve25519', outcome.seconds, hostCpu, `ctl ${outcome.cpuSeconds?.toFixed(2) ?? '?'} s `);
      for (const flags of round % 2 === 1 ? variants : [...variants].reverse()) {
        if (values.first) {
          await resetHosts(theLab);
          await apply(flags, 'first apply', round);
        }
        await apply(flags, 're-run', round);
      }
    }
  } finally {
    proxied?.proxy.kill();
    process.off('SIGINT', stop).off('SIGTERM', stop);
    await lab?.destroy();
    await rm(workDir, { recursive: true, force: true });
  }
}

await main();
