import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { argumentsRecordPath, pidfilePath, service } from '../../src/resources/service.js';
import type { Change, HostContext } from '../../src/resources/types.js';

// A pidfile daemon (`sleep`, as start-stop-daemon runs the lab's test page) read by the
// resource's own probe in a real shell. lvsprov records the arguments it started a daemon with;
// a daemon someone restarted by hand under the same pidfile, with other arguments, left that
// record behind, and the plan trusted it: the drift went unseen. A record older than the pidfile
// is not this daemon's.

const name = `lvsunit-rec-${process.pid}`;
const sleep = execFileSync('sh', ['-c', 'command -v sleep']).toString().trim();
const spec = (seconds: string) => service.schema.parse({ name, state: 'started', exec: [sleep, seconds] });
const context = { host: 'h1' } as unknown as HostContext;
const pid = (): number => Number(readFileSync(pidfilePath(name), 'utf8').trim());

function plan(seconds: string): Change[] {
  const stdout = execFileSync('sh', ['-c', service.probe(spec(seconds))]).toString();
  return service.plan(spec(seconds), service.parse({ stdout, status: 0 }, spec(seconds)), context);
}

afterAll(() => {
  if (existsSync(pidfilePath(name))) {
    const daemon = pid();
    // Only the sleep this file started: its command line names the seconds given here.
    if (existsSync(`/proc/${daemon}/cmdline`) && readFileSync(`/proc/${daemon}/cmdline`, 'utf8').startsWith(`${sleep}\0`)) process.kill(daemon, 'SIGTERM');
  }
  rmSync(pidfilePath(name), { force: true });
  rmSync(argumentsRecordPath(name), { force: true });
});

describe.skipIf(process.getuid?.() !== 0 || !existsSync('/sbin/start-stop-daemon'))('the arguments record of a pidfile daemon', () => {
  it('is read while the daemon lvsprov started runs; a daemon restarted by hand under the pidfile is read by its command line', () => {
    const started = plan('3001');
    expect(started.map((change) => change.summary)).toEqual([`start ${name} (start-stop-daemon)`]);
    execFileSync('sh', ['-c', started.flatMap((change) => change.commands).join('\n')], { stdio: 'ignore' });
    expect(plan('3001')).toEqual([]);
    expect(readFileSync(argumentsRecordPath(name), 'utf8')).toBe(`${sleep} 3001\n`);

    // By hand: stop it, start it again with other arguments under the same pidfile.
    const first = pid();
    process.kill(first, 'SIGTERM');
    execFileSync('sh', ['-c', `while [ -d /proc/${first} ]; do sleep 0.05; done; start-stop-daemon --start --quiet --background --make-pidfile --pidfile ${pidfilePath(name)} --exec ${sleep} -- 3002`]);
    execFileSync('sh', ['-c', `for i in 1 2 3 4 5 6 7 8 9 10; do [ -e /proc/$(cat ${pidfilePath(name)})/cmdline ] && grep -q 3002 /proc/$(cat ${pidfilePath(name)})/cmdline && break; sleep 0.1; done`]);
    expect(plan('3001').map((change) => [change.summary, change.diff])).toEqual([
      [`restart ${name} (start-stop-daemon): its arguments changed`, { kind: 'value', before: `${sleep}3002 (its command line, the words run together)`, after: `${sleep} 3001` }],
    ]);
    expect(plan('3002')).toEqual([]);
  });
});
