import { parseArgs } from 'node:util';

export interface BenchArgs {
  readonly hosts: number;
  readonly reps: number;
  /** Ansible takes minutes per run at 50 hosts; it gets fewer repetitions to keep the bench short. */
  readonly ansibleReps: number;
  readonly ansible: boolean;
  readonly json: boolean;
  /** Directory for `node --cpu-prof` profiles of every lvsprov run; none when absent. */
  readonly cpuProfDir?: string;
  /** Leave this machine's root .bashrc in effect on the lab hosts (see host-shell.ts). */
  readonly hostBashrc: boolean;
  /** Keep run directories (inventories, outputs) instead of removing them. */
  readonly keep: boolean;
  /** Seconds between the refreshes of the status --watch contender; 0 leaves it out. */
  readonly watchInterval: number;
  /** Run the untimed warm-up round first (default). */
  readonly warmUp: boolean;
  /** Time OpenSSH with its default key exchange too (default); the curve25519 floor always runs. */
  readonly defaultFloor: boolean;
}

export const usage = `usage: npm run bench -- [--hosts N] [--reps N] [--ansible-reps N] [--no-ansible] [--json] [--cpu-prof DIR] [--host-bashrc] [--keep] [--watch N] [--no-warm-up] [--no-default-floor]
  --hosts N      lab hosts (default 50, at most 1000)
  --reps N       measured repetitions of each contender after one warm-up (default 5)
  --ansible-reps N  measured repetitions of the Ansible runs (default 2, at most --reps);
                 the warm-up runs Ansible on one host
  --no-ansible   skip ansible-playbook
  --json         print the results as JSON instead of a table
  --cpu-prof DIR write a node --cpu-prof profile of every lvsprov run into DIR
  --host-bashrc  keep this machine's /root/.bashrc on the lab hosts (default: Debian's stock one,
                 since sshd runs every exec through bash, which sources it)
  --keep         keep the run directory (inventories, outputs, sshd logs are removed with the lab)
  --watch N      time lvsprov status --watch N over held connections: a re-check of every host
                 and the control node's CPU per interval (default 10; 0 leaves it out)
  --no-warm-up   no untimed first round (at 1000 hosts a round takes many minutes)
  --no-default-floor  leave out the floor with OpenSSH's default key exchange (the ratios
                 that matter are to the curve25519 floor, which always runs)`;

function count(value: string | undefined, fallback: number, flag: string, max: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1 || number > max) throw new Error(`${flag} takes a whole number from 1 to ${max}, not ${value}`);
  return number;
}

export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      hosts: { type: 'string' },
      reps: { type: 'string' },
      'ansible-reps': { type: 'string' },
      'no-ansible': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      'cpu-prof': { type: 'string' },
      keep: { type: 'boolean', default: false },
      'host-bashrc': { type: 'boolean', default: false },
      watch: { type: 'string' },
      'no-warm-up': { type: 'boolean', default: false },
      'no-default-floor': { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const reps = count(values.reps, 5, '--reps', 100);
  return {
    hosts: count(values.hosts, 50, '--hosts', 1000),
    reps,
    ansibleReps: Math.min(reps, count(values['ansible-reps'], 2, '--ansible-reps', 100)),
    ansible: !values['no-ansible'],
    json: values.json,
    ...(values['cpu-prof'] !== undefined ? { cpuProfDir: values['cpu-prof'] } : {}),
    keep: values.keep,
    hostBashrc: values['host-bashrc'],
    watchInterval: values.watch === '0' ? 0 : count(values.watch, 10, '--watch', 3600),
    warmUp: !values['no-warm-up'],
    defaultFloor: !values['no-default-floor'],
  };
}
