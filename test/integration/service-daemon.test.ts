import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { argumentsRecordPath, pidfilePath, service } from '../../src/resources/service.js';
import { checked, converge, createNetns, deleteNetns, inNetns, isRoot, plan, requireRoot, sh } from './resource-netns.js';

// The lab's test page: `busybox httpd -f` run as a pidfile daemon by start-stop-daemon inside a
// network namespace, as on a lab host without systemd. Started, served, found idempotent, made to
// fail loudly on a taken port, and stopped - all through the resource's own probe and plan.

const ns = `lvsres2-svc-${process.pid}`;
const name = `lvsres2-web-${process.pid}`;
const clash = `${name}-clash`;
const listen = '192.0.2.80:8080';

describe('service: pidfile daemon in a network namespace', () => {
  let root = '';
  let busybox = '';
  const token = `served by ${name}`;
  const spec = (state: 'started' | 'stopped', serviceName = name, address = listen, pool?: string) =>
    service.schema.parse({ name: serviceName, state, exec: [busybox, 'httpd', '-f', '-p', address, '-h', root], ...(pool ? { pool } : {}) });
  const pid = (serviceName: string): number | null =>
    existsSync(pidfilePath(serviceName)) ? Number(readFileSync(pidfilePath(serviceName), 'utf8').trim()) : null;
  const curl = (address = listen) => inNetns(ns, `curl -sS --max-time 5 http://${address}/`);

  beforeAll(() => {
    if (!isRoot) return;
    busybox = checked(sh(['/bin/sh', '-c', 'command -v busybox']), 'find busybox').trim();
    root = mkdtempSync(join(tmpdir(), 'lvsres2-www-'));
    writeFileSync(join(root, 'index.html'), `${token}\n`);
    createNetns(ns);
    checked(sh(['ip', '-n', ns, 'addr', 'add', '192.0.2.80/32', 'dev', 'lo']), 'add address');
  });

  afterAll(() => {
    if (!isRoot) return;
    // Kill only daemons this suite started: their pidfile names carry our pid and their command
    // line our temporary web root.
    for (const serviceName of [name, clash]) {
      const daemon = pid(serviceName);
      if (daemon !== null && existsSync(`/proc/${daemon}/cmdline`) && readFileSync(`/proc/${daemon}/cmdline`, 'utf8').includes(root)) {
        process.kill(daemon, 'SIGTERM');
      }
      rmSync(pidfilePath(serviceName), { force: true });
      rmSync(argumentsRecordPath(serviceName), { force: true });
    }
    deleteNetns(ns);
    rmSync(root, { recursive: true, force: true });
  });

  it('starts the web server in the namespace and serves the page', (ctx) => {
    requireRoot(ctx);
    const { changes, apply } = converge(service, spec('started'), ns);
    expect(changes.map((change) => change.summary)).toEqual([`start ${name} (start-stop-daemon)`]);
    // spawnSync returns only when every holder of the pipes is gone: a daemon that kept the
    // shell's stdout (as it would keep an SSH channel open) would run into the timeout here.
    expect(apply.error).toBeUndefined();
    expect(apply.status, apply.stderr).toBe(0);
    expect(checked(curl(), 'curl the page')).toBe(`${token}\n`);
    const daemon = pid(name);
    expect(daemon).not.toBeNull();
    expect(readlinkSync(`/proc/${daemon}/ns/net`)).toBe(checked(inNetns(ns, 'readlink /proc/self/ns/net'), 'namespace id').trim());
  });

  it('plans nothing while the daemon runs', (ctx) => {
    requireRoot(ctx);
    expect(plan(service, spec('started'), ns)).toEqual([]);
  });

  it('restarts the daemon when its arguments change, records them, and then plans nothing', (ctx) => {
    requireRoot(ctx);
    const moved = '192.0.2.80:8081';
    const before = pid(name);
    const { changes, apply } = converge(service, spec('started', name, moved), ns);
    expect(changes.map((change) => [change.summary, change.diff])).toEqual([
      [`restart ${name} (start-stop-daemon): its arguments changed`, { kind: 'value', before: `${busybox} httpd -f -p ${listen} -h ${root}`, after: `${busybox} httpd -f -p ${moved} -h ${root}` }],
    ]);
    expect(apply.status, apply.stderr).toBe(0);
    expect(pid(name)).not.toBe(before);
    expect(checked(curl(moved), 'curl the moved page')).toBe(`${token}\n`);
    expect(curl().status).not.toBe(0);
    expect(readFileSync(argumentsRecordPath(name), 'utf8')).toBe(`${busybox} httpd -f -p ${moved} -h ${root}\n`);
    expect(plan(service, spec('started', name, moved), ns)).toEqual([]);
    // And back, for the cases below.
    expect(converge(service, spec('started'), ns).apply.status).toBe(0);
    expect(checked(curl(), 'curl the page')).toBe(`${token}\n`);
  });

  it('reads the arguments of a daemon it has no record of from its command line', (ctx) => {
    requireRoot(ctx);
    // As a daemon started by hand, or by an lvsprov from before the record, would be found.
    rmSync(argumentsRecordPath(name));
    expect(plan(service, spec('started'), ns)).toEqual([]);
    expect(plan(service, spec('started', name, '192.0.2.80:8082'), ns).map((change) => [change.summary, change.diff?.before])).toEqual([
      [`restart ${name} (start-stop-daemon): its arguments changed`, `${busybox}httpd-f-p${listen}-h${root} (its command line, the words run together)`],
    ]);
  });

  it('refuses the restart of a daemon that carries pool traffic while its host is weighted, and waits for the retire wave once it is quiesced', (ctx) => {
    requireRoot(ctx);
    const moved = '192.0.2.80:8083';
    expect(() => plan(service, spec('started', name, moved, 'weighted'), ns)).toThrow(/restarting it would refuse the new connections directors send to/);
    expect(plan(service, spec('started', name, listen, 'weighted'), ns)).toEqual([]);
    expect(plan(service, spec('started', name, moved, 'quiesced'), ns).map((change) => change.phase)).toEqual(['retire']);
  });

  it('fails the apply when the daemon dies at once (port taken)', (ctx) => {
    requireRoot(ctx);
    const { changes, apply } = converge(service, spec('started', clash), ns);
    expect(changes).toHaveLength(1);
    expect(apply.status).not.toBe(0);
    expect(apply.stderr).toContain(`service ${clash} did not stay running`);
    expect(plan(service, spec('started', clash), ns).map((change) => change.summary)).toEqual([`start ${clash} (start-stop-daemon)`]);
  });

  it('stops the daemon, removes its pidfile and its arguments record, and then plans nothing', (ctx) => {
    requireRoot(ctx);
    const daemon = pid(name);
    const { changes, apply } = converge(service, spec('stopped'), ns);
    expect(changes.map((change) => change.summary)).toEqual([`stop ${name} (start-stop-daemon)`]);
    expect(apply.status, apply.stderr).toBe(0);
    expect(existsSync(pidfilePath(name))).toBe(false);
    expect(existsSync(argumentsRecordPath(name))).toBe(false);
    expect(existsSync(`/proc/${daemon}/cmdline`) && readFileSync(`/proc/${daemon}/cmdline`, 'utf8').includes(root)).toBe(false);
    expect(curl().status).not.toBe(0);
    expect(plan(service, spec('stopped'), ns)).toEqual([]);
  });
});
