import { spawn, spawnSync, type ChildProcessByStdio, type SpawnSyncReturns } from 'node:child_process';
import type { Readable } from 'node:stream';
import type { AnyResourceType, Change, ResourceType } from '../../src/resources/types.js';

// Runs resource probes and plans for real inside a network namespace this test created, the way
// the engine will on a lab host: the probe snippet in one shell, the plan's commands in another
// under `set -e`.

export const isRoot = process.getuid?.() === 0;

/** Skips without root, except in CI, where a skipped real-host suite would hide a broken one. */
export function requireRoot(ctx: { skip: (note?: string) => never }): void {
  if (isRoot) return;
  if (process.env.CI === 'true') throw new Error('this suite needs root (network namespaces) and CI must run it as root');
  ctx.skip('needs root to create network namespaces');
}

export function sh(argv: string[], timeout = 30_000): SpawnSyncReturns<string> {
  const [program = 'false', ...args] = argv;
  return spawnSync(program, args, { encoding: 'utf8', timeout });
}

export function inNetns(ns: string, script: string, timeout = 30_000): SpawnSyncReturns<string> {
  return sh(['ip', 'netns', 'exec', ns, '/bin/sh', '-c', script], timeout);
}

export function checked(result: SpawnSyncReturns<string>, what: string): string {
  if (result.error) throw new Error(`${what}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${what} exited ${result.status}: ${result.stderr}`);
  return result.stdout;
}

export function createNetns(ns: string): void {
  checked(sh(['ip', 'netns', 'add', ns]), `ip netns add ${ns}`);
  checked(sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']), 'lo up');
}

export function deleteNetns(ns: string): void {
  sh(['ip', 'netns', 'del', ns]);
}

export function probe(type: AnyResourceType, spec: unknown, ns: string): unknown {
  const run = inNetns(ns, type.probe(spec));
  checked(run, `${type.name} probe`);
  return type.parse({ stdout: run.stdout, status: run.status ?? -1 }, spec);
}

export function plan(type: AnyResourceType, spec: unknown, ns: string): Change[] {
  return type.plan(spec, probe(type, spec, ns), { host: ns });
}

/** Probes, plans and applies; returns the plan it applied and the apply's outcome. */
export function converge(type: AnyResourceType, spec: unknown, ns: string): { changes: Change[]; apply: SpawnSyncReturns<string> } {
  const changes = plan(type, spec, ns);
  const script = ['set -e', ...changes.flatMap((change) => change.commands)].join('\n');
  return { changes, apply: inNetns(ns, script, 60_000) };
}

/**
 * A network namespace of its own in a private mount namespace whose `mounts` are fresh tmpfs
 * mounts, so that nothing a test runs there reaches this machine's files or kernel settings.
 */
export class Sandbox {
  private constructor(private readonly child: ChildProcessByStdio<null, Readable, Readable>) {}

  static async start(mounts: readonly string[]): Promise<Sandbox> {
    const setup = [...mounts.map((dir) => `mount -t tmpfs lvsprov-test ${dir}`), 'ip link set lo up', 'echo ready', 'exec sleep 3600'].join(' && ');
    const child = spawn('unshare', ['--net', '--mount', '--propagation', 'private', '--', 'sh', '-c', setup], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => (chunk.toString().includes('ready') ? resolve() : undefined));
      child.on('exit', (code) => reject(new Error(`the sandbox exited ${code}: ${stderr}`)));
    });
    return new Sandbox(child);
  }

  sh(script: string): { stdout: string; status: number } {
    const result = spawnSync('nsenter', [`--target=${this.child.pid}`, '--net', '--mount', '--', 'sh', '-c', script], { encoding: 'utf8', timeout: 30_000 });
    if (result.error) throw result.error;
    return { stdout: result.stdout, status: result.status ?? -1 };
  }

  checked(script: string): string {
    const result = this.sh(`${script} 2>&1`);
    if (result.status !== 0) throw new Error(`${script}: exit ${result.status}: ${result.stdout}`);
    return result.stdout;
  }

  stop(): void {
    this.child.kill('SIGTERM');
  }
}

/**
 * One resource type in the sandbox `box` gives (made in a beforeAll): its probe read back, and its
 * plan or reset plan applied in sh under `set -e`, as the engine would on a host.
 */
export function inSandbox<Spec, Facts>(box: () => Sandbox, type: ResourceType<Spec, Facts>) {
  const facts = (spec: Spec): Facts => type.parse(box().sh(type.probe(spec)), spec);
  const run = (changes: Change[]): Change[] => {
    box().checked(['set -e', ...changes.flatMap((change) => change.commands)].join('\n'));
    return changes;
  };
  return {
    facts,
    apply: (spec: Spec): Change[] => run(type.plan(spec, facts(spec), { host: 'sandbox' })),
    reset: (spec: Spec): Change[] => run(type.reset?.plan(spec, facts(spec), { host: 'sandbox' }) ?? []),
  };
}
