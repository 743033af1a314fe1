import { afterEach, describe, expect, it } from 'vitest';
import { ExecAbortedError } from '../../src/errors.js';
import { ShellChannel } from '../../src/transport/shell-channel.js';
import { arpScript } from '../../src/verify/arp-script.js';
import { endLocalChannels, localChannel } from '../support/local-channel.js';

afterEach(endLocalChannels);

// ShellChannel against a real `sh -s` (dash) on this machine, its pipes standing in for an SSH
// channel's streams: what one shell does with script after script is the shell's, not ssh's.

describe('one shell, script after script', () => {
  it('runs script after script in one shell, each with its own status', async () => {
    const { channel, child } = localChannel();
    const shell = new ShellChannel(channel, () => undefined);
    const first = await shell.run('echo "$$"; false');
    expect(first).toEqual({ result: expect.objectContaining({ stdout: `${child.pid}\n`, stderr: '', code: 1 }), reusable: true });
    const second = await shell.run('echo "$$"');
    expect(second).toEqual({ result: expect.objectContaining({ stdout: `${child.pid}\n`, code: 0 }), reusable: true });
  });

  it('an exit ends the shell with the script status, its EXIT trap run, as a shell of its own would', async () => {
    const shell = new ShellChannel(localChannel().channel, () => undefined);
    const exited = await shell.run('trap "echo trapped" EXIT; echo before; exit 3; echo after');
    expect(exited).toEqual({ result: expect.objectContaining({ stdout: 'before\ntrapped\n', code: 3 }), reusable: false });
    expect(shell.open).toBe(false);
  });

  it('keeps output byte for byte, with or without a last newline, and splits stdout from stderr', async () => {
    const shell = new ShellChannel(localChannel().channel, () => undefined);
    const bytes = await shell.run("printf 'a\\nb'; printf '\\377\\000\\n\\n' ; printf 'oops' >&2");
    expect(bytes.result.stdoutBytes).toEqual(Buffer.from([0x61, 0x0a, 0x62, 0xff, 0x00, 0x0a, 0x0a]));
    expect(bytes.result.stderr).toBe('oops');
    const empty = await shell.run(':');
    expect(empty.result).toMatchObject({ stdout: '', stderr: '', code: 0 });
    // Output that looks like an end line of another script is only output.
    const lookalike = await shell.run("printf '\\nlvsprov-end-0123 0\\n'");
    expect(lookalike.result.stdout).toBe('\nlvsprov-end-0123 0\n');
  });

  it('lets a caller watch stdout as it arrives, before the script ends (a moved VIP\'s release is heard so), in the same shell', async () => {
    const { channel, child } = localChannel();
    const shell = new ShellChannel(channel, () => undefined);
    const seen: Array<{ text: string; at: number }> = [];
    const started = Date.now();
    const run = await shell.run('echo "first $$"; sleep 1; echo second', undefined, (text) => seen.push({ text, at: Date.now() - started }));
    expect(run.result.stdout).toBe(`first ${child.pid}\nsecond\n`);
    // The first line came a second before the script ended; the shell's end line reaches the watcher too.
    const first = seen.find((entry) => entry.text.includes('first'));
    expect(first?.at).toBeLessThan(700);
    expect(seen.map((entry) => entry.text).join('')).toMatch(new RegExp(`^first ${child.pid}\nsecond\n\nlvsprov-end-[0-9a-f]+ 0\n$`));
    expect(run.reusable).toBe(true);
  });

  it('gives a script that reads stdin an end of file, never the next script', async () => {
    const shell = new ShellChannel(localChannel().channel, () => undefined);
    const reader = await shell.run('cat; echo "read $?"');
    expect(reader.result.stdout).toBe('read 0\n');
    expect((await shell.run('echo next')).result.stdout).toBe('next\n');
  });

  it("waits in a script for that script's own jobs, not one an earlier script left running (the ARP check)", async () => {
    const shell = new ShellChannel(localChannel().channel, () => undefined);
    // A job an earlier script left running (a daemon a change started), alive all run.
    await shell.run('sleep 30 >/dev/null 2>&1 </dev/null &');
    // The director's own address is local here: the check's block ends at once, off-link. Were
    // the script to wait for every job of the shell, it would outlast the test's 10 s.
    const arp = await shell.run(arpScript('ab12', [{ vip: '198.51.100.50', directorAddress: '127.0.0.1', lookups: [] }]));
    expect(arp.result.stdout).toContain('ab12 offlink 0\nab12 end\n');
  }, 10_000);

  it('reports a shell that ended inside a script with its status, and is not used again', async () => {
    const shell = new ShellChannel(localChannel().channel, () => undefined);
    // A syntax error ends a non-interactive shell, as it ended a fresh `sh -s` (status 2).
    const broken = await shell.run('if then fi');
    expect(broken.reusable).toBe(false);
    expect(broken.result.code).toBe(2);
    expect(shell.open).toBe(false);
  });

  it('stops a script when told: the channel closes and the run rejects with what it printed', async () => {
    const shell = new ShellChannel(localChannel().channel, () => undefined);
    const abort = new AbortController();
    const running = shell.run('echo started; sleep 30', abort.signal);
    await new Promise((resolve) => setTimeout(resolve, 200));
    abort.abort();
    const error = await running.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ExecAbortedError);
    expect((error as ExecAbortedError).stdout).toBe('started\n');
    expect(shell.open).toBe(false);
  });

  it('at the end, ends the shell\'s input and waits until the shell exited', async () => {
    const { channel, child } = localChannel();
    const shell = new ShellChannel(channel, () => undefined);
    expect((await shell.run('echo ready')).result.stdout).toBe('ready\n');
    const started = performance.now();
    await shell.closeAndWait(5000);
    expect(child.exitCode).toBe(0);
    expect(performance.now() - started).toBeLessThan(4000);
    expect(shell.open).toBe(false);
  });

  it('waits no longer than it was told for a channel that does not close', async () => {
    const { channel } = localChannel();
    const shell = new ShellChannel(channel, () => undefined);
    // A job that keeps the shell's output open: the channel closes only once it is gone too.
    await shell.run('sleep 3 &');
    let channelClosed = false;
    channel.once('close', () => (channelClosed = true));
    const started = performance.now();
    await shell.closeAndWait(200);
    const waited = performance.now() - started;
    expect(channelClosed).toBe(false);
    expect(waited).toBeGreaterThanOrEqual(190);
    expect(waited).toBeLessThan(2500);
  });
});
