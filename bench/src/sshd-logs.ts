import { readFile, readlink, stat, writeFile } from 'node:fs/promises';
import type { Lab } from '../../src/lab/netns/index.js';
import { mapLimit } from '../../src/lab/netns/process.js';
import { countSessions, type SessionCounts } from './sshd-log.js';

// Turns a lab host's sshd up to LogLevel VERBOSE and reads its log from outside the host. The
// config and log are found from the running sshd itself (its -f argument, its stderr), so this
// depends on no lab-internal path. SIGHUP makes OpenSSH re-execute itself with the same pid,
// namespaces and stderr, rereading the config.

/** Byte offset into each host's sshd log. */
export type LogMark = ReadonlyMap<string, number>;

async function sshdFiles(pid: number): Promise<{ config: string; log: string }> {
  // sshd rewrites its argv into one proctitle string ("sshd: /usr/sbin/sshd -D -e -f FILE ..."),
  // so words are split on NUL and spaces alike.
  const words = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split(/[\0 ]+/);
  const flag = words.indexOf('-f');
  const config = flag >= 0 ? words[flag + 1] : undefined;
  if (!config) throw new Error(`sshd ${pid} was started without -f; cannot find its config`);
  // /proc/PID/root: the config as that sshd sees it, inside the host's own filesystem.
  return { config: `/proc/${pid}/root${config}`, log: await readlink(`/proc/${pid}/fd/2`) };
}

async function waitFor(predicate: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const RESTARTS_AT_ONCE = 16;

export class SshdLogs {
  private constructor(private readonly logs: ReadonlyMap<string, string>) {}

  /**
   * Enable VERBOSE logging on every host and wait until each sshd listens again. `settings` are
   * further sshd_config keywords to set while it restarts anyway (a LogLevel among them, DEBUG1
   * to DEBUG3, logs what VERBOSE does and more).
   */
  static async enable(lab: Lab, settings: Readonly<Record<string, string>> = {}): Promise<SshdLogs> {
    const logs = new Map<string, string>();
    // A few at a time: a thousand sshds re-executing at once on two cores take longer than any
    // sensible wait for one of them.
    await mapLimit(
      lab.hosts,
      RESTARTS_AT_ONCE,
      async ({ name, sshdPid: pid }) => {
        const files = await sshdFiles(pid);
        await writeFile(files.config, withSettings(await readFile(files.config, 'utf8'), { LogLevel: 'VERBOSE', ...settings }));
        const offset = (await stat(files.log)).size;
        process.kill(pid, 'SIGHUP');
        // At VERBOSE the re-executed sshd announces its listening socket; before that line a
        // connection could be refused.
        await waitFor(async () => (await readFrom(files.log, offset)).includes('Server listening on'), 30_000, `sshd of ${name} to restart`);
        logs.set(name, files.log);
      },
    );
    return new SshdLogs(logs);
  }

  async mark(): Promise<LogMark> {
    const entries = await Promise.all([...this.logs].map(async ([host, log]) => [host, (await stat(log)).size] as const));
    return new Map(entries);
  }

  /** What each host's sshd logged since the mark, counted. */
  async since(mark: LogMark): Promise<Map<string, SessionCounts>> {
    return new Map([...(await this.textSince(mark))].map(([host, text]) => [host, countSessions(text)]));
  }

  /** What each host's sshd logged since the mark. */
  async textSince(mark: LogMark): Promise<Map<string, string>> {
    const entries = await Promise.all([...this.logs].map(async ([host, log]) => [host, await readFrom(log, mark.get(host) ?? 0)] as const));
    return new Map(entries);
  }
}

/** sshd_config text with each keyword set once: replaced where it is, appended where it is not. */
export function withSettings(config: string, settings: Readonly<Record<string, string>>): string {
  let text = config.endsWith('\n') ? config : `${config}\n`;
  for (const [keyword, value] of Object.entries(settings)) {
    // sshd obeys the first occurrence of a keyword, so every occurrence is replaced.
    const pattern = `^${keyword}\\s.*$`;
    text = new RegExp(pattern, 'im').test(text) ? text.replace(new RegExp(pattern, 'gim'), `${keyword} ${value}`) : `${text}${keyword} ${value}\n`;
  }
  return text;
}

async function readFrom(file: string, offset: number): Promise<string> {
  return (await readFile(file)).subarray(offset).toString('utf8');
}
