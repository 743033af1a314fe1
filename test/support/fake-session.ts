import { ConnectionLostError, ExecAbortedError } from '../../src/errors.js';
import type { CompiledTask } from '../../src/config/compile.js';
import { isManifestProbe, manifestRead } from './manifest-read.js';
import type { ExecOptions, ExecResult, HostSession, SessionStats } from '../../src/transport/types.js';

// A HostSession that answers the engine's three kinds of script (read, apply, drain) from what a
// test tells it, and records every exec in one log shared by all hosts, so tests can assert the
// exact round trips and their order across hosts. It speaks the batch-script format (markers with
// the run's nonce and each section's status) exactly as a host's sh would print it.

export type ExecKind = 'read' | 'apply' | 'drain';

export interface ExecRecord {
  readonly host: string;
  readonly kind: ExecKind;
  /** apply: each change's commands, joined by newlines; drain: the leaving servers' words, then `bound KEY, KEY` of switched servers' listed connections. */
  readonly sections: readonly string[];
}

export interface FakeHost {
  /** The stdout of one probe of the read script. */
  readonly read?: (probe: string) => string;
  /** Exit status of one change (its commands joined by newlines); the script stops at the first non-zero. */
  readonly status?: (commands: string) => number;
  /** What a change that ends well prints (its commands joined by newlines); default nothing. */
  readonly output?: (commands: string) => string;
  /** The drain script's last line for `count` servers; default: drained at once. */
  readonly drain?: (count: number) => string;
  /** Reject the exec of this kind (a lost connection), or `connect` itself. */
  readonly throwOn?: ExecKind | 'connect';
  /** Tasks whose objects the host's ownership manifest records; none: the host has no manifest. */
  readonly owned?: readonly CompiledTask[];
  /** Called as an exec of this host starts (before it answers); an exec whose signal is aborted by then is stopped. */
  readonly onExec?: (kind: ExecKind) => void;
  /**
   * Milliseconds one change of an apply takes (its commands joined by newlines): the apply then
   * answers late, each section given to the exec's `watch` as it ends, as a shell's output streams.
   */
  readonly takes?: (commands: string) => number;
}

/**
 * The read of the files the probes name (file-prefetch.ts) comes before the first probe, and the
 * pattern above takes it in with that probe's body: it is left out, so that a probe is answered
 * for itself (not as the manifest's, whose path the prefetch names). It finds no file here; each
 * probe reads its own from `read`.
 */
function withoutPrefetch(body: string): string {
  return body.replace(/^lvsprov_prefetched=''\n[\s\S]*?\nunset lvsprov_ids lvsprov_sizes[^\n]*\n\} 9>&-\n[^\n]*\n[^\n]*\n[({]\n/, '');
}

function nonceOf(script: string): string {
  return /'<<<([0-9a-f]+) 0'/.exec(script)?.[1] ?? 'none';
}

function section(nonce: string, index: number, stdout: string, status: number): string {
  return `<<<${nonce} ${index}\n${stdout}\n>>>${nonce} ${index} ${status}\n`;
}

export class FakeSession implements HostSession {
  readonly stats: SessionStats = { connections: 1, channels: 1, execs: 0 };
  closed = false;

  constructor(
    private readonly host: string,
    private readonly behaviour: FakeHost,
    private readonly log: ExecRecord[],
  ) {}

  exec(script: string, options: ExecOptions = {}): Promise<ExecResult> {
    // A closed session (its host finished) takes no exec, as a real one would not.
    if (this.closed) return Promise.reject(new ConnectionLostError(`${this.host}: exec on a closed session`, '', ''));
    this.stats.execs += 1;
    const kind: ExecKind = script.includes('polls=$((polls + 1))') ? 'drain' : script.includes('{ set -e\n') ? 'apply' : 'read';
    const nonce = nonceOf(script);
    const bodies =
      kind === 'drain'
        ? [...script.matchAll(/ipvsadm -L -n (-[tuf] .*?) 2>/g)].map((match) => match[1] ?? '').concat([...script.matchAll(/<<'LVSPROV_BOUND'\n([\s\S]*?)\nLVSPROV_BOUND\n/g)].map((match) => `bound ${(match[1] ?? '').split('\n').join(', ')}`))
        : [...script.matchAll(kind === 'apply' ? /\{ set -e\n([\s\S]*?)\n\} 2>&1/g : /(?:\(\n([\s\S]*?)\n\)|\{\n([\s\S]*?)\n\}) 9>&-\nrc=\$\?/g)].map((match) => withoutPrefetch(match[1] ?? match[2] ?? ''));
    this.log.push({ host: this.host, kind, sections: bodies });
    this.behaviour.onExec?.(kind);
    if (options.signal?.aborted) return Promise.reject(new ExecAbortedError('', ''));
    if (this.behaviour.throwOn === kind) return Promise.reject(new Error(`${this.host}: connection lost`));
    if (kind === 'drain') {
      // The servers drained, as many as the script's report prints counts.
      const count = (/printf 'drained %s %s ([%s ]*)\\n'/.exec(script)?.[1]?.match(/%s/g) ?? []).length;
      return Promise.resolve({ stdout: `${this.behaviour.drain?.(count) ?? `drained 0 1 ${Array(count).fill(0).join(' ')}`}\n`, stderr: '', code: 0 });
    }
    if (kind === 'read') {
      const read = (probe: string): string => this.behaviour.read?.(probe) ?? '';
      const answer = (probe: string): string => (isManifestProbe(probe) ? manifestRead(probe, this.behaviour.owned, read) : read(probe));
      const stdout = bodies.map((probe, index) => section(nonce, index, answer(probe), 0)).join('');
      return Promise.resolve({ stdout, stderr: '', code: 0 });
    }
    if (this.behaviour.takes) return this.applySlowly(nonce, bodies, options);
    let stdout = '';
    for (const [index, commands] of bodies.entries()) {
      const status = this.behaviour.status?.(commands) ?? 0;
      stdout += section(nonce, index, status === 0 ? (this.behaviour.output?.(commands) ?? '') : 'simulated failure', status);
      if (status !== 0) return Promise.resolve({ stdout, stderr: '', code: status });
    }
    return Promise.resolve({ stdout, stderr: '', code: 0 });
  }

  private async applySlowly(nonce: string, bodies: readonly string[], options: ExecOptions): Promise<ExecResult> {
    let stdout = '';
    for (const [index, commands] of bodies.entries()) {
      await new Promise((resolve) => setTimeout(resolve, this.behaviour.takes?.(commands) ?? 0));
      const status = this.behaviour.status?.(commands) ?? 0;
      const text = section(nonce, index, status === 0 ? '' : 'simulated failure', status);
      stdout += text;
      options.watch?.(text);
      if (status !== 0) return { stdout, stderr: '', code: status };
    }
    return { stdout, stderr: '', code: 0 };
  }

  close(): void {
    this.closed = true;
  }
}

/** One fake session per host, all logging into `log`. */
export function fakeConnect(hosts: Readonly<Record<string, FakeHost>>, log: ExecRecord[]): { connect: (host: string) => Promise<HostSession>; sessions: Map<string, FakeSession> } {
  const sessions = new Map<string, FakeSession>();
  const connect = (host: string): Promise<HostSession> => {
    const behaviour = hosts[host] ?? {};
    if (behaviour.throwOn === 'connect') return Promise.reject(new Error(`${host}: connection refused`));
    const session = new FakeSession(host, behaviour, log);
    sessions.set(host, session);
    return Promise.resolve(session);
  };
  return { connect, sessions };
}
