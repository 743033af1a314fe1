import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseReadSections, readScript } from '../../src/engine/batch-script.js';
import { MANIFEST_FILE, manifestHeader, manifestProbe, parseManifestRead, renderManifest } from '../../src/ownership/manifest.js';
import type { OwnedRecord } from '../../src/ownership/records.js';
import { prefetchId } from '../../src/resources/file-prefetch.js';
import { parseFileLine, readFileSnippet } from '../../src/resources/file-state.js';
import { service } from '../../src/resources/service.js';

// What a read costs a host is mostly the programs it starts: every host runs the read on every
// run, and in the bench every lab host shares the control node's two cores. Each probe here runs
// in dash, the shell hosts run scripts with, under `strace -f`, and what it prints is compared
// with what the program it stands in for answers.

const dir = mkdtempSync(join(tmpdir(), 'lvsprov-read-processes-'));
const daemons: number[] = [];
afterAll(() => {
  for (const pid of daemons) process.kill(pid);
  rmSync(dir, { recursive: true, force: true });
});

/** Run shell text in dash; the programs it started, by name, and what it printed. */
function traced(script: string): { programs: string[]; stdout: string } {
  const result = spawnSync('strace', ['-f', '-qq', '-e', 'trace=execve', '-e', 'signal=none', 'sh', '-s'], { input: script });
  const programs = result.stderr
    .toString()
    .split('\n')
    .flatMap((line) => /execve\("[^"]*\/([^/"]+)"/.exec(line)?.[1] ?? [])
    .slice(1);
  return { programs, stdout: result.stdout.toString() };
}

describe('processes a read starts', () => {
  it("a pidfile daemon's state is read without start-stop-daemon, and reads as start-stop-daemon --status does", async () => {
    const daemon = spawn('/usr/bin/sleep', ['300'], { stdio: 'ignore', detached: true });
    await new Promise((resolve) => daemon.once('spawn', resolve));
    daemons.push(daemon.pid as number);
    const spec = service.schema.parse({ name: 'lvsprov-read-processes', exec: ['/usr/bin/sleep', '300'] });
    const pidfile = join(dir, 'lvsprov-lvsprov-read-processes.pid');
    const probe = service.probe(spec).replaceAll('/run/', `${dir}/`);
    const cases: Array<[string, string | undefined]> = [
      ['the daemon', String(daemon.pid)],
      ['another program', String(process.pid)],
      ['no process', '999999999'],
      ['not a number', 'x y'],
      ['no pidfile', undefined],
    ];
    const seen = cases.map(([name, content]) => {
      rmSync(pidfile, { force: true });
      if (content !== undefined) writeFileSync(pidfile, `${content}\n`);
      const { programs, stdout } = traced(probe);
      const reference = spawnSync('start-stop-daemon', ['--status', '--pidfile', pidfile, '--exec', '/usr/bin/sleep']).status;
      const facts = service.parse({ stdout, status: 0 }, spec);
      expect({ name, programs, running: facts.running }).toEqual({ name, programs: [], running: reference === 0 });
      return facts.running;
    });
    expect(seen).toEqual([true, false, false, false, false]);
  });

  it('the ownership manifest travels with the prefetched files: one stat and one tail read it and a page, grep finds nothing to prune', () => {
    const records: OwnedRecord[] = [
      { type: 'file', id: 'file /var/www/index.html', spec: { path: '/var/www/index.html' }, probe: readFileSnippet('/var/www/index.html'), task: 'test page', role: 'webpage' },
      { type: 'sysctl', id: 'sysctl net.ipv4.conf.lo.arp_ignore', spec: { name: 'net.ipv4.conf.lo.arp_ignore', value: '1' }, probe: 'printf R', task: 'arp' },
    ];
    const manifest = join(dir, 'owned');
    const page = join(dir, 'index.html');
    writeFileSync(manifest, renderManifest(records), { mode: 0o600 });
    writeFileSync(page, '<h1>rs1</h1>\n');
    const token = 'f00d';
    // The manifest's path, and its prefetch id, moved to this test's directory.
    const probe = manifestProbe(token, { except: records.map((record) => record.id) })
      .replaceAll(MANIFEST_FILE, manifest)
      .replaceAll(prefetchId(MANIFEST_FILE), prefetchId(manifest));
    const script = readScript('n0nce', [probe, readFileSnippet(page)]);
    const { programs, stdout } = traced(script);
    expect(programs).toEqual(['stat', 'tail', 'grep']);
    const sections = parseReadSections('n0nce', stdout, 2);
    const read = parseManifestRead(sections.get(0) ?? { stdout: '', status: 255 }, token);
    expect(read.text).toBe(renderManifest(records));
    expect(read.entries.map((entry) => [entry.id, entry.task])).toEqual(records.map((record) => [record.id, record.task]));
    expect(parseFileLine(sections.get(1)?.stdout.split('\n')[0])).toMatchObject({ exists: true, mode: '644', content: '<h1>rs1</h1>\n' });
    // Without the prefetch (a manifest that is a symlink is read by its probe alone) the same.
    const alone = spawnSync('sh', ['-s'], { input: probe }).stdout.toString();
    expect(parseManifestRead({ stdout: alone, status: 0 }, token).text).toBe(read.text);
  });

  it("the manifest's first line says when nothing is left to prune: no grep on a converged host, and the search where an object is", () => {
    const declared: OwnedRecord[] = [
      { type: 'file', id: 'file /var/www/index.html', spec: { path: '/var/www/index.html' }, probe: 'printf A', task: 'test page' },
      { type: 'sysctl', id: 'sysctl net.ipv4.conf.lo.arp_ignore', spec: { name: 'net.ipv4.conf.lo.arp_ignore', value: '1' }, probe: 'printf B', task: 'arp' },
    ];
    const left: OwnedRecord = { type: 'file', id: 'file /etc/left', spec: { path: '/etc/left' }, probe: 'printf LEFT', task: 'gone' };
    const manifest = join(dir, 'owned-sum');
    const token = 'f00d';
    const probe = manifestProbe(token, { except: declared.map((record) => record.id) }, manifestHeader(declared))
      .replaceAll(MANIFEST_FILE, manifest)
      .replaceAll(prefetchId(MANIFEST_FILE), prefetchId(manifest));
    const read = (records: readonly OwnedRecord[]) => {
      writeFileSync(manifest, renderManifest(records), { mode: 0o600 });
      const { programs, stdout } = traced(readScript('n0nce', [probe]));
      const parsed = parseManifestRead(parseReadSections('n0nce', stdout, 1).get(0) ?? { stdout: '', status: 255 }, token);
      return { programs, probed: parsed.entries.filter((entry) => entry.probed).map((entry) => [entry.id, entry.output.stdout]) };
    };
    // Converged, in whatever order the records were written: the first line matches, no search.
    expect(read(declared)).toEqual({ programs: ['stat', 'tail'], probed: [] });
    expect(read([...declared].reverse())).toEqual({ programs: ['stat', 'tail'], probed: [] });
    // An object no task declares: the search finds it and its recorded probe runs, decoded by
    // `base64 -d | sh`, a pipeline whose two programs start in whichever order the kernel runs them.
    const found = read([...declared, left]);
    expect({ ...found, programs: [...found.programs.slice(0, 3), ...found.programs.slice(3).sort()] }).toEqual({ programs: ['stat', 'tail', 'grep', 'base64', 'sh'], probed: [[left.id, 'LEFT']] });
    // Edited behind an unchanged first line: nothing is probed, and prune keeps what it cannot read.
    writeFileSync(manifest, `${renderManifest(declared)}${renderManifest([left]).split('\n')[1]}\n`, { mode: 0o600 });
    const edited = traced(readScript('n0nce', [probe]));
    expect(edited.programs).toEqual(['stat', 'tail']);
    expect(parseManifestRead(parseReadSections('n0nce', edited.stdout, 1).get(0) ?? { stdout: '', status: 255 }, token).entries.map((entry) => [entry.id, entry.probed])).toEqual([
      ...declared.map((record) => [record.id, false]),
      [left.id, false],
    ]);
  });
});
