import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cliPath, runCli, startCli } from '../support/cli.js';
import { TmuxPane } from '../support/tmux.js';

// lvsprov in a real terminal (a tmux pane): the live progress list on stderr while hosts are in
// flight, the report alone on stdout, colour on a terminal and none with NO_COLOR.
//
// The hosts: `slow` is a TCP listener that accepts and never speaks SSH, so the host stays in
// "connecting" until its connect timeout; `closed` is loopback port 1, refused at once.

describe('the terminal: progress on stderr, colour, NO_COLOR', () => {
  let dir: string;
  let server: Server;
  const sockets: Socket[] = [];
  let pane: TmuxPane | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lvsprov-terminal-'));
    server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    writeFileSync(
      join(dir, 'inventory.yaml'),
      stringify({
        ssh: { user: 'root', agent: false, known_hosts: join(dir, 'known_hosts'), connect_timeout: 4 },
        hosts: { slow: { address: '127.0.0.1', ssh: { port } }, closed: { address: '127.0.0.2', ssh: { port: 1 } } },
      }),
    );
    // verify: the client is `slow`, the director `closed`.
    writeFileSync(
      join(dir, 'verify.yaml'),
      stringify({
        ssh: { user: 'root', agent: false, known_hosts: join(dir, 'known_hosts'), connect_timeout: 4 },
        groups: { clients: { hosts: ['slow'] }, directors: { hosts: ['closed'] }, realservers: { hosts: ['rs1'] } },
        hosts: { slow: { address: '127.0.0.1', ssh: { port } }, closed: { address: '127.0.0.2', ssh: { port: 1 } }, rs1: { address: '127.0.0.3', ssh: { port: 1 } } },
        lvs: {
          vips: { web: { address: '198.51.100.50' } },
          services: [{ name: 'web', vip: 'web', port: 80, scheduler: 'rr', forwarding: 'dr', real_servers: [{ host: 'rs1', address: '198.51.100.20' }] }],
        },
      }),
    );
    writeFileSync(join(dir, 'playbook.yaml'), stringify([{ hosts: 'all', tasks: [{ name: 'marker', file: { path: '/etc/lvsprov-terminal', content: 'x\n' } }] }]));
  });

  afterEach(() => {
    pane?.close();
    pane = undefined;
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  const apply = (): string => `cd ${dir} && ${process.execPath} ${cliPath} apply -i inventory.yaml -p playbook.yaml`;

  it('draws the live host list on the terminal while the report goes to stdout alone', async () => {
    pane = new TmuxPane();
    pane.start(`${apply()} > report.txt`);
    // While `slow` waits for its SSH handshake, the list shows it connecting and `closed` done.
    // Wait for the refusal, which comes first; `slow` must still be connecting then.
    const live = await pane.waitFor(/✖ closed: unreachable/, 30_000);
    expect(live).toMatch(/slow: connecting/);
    expect(live).not.toMatch(/EXIT=/);
    const done = await pane.waitFor(/EXIT=3/, 30_000);
    expect(done).toMatch(/✖ slow: unreachable\n.*Timed out while waiting for handshake/);
    expect(done).not.toContain('RECAP');
    const report = readFileSync(join(dir, 'report.txt'), 'utf8');
    expect(report).toMatch(/^RECAP$/m);
    expect(report).toMatch(/^slow +: unreachable +ok=0 /m);
    expect(report).not.toMatch(/connecting|✖/);
    // stdout was a file: no colour in it.
    expect(report).not.toContain('\u001b[');
  });

  it('counts the hosts on one live line when they outnumber the terminal\'s rows, and says why hosts failed under it', async () => {
    // Five rows for two hosts: a line per host would not leave the rows the view needs.
    pane = new TmuxPane(140, 5);
    pane.start(`${apply()} > report.txt`);
    const live = await pane.waitFor(/2 hosts: 1 done \(1 unreachable\); 1 under way \(1 connecting\)/, 30_000);
    expect(live).not.toMatch(/slow: connecting|EXIT=/);
    // What scrolled off the five rows included: listr2 wraps the reasons at stdout's width (80
    // columns when stdout is a file).
    const done = (await pane.waitFor(/EXIT=3/, 30_000, { history: true })).replace(/\n {4}/g, ' ');
    expect(done).toMatch(/✖ 2 hosts: 2 done \(2 unreachable\)/);
    expect(done).toMatch(/closed: unreachable: closed \(root@127\.0\.0\.2:1\): connect ECONNREFUSED/);
    expect(done).toMatch(/slow: unreachable: slow \(root@127\.0\.0\.1:\d+\): Timed out/);
    const report = readFileSync(join(dir, 'report.txt'), 'utf8');
    expect(report).toMatch(/^slow +: unreachable +ok=0 /m);
    expect(report).toMatch(/^closed +: unreachable +ok=0 /m);
  });

  it('draws verify\'s services and ARP checks as a live list while the report goes to stdout alone', async () => {
    pane = new TmuxPane();
    pane.start(`cd ${dir} && ${process.execPath} ${cliPath} verify -i verify.yaml --json > verify.json`);
    // The director is refused at once, so its ARP check ends first; the client is still connecting.
    const live = await pane.waitFor(/✖ ARP 198\.51\.100\.50: not-run/, 30_000);
    expect(live).toMatch(/service web: running/);
    expect(live).not.toMatch(/EXIT=/);
    const done = await pane.waitFor(/EXIT=3/, 30_000);
    expect(done).toMatch(/✖ service web: not run/);
    const report = JSON.parse(readFileSync(join(dir, 'verify.json'), 'utf8')) as { exitCode: number; services: Array<{ status: string }> };
    expect([report.exitCode, report.services.map((service) => service.status)]).toEqual([3, ['not-run']]);
  });

  it('colours the recap on a terminal and not with NO_COLOR', async () => {
    pane = new TmuxPane();
    pane.start(apply());
    const coloured = await pane.waitFor(/EXIT=3/, 30_000, { colour: true });
    // The status word of an unreachable host in red (SGR 31), then back to normal.
    expect(coloured).toMatch(/closed +: \u001b\[31munreachable/);
    pane.close();

    pane = new TmuxPane();
    pane.start(apply(), { NO_COLOR: '1' });
    const plain = await pane.waitFor(/EXIT=3/, 30_000, { colour: true });
    expect(plain).toMatch(/^closed +: unreachable +ok=0 /m);
    expect(plain).not.toContain('\u001b[');
  });

  it('colours the live list and the recap as it decides: an empty NO_COLOR keeps colour, FORCE_COLOR=0 takes it from both', async () => {
    // Only the host refused at once: no connect timeout to wait for.
    const closed = `${apply()} --limit closed`;
    pane = new TmuxPane();
    pane.start(closed, { NO_COLOR: '' });
    const coloured = await pane.waitFor(/EXIT=3/, 30_000, { colour: true });
    expect(coloured).toMatch(/closed +: \u001b\[31munreachable/);
    expect(coloured).toMatch(/\u001b\[31m✖/);
    pane.close();

    // listr2's colorette reads FORCE_COLOR=0 as "on"; lvsprov decides for it.
    pane = new TmuxPane();
    pane.start(closed, { FORCE_COLOR: '0' });
    const plain = await pane.waitFor(/EXIT=3/, 30_000, { colour: true });
    expect(plain).toMatch(/✖ closed: unreachable/);
    expect(plain).not.toContain('\u001b[');
  });

  it('status --watch redraws a terminal, but a redirected stdout gets each refresh in turn, no screen clearing', async () => {
    const status = `cd ${dir} && ${process.execPath} ${cliPath} status -i inventory.yaml -p playbook.yaml --limit closed --watch 1 --count 2`;
    pane = new TmuxPane();
    pane.start(`${status} > status.txt`);
    await pane.waitFor(/EXIT=3/, 30_000);
    const file = readFileSync(join(dir, 'status.txt'), 'utf8');
    expect(file).not.toContain('\u001b[');
    expect(file.match(/hosts reached/g)).toHaveLength(2);
    pane.close();
    // On the terminal itself the screen is cleared before each refresh: one report shows at a time.
    pane = new TmuxPane();
    pane.start(status);
    const screen = await pane.waitFor(/EXIT=3/, 30_000);
    expect(screen.match(/hosts reached/g)).toHaveLength(1);
  });

  it('status --watch stops on SIGTERM and SIGHUP as on Ctrl-C, with the last refresh\'s exit code', async () => {
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      const started = startCli(['status', '-i', 'inventory.yaml', '-p', 'playbook.yaml', '--limit', 'closed', '--watch', '1'], { cwd: dir });
      for (let i = 0; i < 100 && !started.output().stdout.includes('hosts reached'); i++) await new Promise((resolve) => setTimeout(resolve, 50));
      started.child.kill(signal);
      const result = await started.done;
      expect([signal, result.code]).toEqual([signal, 3]);
      expect(result.stdout).toMatch(/closed +127\.0\.0\.2 +UNREACHABLE/);
    }
  });

  it('colours a redirected report only with FORCE_COLOR (not 0 or false), also on a CI runner', async () => {
    const report = async (env: NodeJS.ProcessEnv): Promise<string> => {
      // Only the host refused at once: no connect timeout to wait for.
      const result = await runCli(['apply', '-i', 'inventory.yaml', '-p', 'playbook.yaml', '--limit', 'closed'], { cwd: dir, env: { NO_COLOR: undefined, FORCE_COLOR: undefined, TERM: 'xterm', ...env } });
      expect(result.code).toBe(3);
      return result.stdout;
    };
    // GitHub Actions sets CI and GITHUB_ACTIONS; a file the job writes gets no escape codes.
    expect(await report({ CI: 'true', GITHUB_ACTIONS: 'true' })).toMatch(/^closed +: unreachable +ok=0 /m);
    expect(await report({ FORCE_COLOR: '0' })).not.toContain('\u001b[');
    expect(await report({ FORCE_COLOR: 'false' })).not.toContain('\u001b[');
    expect(await report({ FORCE_COLOR: '1' })).toMatch(/closed +: \u001b\[31munreachable/);
    expect(await report({ FORCE_COLOR: '1', NO_COLOR: '1' })).not.toContain('\u001b[');
  });
});
