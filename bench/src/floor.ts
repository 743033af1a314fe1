import type { Lab } from '../../src/lab/netns/index.js';
import { quote } from '../../src/shell/quote.js';
import type { Contender } from './contender.js';
import { timedRun, usage } from './timed-run.js';

// The floor: what any SSH tool must pay at least. One fresh OpenSSH connection per host running
// one read-only command, every host at once, from one shell in the control namespace.
//
// OpenSSH 9.x negotiates sntrup761x25519-sha512 by default, a post-quantum hybrid whose key
// generation costs the client far more CPU than curve25519; ssh2 (lvsprov) negotiates
// curve25519-sha256. The second floor pins OpenSSH to curve25519 so the comparison that remains
// is tool against tool, not key exchange against key exchange.

export const floorCommand = ['cat', '/proc/sys/net/ipv4/ip_forward'];
export const curve25519Options = ['-o', 'KexAlgorithms=curve25519-sha256'];

/** Options for one host's ssh, by its index (the way through a proxy, say); ssh keeps the first value given. */
export type HostOptions = (index: number) => readonly string[];

export function floorScript(lab: Lab, sshOptions: readonly string[] = [], hostOptions: HostOptions = () => []): string {
  const lines = lab.hosts.map((host, index) => {
    const [ssh, ...rest] = lab.sshArgv(host.name, floorCommand);
    return `${[ssh as string, ...hostOptions(index), ...sshOptions, ...rest].map(quote).join(' ')} &`;
  });
  return `${lines.join('\n')}\nwait\n`;
}

// INFO, ahead of the lab's LogLevel=ERROR (ssh keeps the first value given): a login that fails
// then says why, e.g. "Connection closed by ..." when sshd's LoginGraceTime ran out first.
const sayWhy = ['-o', 'LogLevel=INFO'];

export function floorContender(lab: Lab, kind: 'default' | 'curve25519', hostOptions?: HostOptions): Contender {
  const script = floorScript(lab, [...sayWhy, ...(kind === 'curve25519' ? curve25519Options : [])], hostOptions);
  return {
    id: kind === 'default' ? 'floor' : 'floor-curve25519',
    label: kind === 'default' ? 'floor: ssh, 1 command' : 'floor, curve25519 kex',
    run: async (timing) => {
      // The script travels on stdin: at 1000 hosts it is far beyond what one argv string may hold.
      const result = await timedRun(['sh', '-s'], { ...timing, input: script });
      // Each host prints its one-line answer; a missing line is a failed login, not a fast one.
      const answers = result.stdout.split('\n').filter((line) => /^[01]$/.test(line)).length;
      if (result.code !== 0 || answers !== lab.hosts.length) {
        const reasons = [...new Set(result.stderr.split('\n').map((line) => line.trim().replace(/\d+(\.\d+)*/g, 'N')).filter(Boolean))];
        throw new Error(`${answers} of ${lab.hosts.length} hosts answered after ${result.seconds.toFixed(1)} s; ssh said: ${reasons.slice(0, 3).join('; ') || 'nothing'}`);
      }
      return { seconds: result.seconds, ...usage(result) };
    },
  };
}
