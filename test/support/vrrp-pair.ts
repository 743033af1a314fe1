import { writeFileSync } from 'node:fs';
import { expect } from 'vitest';
import { stringify } from 'yaml';
import type { Lab } from '../../src/lab/netns/index.js';
import { parseJson, runCli } from './cli.js';
import { labSh } from './lab-sh.js';

// What the keepalived suites share: lvsprov run with their inventory and playbook, who holds a
// VIP read back from each director's kernel, and the playbook that gives the group keepalived.

export interface VrrpPair {
  readonly sh: (host: string, script: string) => Promise<string>;
  readonly lvsprov: (command: 'apply' | 'reset', ...args: string[]) => ReturnType<typeof runCli>;
  /** `host: summary` of every change of a run that must have exited 0. */
  readonly summaries: (result: Awaited<ReturnType<typeof runCli>>) => string[];
  /** The directors that have the VIP on eth0. */
  readonly holders: () => Promise<string[]>;
  /** Polls until exactly `host` holds the VIP; the seconds it took. */
  readonly heldBy: (host: string, timeoutMs?: number) => Promise<number>;
  /**
   * A loop on `host` that runs the shell test `test` every 20 ms and logs `failed at TIME` where it
   * fails (files /tmp/NAME.*); the function it returns ends the loop, checks that it ran, and gives its log.
   */
  readonly watch: (host: string, name: string, test: string) => Promise<() => Promise<string>>;
}

export function vrrpPair(lab: () => Lab, paths: () => { inventory: string; playbook: string }, directors: readonly string[], vip: string): VrrpPair {
  const sh = (host: string, script: string): Promise<string> => labSh(lab(), host, script);
  const lvsprov = (command: 'apply' | 'reset', ...args: string[]) =>
    runCli([command, '-i', paths().inventory, '-p', paths().playbook, '--json', ...args], { namespace: lab().controlNamespace });
  const summaries = (result: Awaited<ReturnType<typeof runCli>>): string[] => {
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    return parseJson(result).hosts.flatMap((host) => host.changes.map((change) => `${host.host}: ${change.summary}`));
  };
  const holders = async (): Promise<string[]> => {
    const held = await Promise.all(directors.map(async (host) => ((await sh(host, 'ip -o -4 addr show dev eth0')).includes(`${vip}/32`) ? [host] : [])));
    return held.flat();
  };
  const heldBy = async (host: string, timeoutMs = 10_000): Promise<number> => {
    const start = Date.now();
    let now: string[] = [];
    while (Date.now() - start < timeoutMs) {
      now = await holders();
      if (now.length === 1 && now[0] === host) return (Date.now() - start) / 1000;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`after ${timeoutMs} ms the VIP is held by [${now.join(', ')}], not by ${host} alone`);
  };
  const watch = async (host: string, name: string, test: string): Promise<() => Promise<string>> => {
    const loop = `n=0; while [ ! -e /tmp/${name}.stop ]; do ${test} || echo "failed at $(date +%s.%N)"; n=$((n + 1)); sleep 0.02; done; echo "checks $n"`;
    await sh(host, `rm -f /tmp/${name}.stop; nohup sh -c '${loop}' > /tmp/${name}.log 2>&1 < /dev/null &`);
    return async () => {
      await sh(host, `touch /tmp/${name}.stop; sleep 0.2`);
      const log = await sh(host, `cat /tmp/${name}.log`);
      expect(log).toMatch(/^checks [1-9]\d*$/m);
      return log;
    };
  };
  return { sh, lvsprov, summaries, holders, heldBy, watch };
}

/** Debian's keepalived on every host of `directors`, with the VRRP instances the inventory's lvs.ha gives it. */
export function writeKeepalivedPlaybook(path: string): void {
  writeFileSync(
    path,
    stringify([
      {
        hosts: 'directors',
        tasks: [
          { name: "keepalived (Debian's package)", package: { name: 'keepalived', creates: '/usr/sbin/keepalived' } },
          {
            name: 'VRRP for the VIPs',
            // A host of the group that directs no service (a director dropped from the VRRP group) has none.
            when: 'director_keepalived',
            keepalived: {
              advert_interval: '{{director_keepalived_config.advert_interval}}',
              garp: '{{director_keepalived_config.garp}}',
              // The interface comes from lvs.ha.interface.
              instances: '{{director_keepalived_config.instances}}',
            },
          },
        ],
      },
    ]),
  );
}
