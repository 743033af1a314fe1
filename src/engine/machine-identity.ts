// A check takes no host lock, so it cannot know a machine it reached twice the way an apply does
// (its own owner line in the lock, lock-script.ts). Its read says which machine answered instead:
// the kernel's boot id (one per boot of one kernel) and the first line of the shell's mountinfo
// (mount ids are unique across the kernel, so a container or a namespace host with a root of its
// own reads another line). Two names whose reads say the same are one machine, with one lock file:
// the apply would fail the second, and the check says so. Shell builtins only: no process started.

const MARK = 'lvsprov-machine';

/** Prints the mark line; a host without /proc prints it empty, and is never taken for another. */
export function machineIdentityPrelude(nonce: string): string {
  return [
    'lvsprov_boot= lvsprov_root=',
    '{ read -r lvsprov_boot </proc/sys/kernel/random/boot_id; read -r lvsprov_root </proc/self/mountinfo; } 2>/dev/null',
    `printf '%s\\n' "${MARK} ${nonce} $lvsprov_boot $lvsprov_root"`,
    'unset lvsprov_boot lvsprov_root',
  ].join('\n');
}

/** The machine the read ran on, or undefined when it could not tell (or printed no mark). */
export function parseMachineIdentity(nonce: string, stdout: string): string | undefined {
  const prefix = `${MARK} ${nonce} `;
  const line = stdout.split('\n').find((candidate) => candidate.startsWith(prefix));
  if (line === undefined) return undefined;
  const [boot = '', ...root] = line.slice(prefix.length).split(' ');
  const mount = root.join(' ').trim();
  return /^[0-9a-f-]{32,36}$/.test(boot) && mount !== '' ? `${boot} ${mount}` : undefined;
}

/** The machines a check's reads found, by the host that was read on each first. */
export class MachineRegistry {
  private readonly firstHost = new Map<string, string>();

  /** Records `host` on `machine`; the other host read there first, if one was. */
  claim(machine: string, host: string): string | undefined {
    const first = this.firstHost.get(machine);
    if (first === undefined) this.firstHost.set(machine, host);
    return first === undefined || first === host ? undefined : first;
  }
}
