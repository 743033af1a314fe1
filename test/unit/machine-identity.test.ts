import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { MachineRegistry, machineIdentityPrelude, parseMachineIdentity } from '../../src/engine/machine-identity.js';

// What a check's read says of the machine it ran on: the same for two shells of one machine, and
// another for a shell with a mount namespace of its own (a container, a namespace host).

const nonce = '0123456789abcdef01';
const identityOf = (argv: readonly string[]): string | undefined => {
  const result = spawnSync(argv[0] as string, [...argv.slice(1), machineIdentityPrelude(nonce)], { encoding: 'utf8' });
  expect(result.status, result.stderr).toBe(0);
  return parseMachineIdentity(nonce, result.stdout);
};

describe('a machine identity', () => {
  it('is the same for two shells of one machine and differs in a mount namespace of its own, started by no process', () => {
    const here = identityOf(['sh', '-c']);
    expect(here).toMatch(/^[0-9a-f-]{36} \d+ \d+ /);
    expect(identityOf(['sh', '-c'])).toBe(here);
    // Two live namespaces at once: the mount ids of each are their own.
    const nested = spawnSync('unshare', ['--mount', 'sh', '-c', `${machineIdentityPrelude(nonce)}\nunshare --mount sh -c "$0"`, machineIdentityPrelude(nonce)], { encoding: 'utf8' });
    expect(nested.status, nested.stderr).toBe(0);
    const [outer, inner] = nested.stdout.split('\n').filter((line) => line !== '');
    const outerId = parseMachineIdentity(nonce, `${outer}\n`);
    const innerId = parseMachineIdentity(nonce, `${inner}\n`);
    expect(outerId).toBeDefined();
    expect(new Set([here, outerId, innerId]).size).toBe(3);
    // Builtins alone: the prelude names no program.
    const traced = spawnSync('strace', ['-f', '-e', 'trace=execve', '-qq', 'sh', '-c', machineIdentityPrelude(nonce)], { encoding: 'utf8' });
    expect(traced.stderr.split('\n').filter((line) => line.includes('execve(')).length).toBe(1);
  });

  it('is unknown where the read printed no mark, another nonce, or no boot id', () => {
    expect(parseMachineIdentity(nonce, 'S -A -t 198.51.100.50:80 -s wrr\n')).toBeUndefined();
    expect(parseMachineIdentity(nonce, `lvsprov-machine fedcba9876543210fe c94c4711-4a1f-44d1-b4c0-7231b923c8e9 21 26 0:20 / /proc\n`)).toBeUndefined();
    expect(parseMachineIdentity(nonce, `lvsprov-machine ${nonce}  \n`)).toBeUndefined();
    expect(parseMachineIdentity(nonce, `lvsprov-machine ${nonce} c94c4711-4a1f-44d1-b4c0-7231b923c8e9 \n`)).toBeUndefined();
    expect(parseMachineIdentity(nonce, `x\nlvsprov-machine ${nonce} c94c4711-4a1f-44d1-b4c0-7231b923c8e9 21 26 0:20 / /proc rw\ny\n`)).toBe('c94c4711-4a1f-44d1-b4c0-7231b923c8e9 21 26 0:20 / /proc rw');
  });

  it('names the host read there first to every other name read on the same machine, and no host to itself', () => {
    const machines = new MachineRegistry();
    expect(machines.claim('boot-a 21 26', 'rs2')).toBeUndefined();
    expect(machines.claim('boot-a 21 27', 'rs1')).toBeUndefined();
    expect(machines.claim('boot-b 21 26', 'rs3')).toBeUndefined();
    expect(machines.claim('boot-a 21 26', 'rs2')).toBeUndefined();
    expect(machines.claim('boot-a 21 26', 'rs2-again')).toBe('rs2');
    expect(machines.claim('boot-a 21 26', 'rs2-third')).toBe('rs2');
  });
});
