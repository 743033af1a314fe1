import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { newNonce, parseReadSections, readScript } from '../../src/engine/batch-script.js';
import { HeldRead, readFunction } from '../../src/engine/read-function.js';
import { readFileSnippet } from '../../src/resources/file-state.js';
import { ShellChannel } from '../../src/transport/shell-channel.js';
import type { ExecResult } from '../../src/transport/types.js';
import { endLocalChannels, localChannel } from '../support/local-channel.js';

// status --watch sends a host's read once, as a shell function on the held shell, and then only
// its call (read-function.ts). Run here on a real `sh -s` (dash) through ShellChannel, the end
// marker protocol included: each read must give what the whole script gives, with its own nonce.

afterEach(endLocalChannels);
const dir = mkdtempSync(join(tmpdir(), 'lvsprov-read-function-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const page = join(dir, 'index.html');
writeFileSync(page, '<h1>rs1</h1>\n');
// A file probe (the prefetch reads it), a probe in a subshell (it may exit), a plain one, and
// one that shows the shell's PATH and a positional parameter left by an earlier script.
const probes = [readFileSnippet(page), 'echo before; exit 3', `echo "$PATH"`, 'echo "${1-unset}"'];

/** A held shell whose scripts are recorded: the bytes each refresh sends. */
function heldShell() {
  const shell = new ShellChannel(localChannel().channel, () => undefined);
  const sent: string[] = [];
  const exec = async (script: string): Promise<ExecResult> => {
    sent.push(script);
    return (await shell.run(script)).result;
  };
  return { shell, sent, exec };
}

/** What the whole read script gives in a fresh shell: the reference. */
async function wholeRead(list: readonly string[]) {
  const { exec } = heldShell();
  const nonce = newNonce();
  const read = await exec(readScript(nonce, list));
  return parseReadSections(nonce, read.stdoutBytes ?? read.stdout, list.length);
}

describe('the read defined once on a held shell', () => {
  it('the first read sends the definition, every later one only the call, each giving what the whole script gives', async () => {
    const reference = await wholeRead(probes);
    const { sent, exec } = heldShell();
    const held = new HeldRead(probes);
    const reads = [];
    for (let refresh = 0; refresh < 3; refresh++) reads.push(await held.sections(exec));
    for (const sections of reads) expect(sections).toEqual(reference);
    expect(reference.get(1)).toEqual({ stdout: 'before\n', status: 3 });
    expect(sent).toHaveLength(3);
    expect(sent[0]?.length).toBeGreaterThan(readScript(newNonce(), probes).length - 100);
    for (const call of sent.slice(1)) expect(call.length).toBeLessThan(200);
    // A fresh nonce per refresh, given as the call's argument.
    const nonces = sent.map((script) => / '?([0-9a-f]{18})'?[;\n]/.exec(script)?.[1]);
    expect(nonces.every((nonce) => nonce !== undefined)).toBe(true);
    expect(new Set(nonces).size).toBe(3);
  });

  it("the environment is set once: PATH stays the same from refresh to refresh (the whole script's prefix grew on a held shell)", async () => {
    const { exec } = heldShell();
    const held = new HeldRead(probes);
    const paths = [];
    for (let refresh = 0; refresh < 3; refresh++) paths.push((await held.sections(exec)).get(2)?.stdout);
    expect(new Set(paths).size).toBe(1);
    // The whole script sent again and again to one shell, as every refresh did before.
    const again = heldShell();
    const grown = [];
    for (let refresh = 0; refresh < 2; refresh++) {
      const nonce = newNonce();
      const read = await again.exec(readScript(nonce, probes));
      grown.push(parseReadSections(nonce, read.stdout, probes.length).get(2)?.stdout ?? '');
    }
    expect(grown[1]?.length).toBeGreaterThan(grown[0]?.length ?? 0);
  });

  it('a shell that does not hold the function (a new one after the last ended) gets the definition again', async () => {
    const first = heldShell();
    const held = new HeldRead(probes);
    await held.sections(first.exec);
    // The session's shell ended: its next script goes to a new shell, with no function.
    const second = heldShell();
    const sections = await held.sections(second.exec);
    expect(sections).toEqual(await wholeRead(probes));
    expect(second.sent).toHaveLength(2);
    expect(second.sent[0]?.length).toBeLessThan(200);
    // And from then on only the call.
    await held.sections(second.exec);
    expect(second.sent).toHaveLength(3);
    expect(second.sent[2]?.length).toBeLessThan(200);
  });

  it('another read is another function, defined by its own first call; each name says its text', async () => {
    const other = [...probes, 'echo other'];
    expect(readFunction(other).name).not.toBe(readFunction(probes).name);
    expect(readFunction([...probes]).name).toBe(readFunction(probes).name);
    const { sent, exec } = heldShell();
    const one = new HeldRead(probes);
    const two = new HeldRead(other);
    await one.sections(exec);
    expect((await two.sections(exec)).get(4)).toEqual({ stdout: 'other\n', status: 0 });
    // Each definition sets the environment once more: PATH (section 2) aside, the same read.
    const withoutPath = (sections: Map<number, unknown>) => [...sections].filter(([index]) => index !== 2);
    expect(withoutPath(await one.sections(exec))).toEqual(withoutPath(await wholeRead(probes)));
    expect(sent.map((script) => script.length < 200)).toEqual([false, false, true]);
  });
});
