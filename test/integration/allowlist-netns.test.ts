import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allowlist, allowlistRules, allowlistScript, fenceRules } from '../../src/resources/allowlist.js';
import type { Change } from '../../src/resources/types.js';
import { checked, converge, createNetns, deleteNetns, inNetns, isRoot, plan, probe, requireRoot, sh } from './resource-netns.js';

// The allowlist on a real kernel: a session-store namespace with a TCP listener on the memcached
// port and a client namespace beside it on a veth pair, holding allowed and other source
// addresses. The table is applied through the resource's own probe and plan, read back equal to
// what the planner expects, and proven by connections: allowed sources get through, any other
// IPv4 source and IPv6 are dropped; a hand edit is put right, a new source let in, and reset
// opens the port again.

const server = `lvsres2-alw-${process.pid}`;
const client = `lvsres2-alc-${process.pid}`;
const port = 11211;
const serverAddress = '192.0.2.1';
const allowed = ['192.0.2.21', '192.0.2.22'];
const other = '192.0.2.23';

// One connection attempt: `connected` with the listener's greeting, or why not. A dropped SYN
// shows as a timeout; a refused one would say ECONNREFUSED.
const CLIENT = `
const [host, port, localAddress] = process.argv.slice(1);
const socket = require('net').connect({ host, port: Number(port), ...(localAddress ? { localAddress } : {}), timeout: 1500 });
socket.on('data', (data) => { process.stdout.write('connected ' + data); socket.destroy(); });
socket.on('timeout', () => { process.stdout.write('timeout\\n'); socket.destroy(); });
socket.on('error', (error) => process.stdout.write('error ' + error.code + '\\n'));
`;

// Dual stack, so that IPv6 reaches the port unless the table drops it.
const LISTENER = `
require('net').createServer((socket) => socket.end('memcached\\n')).listen({ port: ${port}, host: '::', ipv6Only: false }, () => process.stdout.write('listening\\n'));
`;

describe('allowlist in a network namespace', () => {
  let dir = '';
  let listener: ChildProcess | undefined;
  const spec = (sources: string[]) => allowlist.schema.parse({ port, sources, table: 'lvsprov_memcached', save_file: join(dir, 'allow.nft') });
  const reach = (ns: string, host: string, source?: string): string =>
    checked(sh(['ip', 'netns', 'exec', ns, process.execPath, '-e', CLIENT, host, String(port), ...(source ? [source] : [])]), `connect from ${source ?? ns}`).trim();
  const fromClient = (source: string) => reach(client, serverAddress, source);
  const listing = () => checked(inNetns(server, 'nft list table inet lvsprov_memcached'), 'nft list table');

  beforeAll(async () => {
    if (!isRoot) return;
    dir = mkdtempSync(join(tmpdir(), 'lvsres2-allow-'));
    createNetns(server);
    createNetns(client);
    checked(sh(['ip', '-n', server, 'link', 'add', 'srv0', 'type', 'veth', 'peer', 'name', 'cli0', 'netns', client]), 'veth pair');
    checked(sh(['ip', '-n', server, 'addr', 'add', `${serverAddress}/24`, 'dev', 'srv0']), 'server address');
    checked(sh(['ip', '-n', server, 'link', 'set', 'srv0', 'up']), 'srv0 up');
    for (const address of [...allowed, other]) checked(sh(['ip', '-n', client, 'addr', 'add', `${address}/24`, 'dev', 'cli0']), `client address ${address}`);
    checked(sh(['ip', '-n', client, 'link', 'set', 'cli0', 'up']), 'cli0 up');
    const started = spawn('ip', ['netns', 'exec', server, process.execPath, '-e', LISTENER], { stdio: ['ignore', 'pipe', 'inherit'] });
    listener = started;
    await new Promise<void>((resolve, reject) => {
      started.stdout?.on('data', (data: Buffer) => data.toString().includes('listening') && resolve());
      started.on('exit', (code) => reject(new Error(`the listener exited with ${code}`)));
    });
  });

  afterAll(() => {
    if (!isRoot) return;
    // `ip netns exec` execs node in place, so this pid is the listener this suite started.
    if (listener?.pid !== undefined && listener.exitCode === null) process.kill(listener.pid, 'SIGTERM');
    deleteNetns(client);
    deleteNetns(server);
    rmSync(dir, { recursive: true, force: true });
  });

  it('lets every source in before the table exists (the listener takes IPv4 and IPv6)', (ctx) => {
    requireRoot(ctx);
    for (const source of [...allowed, other]) expect(fromClient(source)).toBe('connected memcached');
    expect(reach(server, '::1')).toBe('connected memcached');
  });

  it('creates the table and its file, and reads back exactly the planned rules', (ctx) => {
    requireRoot(ctx);
    const { changes, apply } = converge(allowlist, spec([...allowed].reverse()), server);
    expect(changes.map((change) => change.summary)).toEqual([`create ${join(dir, 'allow.nft')}`, 'nftables table lvsprov_memcached: (absent) -> port 11211 from 2 addresses']);
    expect(apply.status, apply.stderr).toBe(0);
    expect(readFileSync(join(dir, 'allow.nft'), 'utf8')).toBe(allowlistScript(spec(allowed)));
    expect(listing()).toContain('\t\ttcp dport 11211 ip saddr != { 192.0.2.21, 192.0.2.22 } drop\n\t\tmeta nfproto ipv6 tcp dport 11211 drop\n');
    expect(probe(allowlist, spec(allowed), server)).toMatchObject({ state: 'present', rules: allowlistRules(port, allowed) });
    expect(plan(allowlist, spec(allowed), server)).toEqual([]);
  });

  it('lets the listed sources connect and drops any other source and IPv6', (ctx) => {
    requireRoot(ctx);
    for (const source of allowed) expect(fromClient(source)).toBe('connected memcached');
    expect(fromClient(other)).toBe('timeout');
    expect(reach(server, '::1')).toBe('timeout');
  });

  it('puts a rule added by hand right again', (ctx) => {
    requireRoot(ctx);
    checked(inNetns(server, `nft insert rule inet lvsprov_memcached input ip saddr ${other} accept`), 'hand edit');
    expect(fromClient(other)).toBe('connected memcached');
    const { changes, apply } = converge(allowlist, spec(allowed), server);
    expect(changes.map((change) => change.summary)).toEqual([
      `nftables table lvsprov_memcached: ip saddr ${other} accept; tcp dport 11211 ip saddr != { 192.0.2.21, 192.0.2.22 } drop; meta nfproto ipv6 tcp dport 11211 drop -> port 11211 from 2 addresses`,
    ]);
    expect(apply.status, apply.stderr).toBe(0);
    expect(fromClient(other)).toBe('timeout');
    expect(plan(allowlist, spec(allowed), server)).toEqual([]);
  });

  it('lets a source added to the list in, in one reload (one source prints bare)', (ctx) => {
    requireRoot(ctx);
    const { changes, apply } = converge(allowlist, spec([...allowed, other, other]), server);
    expect(changes.map((change) => change.summary)).toEqual([
      `update ${join(dir, 'allow.nft')}`,
      'nftables table lvsprov_memcached: port 11211 from 2 addresses -> port 11211 from 3 addresses',
    ]);
    expect(apply.status, apply.stderr).toBe(0);
    expect(fromClient(other)).toBe('connected memcached');
    expect(plan(allowlist, spec([other, ...allowed]), server)).toEqual([]);

    expect(converge(allowlist, spec([other]), server).apply.status).toBe(0);
    expect(listing()).toContain('\t\ttcp dport 11211 ip saddr != 192.0.2.23 drop\n');
    expect(plan(allowlist, spec([other]), server)).toEqual([]);
    expect(fromClient(allowed[0] as string)).toBe('timeout');
    expect(fromClient(other)).toBe('connected memcached');
  });

  it('a source that goes is shut out in retire, after one that comes is let in at prepare; a fence still there is kept', (ctx) => {
    requireRoot(ctx);
    const phases = (changes: Change[], phase: string): string => ['set -e', ...changes.filter((change) => (change.phase ?? 'prepare') === phase).flatMap((change) => change.commands)].join('\n');
    // From [other] to [allowed[0]]: at prepare both are let in.
    const changes = plan(allowlist, spec([allowed[0] as string]), server);
    checked(inNetns(server, phases(changes, 'prepare')), 'prepare');
    expect(fromClient(other)).toBe('connected memcached');
    expect(fromClient(allowed[0] as string)).toBe('connected memcached');
    checked(inNetns(server, phases(changes, 'retire')), 'retire');
    expect(fromClient(other)).toBe('timeout');
    expect(fromClient(allowed[0] as string)).toBe('connected memcached');
    expect(plan(allowlist, spec([allowed[0] as string]), server)).toEqual([]);

    // Fenced (a store restarting): the loads keep the fence while it is there, and not once it went.
    const fence = [...fenceRules(port)].reverse().map((rule) => `nft insert rule inet lvsprov_memcached input ${rule}`).join('\n');
    checked(inNetns(server, fence), 'fence');
    const fenced = plan(allowlist, spec([other]), server);
    checked(inNetns(server, phases(fenced, 'prepare')), 'fenced prepare');
    expect(fromClient(allowed[0] as string)).not.toBe('connected memcached');
    checked(inNetns(server, phases(fenced, 'retire')), 'fenced retire');
    expect(listing()).toContain(`\t\t${fenceRules(port)[1]}\n`);
    // Fenced at the read, opened by the restart's copier before retire (it loads the save file,
    // both lists until then): the retire load puts no fence back.
    const opened = plan(allowlist, spec([allowed[0] as string]), server);
    checked(inNetns(server, phases(opened, 'prepare')), 'prepare, fenced');
    expect(listing()).toContain('reject');
    checked(inNetns(server, `nft -f ${join(dir, 'allow.nft')}`), "the copier's opening");
    // The save file holds both lists until retire: the leaving source is still let in.
    expect(fromClient(other)).toBe('connected memcached');
    checked(inNetns(server, phases(opened, 'retire')), 'retire, opened');
    expect(listing()).not.toContain('reject');
    expect(fromClient(allowed[0] as string)).toBe('connected memcached');
    expect(fromClient(other)).toBe('timeout');
  });

  it('reset deletes the table and the file, opens the port again, and then plans nothing', (ctx) => {
    requireRoot(ctx);
    const facts = probe(allowlist, spec([other]), server) as Parameters<NonNullable<typeof allowlist.reset>['plan']>[1];
    const changes = allowlist.reset?.plan(spec([other]), facts, { host: server }) ?? [];
    expect(changes.map((change) => change.summary)).toEqual(['delete nftables table lvsprov_memcached', `remove ${join(dir, 'allow.nft')}`]);
    const run = inNetns(server, ['set -e', ...changes.flatMap((change) => change.commands)].join('\n'));
    expect(run.status, run.stderr).toBe(0);
    expect(existsSync(join(dir, 'allow.nft'))).toBe(false);
    const after = probe(allowlist, spec([other]), server) as typeof facts;
    expect(after.state).toBe('absent');
    expect(allowlist.reset?.plan(spec([other]), after, { host: server })).toEqual([]);
    expect(fromClient(allowed[0] as string)).toBe('connected memcached');
    expect(reach(server, '::1')).toBe('connected memcached');
  });
});
