import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseReadSections, readScript } from '../../src/engine/batch-script.js';
import { EVERY_ENTRY, MANIFEST_FILE, manifestHeader, manifestProbe, parseManifestRead, renderManifest } from '../../src/ownership/manifest.js';
import type { OwnedRecord } from '../../src/ownership/records.js';
import { prefetchId } from '../../src/resources/file-prefetch.js';
import { parseFileLine, readFileSnippet } from '../../src/resources/file-state.js';
import { service } from '../../src/resources/service.js';
import { address } from '../../src/resources/address.js';
import { strayAddress } from '../../src/resources/stray-address.js';
import { prepareRun } from '../../src/cli/load-run.js';
import { hostReadPlan } from '../../src/engine/host-plan.js';

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

  it("a reset's read prefetches what the playbook declares and hands it to the recorded probes: a file they read costs no program of its own", () => {
    const page = join(dir, 'reset-index.html');
    const records: OwnedRecord[] = [
      { type: 'file', id: `file ${page}`, spec: { path: page }, probe: readFileSnippet(page), task: 'test page', role: 'webpage' },
      { type: 'sysctl', id: 'sysctl net.ipv4.conf.lo.arp_ignore', spec: { name: 'net.ipv4.conf.lo.arp_ignore', value: '1' }, probe: "v=${v:-unset}; printf 'R %s %s\\n' \"$v\" \"$#\"; exit 3", task: 'arp' },
    ];
    const manifest = join(dir, 'owned-reset');
    writeFileSync(manifest, renderManifest(records), { mode: 0o600 });
    writeFileSync(page, '<h1>rs1</h1>\n');
    const token = 'f00d';
    const probe = manifestProbe(token, EVERY_ENTRY).replaceAll(MANIFEST_FILE, manifest).replaceAll(prefetchId(MANIFEST_FILE), prefetchId(manifest));
    // The page is a declared task's, whose probe the reset does not run. The read also sets a
    // variable of the name a recorded probe uses, and arguments: the probe sees neither.
    const traceOf = (alsoPrefetch: string[]) => traced(readScript('n0nce', [probe], 'v=outer; set -- a b', { alsoPrefetch }));
    const sorted = (programs: string[]) => [...programs.slice(0, 3), ...programs.slice(3).sort()];
    const { programs, stdout } = traceOf([readFileSnippet(page)]);
    // The prefetch (stat, tail), the search (grep), then `base64 -d | sh` each recorded probe (in
    // either order): no stat or base64 -w0 of the page, which the prefetch read.
    expect(sorted(programs)).toEqual(['stat', 'tail', 'grep', 'base64', 'base64', 'sh', 'sh']);
    // Without the page in the prefetch, its recorded probe reads it itself.
    expect(sorted(traceOf([]).programs)).toEqual(['stat', 'tail', 'grep', 'base64', 'base64', 'base64', 'sh', 'sh', 'stat']);
    const read = parseManifestRead(parseReadSections('n0nce', stdout, 1).get(0) ?? { stdout: '', status: 255 }, token);
    const alone = parseFileLine(execFileSync('sh', ['-c', readFileSnippet(page)]).toString().split('\n')[0]);
    expect(parseFileLine(read.entries[0]?.output.stdout.split('\n')[0])).toEqual(alone);
    expect(alone).toMatchObject({ exists: true, mode: '644', content: '<h1>rs1</h1>\n' });
    // A shell of its own: none of the read's variables or arguments; its `exit` ended it alone.
    expect(read.entries[1]?.output).toEqual({ stdout: 'R unset 0\n', status: 3 });
  });

  describe("the manifest's first line says when nothing is left to prune", () => {
    const declared: OwnedRecord[] = [
      { type: 'file', id: 'file /var/www/index.html', spec: { path: '/var/www/index.html' }, probe: 'printf A', task: 'test page' },
      { type: 'sysctl', id: 'sysctl net.ipv4.conf.lo.arp_ignore', spec: { name: 'net.ipv4.conf.lo.arp_ignore', value: '1' }, probe: 'printf B', task: 'arp' },
    ];
    const left: OwnedRecord = { type: 'file', id: 'file /etc/left', spec: { path: '/etc/left' }, probe: 'printf LEFT', task: 'gone' };
    const manifest = join(dir, 'owned-sum');
    const token = 'f00d';
    const moved = (probe: string): string => probe.replaceAll(MANIFEST_FILE, manifest).replaceAll(prefetchId(MANIFEST_FILE), prefetchId(manifest));
    const probe = moved(manifestProbe(token, { except: declared.map((record) => record.id) }, manifestHeader(declared)));
    // The same read without the first line's answer: it always reads the body, as every read did before.
    const bodyProbe = moved(manifestProbe(token, { except: declared.map((record) => record.id) }));
    const sectionOf = (stdout: string) => parseReadSections('n0nce', stdout, 1).get(0) ?? { stdout: '', status: 255 };
    const read = (content: string | undefined, prefetch = true) => {
      rmSync(manifest, { force: true });
      if (content !== undefined) writeFileSync(manifest, content, { mode: 0o600 });
      const { programs, stdout } = traced(readScript('n0nce', [probe], undefined, { prefetch }));
      const parsed = parseManifestRead(sectionOf(stdout), token, declared);
      const body = parseManifestRead(sectionOf(traced(readScript('n0nce', [bodyProbe])).stdout), token);
      // Pipelines (`base64 -d | sh`) start their programs in whichever order the kernel runs them.
      return { programs: [...programs.slice(0, 3), ...programs.slice(3).sort()], stdout, parsed, body, probed: parsed.entries.filter((entry) => entry.probed).map((entry) => [entry.id, entry.output.stdout]) };
    };
    const ids = (entries: readonly OwnedRecord[]) => entries.map((entry) => entry.id);
    const [header = '', ...lines] = renderManifest(declared).split('\n');

    it('equal: neither the prefetch nor the probe reads the body, and the records rebuilt from the run are what the body gave', () => {
      for (const prefetch of [true, false]) {
        const same = read(renderManifest(declared), prefetch);
        expect({ prefetch, programs: same.programs, probed: same.probed }).toEqual({ prefetch, programs: [], probed: [] });
        // Not one byte of the body: the section is the marker alone.
        expect(sectionOf(same.stdout).stdout).toBe('M=\n');
        expect(same.parsed).toEqual(same.body);
        expect(same.parsed.entries.every((entry) => !entry.probed)).toBe(true);
      }
      // Written in another order, the sum is the same: the records come in the run's order.
      const reordered = read(renderManifest([...declared].reverse()));
      expect(reordered.programs).toEqual([]);
      expect(ids(reordered.parsed.entries)).toEqual(ids(declared));
      expect(ids(reordered.body.entries)).toEqual(ids([...declared].reverse()));
    });

    const bodyRead: Array<[string, string | undefined, string[], string[][]]> = [
      // An object no task declares: the search finds it and its recorded probe runs, decoded by `base64 -d | sh`.
      ['different: one more object', renderManifest([...declared, left]), ['stat', 'tail', 'grep', 'base64', 'sh'], [[left.id, 'LEFT']]],
      ['different: one object fewer', renderManifest(declared.slice(0, 1)), ['stat', 'tail', 'grep'], []],
      ['missing: no first line', `${lines.join('\n')}`, ['stat', 'tail', 'grep'], []],
      ['damaged: another sum', `${header.replace(/sum=[0-9a-f]{4}/, 'sum=ffff')}\n${lines.join('\n')}`, ['stat', 'tail', 'grep'], []],
      ['damaged: the first line cut short', `${header.slice(0, 40)}\n${lines.join('\n')}`, ['stat', 'tail', 'grep'], []],
      ['empty', '', ['stat', 'tail', 'grep'], []],
    ];
    for (const [name, content, programs, probed] of bodyRead) {
      it(`${name}: the body is read as before, with the prefetch or without`, () => {
        const found = read(content);
        expect({ programs: found.programs, probed: found.probed }).toEqual({ programs, probed });
        expect(found.parsed).toEqual(found.body);
        expect(found.parsed.text).toBe(content);
        const alone = read(content, false);
        expect(alone.parsed.text).toBe(content);
        expect(alone.probed).toEqual(probed);
      });
    }

    it('absent: no manifest, no process', () => {
      const absent = read(undefined);
      expect({ programs: absent.programs, exists: absent.parsed.exists }).toEqual({ programs: [], exists: false });
    });

    it('a body edited by hand behind an unchanged first line goes unread (knownByHead says why that is acceptable)', () => {
      const edited = read(`${renderManifest(declared)}${renderManifest([left]).split('\n')[1]}\n`);
      expect(edited.programs).toEqual([]);
      expect(ids(edited.parsed.entries)).toEqual(ids(declared));
      // Read whole, as every read did before (and a run whose records differ does), the hand-added line is found and probed.
      expect(edited.body.entries.map((entry) => [entry.id, entry.probed])).toEqual([...declared.map((record) => [record.id, false]), [left.id, true]]);
    });
  });

  describe("the addresses: every device's address tasks and every VIP's stray-address check share one `ip`", () => {
    const inventory = join(import.meta.dirname, '../../inventories/lab-live.yaml');
    const { run } = prepareRun({ inventory });
    const readers = (host: string): string[] => {
      const tasks = run.hosts.get(host);
      if (tasks === undefined) throw new Error(`${host} is not in ${inventory}`);
      return hostReadPlan(tasks, 'apply', 'tok').probes.filter((probe) => /\bip -o -4 addr show\b/.test(probe));
    };

    it('rs1 of lab-live (two DR VIPs on lo, a TUN VIP on tunl0, three stray-address checks) reads its addresses in one probe', () => {
      const tasks = run.hosts.get('rs1') ?? [];
      expect(tasks.filter((task) => task.type === 'address').map((task) => (task.spec as { device: string }).device).sort()).toEqual(['lo', 'lo', 'tunl0']);
      expect(tasks.filter((task) => task.type === 'stray_address')).toHaveLength(3);
      expect(readers('rs1')).toHaveLength(1);
    });

    it('in dash it starts ip alone, and each task reads what `ip addr show dev` and `to ADDR/32` answer', () => {
      const lo = address.schema.parse({ address: '127.0.0.1', prefix: 8, device: 'lo' });
      const missing = address.schema.parse({ address: '192.0.2.1', device: 'lvsprovnone0' });
      const stray = strayAddress.schema.parse({ address: '127.0.0.1', keep_on: ['eth0'] });
      expect(new Set([address.probe(lo), address.probe(missing), strayAddress.probe(stray)]).size).toBe(1);
      const { programs, stdout } = traced(address.probe(lo));
      expect(programs).toEqual(['ip']);
      const reference = spawnSync('ip', ['-o', '-4', 'addr', 'show', 'dev', 'lo'], { encoding: 'utf8' }).stdout;
      const output = { stdout, status: 0 };
      expect(address.parse(output, lo)).toEqual(address.parse({ stdout: reference, status: 0 }, lo));
      expect(address.parse(output, lo).addresses).toContainEqual({ address: '127.0.0.1', prefix: 8, label: 'lo' });
      expect(address.parse(output, missing)).toEqual({ deviceExists: false, addresses: [] });
      expect(strayAddress.parse(output, stray).held).toEqual([{ device: 'lo', prefix: 8, label: 'lo' }]);
    });
  });
});
