import { afterEach, describe, expect, it } from 'vitest';
import { HostShell, HostShellPool } from '../support/host-shell.js';

// The e2e files' looks into lab hosts go through kept shells; here the same class drives a local sh.

const opened: Array<HostShell | HostShellPool> = [];
const shell = (): HostShell => {
  const made = new HostShell(['sh']);
  opened.push(made);
  return made;
};
afterEach(() => {
  for (const made of opened.splice(0)) made.close();
});

describe('a kept shell', () => {
  it('returns each script’s exact stdout, stderr and exit status, one script after another', async () => {
    const sh = shell();
    expect(await sh.run('printf "no newline"; printf oops >&2; exit 3', 5000)).toEqual({ code: 3, stdout: 'no newline', stderr: 'oops' });
    expect(await sh.run('echo one; echo two', 5000)).toEqual({ code: 0, stdout: 'one\ntwo\n', stderr: '' });
    expect(await sh.run('printf "\\n\\n"', 5000)).toEqual({ code: 0, stdout: '\n\n', stderr: '' });
    expect(await sh.run("printf '%s' \"it's \\$HOME\" 'é'", 5000)).toEqual({ code: 0, stdout: "it's $HOMEé", stderr: '' });
  });

  it('keeps a script’s cd, variables and set -e to itself, and a script that reads stdin does not eat the next one', async () => {
    const sh = shell();
    await sh.run('cd /tmp; LOOK=set; set -e; false', 5000);
    expect((await sh.run('pwd; echo "[$LOOK]"; false; echo after', 5000)).stdout).toBe(`${process.cwd()}\n[]\nafter\n`);
    expect(await sh.run('cat; echo read-nothing', 5000)).toEqual({ code: 0, stdout: 'read-nothing\n', stderr: '' });
    expect((await sh.run('echo next', 5000)).stdout).toBe('next\n');
  });

  it('a script that outlives its timeout ends the shell, and the next run says why', async () => {
    const sh = shell();
    await expect(sh.run('sleep 5', 200)).rejects.toThrow(/no end of its script after 200 ms/);
    expect(sh.alive).toBe(false);
    await expect(sh.run('true', 1000)).rejects.toThrow(/gone: no end of its script/);
  });

  it('a shell that exits mid-script rejects that script', async () => {
    const sh = new HostShell(['sh', '-c', 'read line; exit 7']);
    opened.push(sh);
    await expect(sh.run('echo never', 5000)).rejects.toThrow(/session ended \(exit 7\)/);
  });
});

describe('a pool of kept shells', () => {
  it('gives concurrent looks at one host a shell each, and reuses idle shells afterwards', async () => {
    const pool = new HostShellPool(() => ['sh']);
    opened.push(pool);
    const results = await Promise.all([1, 2, 3].map((n) => pool.run('h', `sleep 0.2; echo ${n}`, 5000)));
    expect(results.map((result) => result.stdout)).toEqual(['1\n', '2\n', '3\n']);
    expect(pool.started).toBe(3);
    for (let round = 0; round < 5; round++) await pool.run('h', 'true', 5000);
    await pool.run('other', 'true', 5000);
    expect(pool.started).toBe(4);
  });

  it('replaces a shell that died', async () => {
    const pool = new HostShellPool(() => ['sh']);
    opened.push(pool);
    await expect(pool.run('h', 'sleep 5', 100)).rejects.toThrow(/no end/);
    expect((await pool.run('h', 'echo fresh', 5000)).stdout).toBe('fresh\n');
    expect(pool.started).toBe(2);
  });
});
