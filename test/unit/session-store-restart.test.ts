import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compile, type CompiledTask } from '../../src/config/compile.js';
import { hostVars } from '../../src/config/host-vars.js';
import { loadInventory } from '../../src/config/inventory.js';
import { renderTemplateFile } from '../../src/config/template-render.js';
import { allowlistScript, type AllowlistSpec } from '../../src/resources/allowlist.js';
import { service, type ServiceFacts, type ServiceSpec } from '../../src/resources/service.js';
import { STORES, threeStoresInventory } from '../support/three-stores.js';

// A session store that lvsprov restarts while users keep clicking: with the commands the memcached
// role's service task plans for a restart (the fence, the restart, the copier, the allowlist back),
// run verbatim, every session must keep its value, the updates made during the restart included.
// Debian's memcached, php-cgi and php-memcached, nftables and perl run in two private network
// namespaces joined by a veth pair: the restarted store alone in one (its fence is its own), the
// other two stores and the users' php-cgi in the other; and in a private mount namespace whose
// /etc, /usr/local and /var/lib are overlays: the role's files sit where the commands name them,
// and /etc/init.d/memcached restarts this harness's memcached of the store. php-cgi runs once per
// request, as under the real servers' web server.

const root = join(import.meta.dirname, '../..');
const work = mkdtempSync(join(tmpdir(), 'lvsprov-store-restart-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const RESTARTED = 'rs2';
const RESTARTED_ADDRESS = STORES[1];
const OTHER_STORES = STORES.filter((address) => address !== RESTARTED_ADDRESS);

// Each request counts one more in its session and prints the count.
const page = `<?php
session_start();
$_SESSION['n'] = ($_SESSION['n'] ?? 0) + 1;
echo "n=", $_SESSION['n'], "\\n";
`;

// Debian's init script, as far as the restart goes: the store's memcached stops and starts again
// empty, with the settings the role writes (memcached -d would detach from the pid we track).
const initScript = `#!/bin/sh
[ "$1" = restart ] || exit 3
pid=$(cat "$WORK/store.pid")
kill "$pid"
while kill -0 "$pid" 2>/dev/null; do sleep 0.02; done
memcached -u nobody -l ${RESTARTED_ADDRESS} -p 11211 -U 0 -m 8 </dev/null >/dev/null 2>&1 &
echo $! > "$WORK/store.pid"
`;

// The stores and the allowlist as lvsprov leaves them; sessions made; users' requests in a loop
// while the restart's commands run, then a last round. Every answer must be the count the user
// made so far: a session read empty or stale answers less. Prints the mistakes, the requests made
// and the copier's report.
const script = `set -e
mount -t overlay overlay -o lowerdir=/etc,upperdir="$WORK/etc",workdir="$WORK/etc-work" /etc
mount -t overlay overlay -o lowerdir=/usr/local,upperdir="$WORK/usr-local",workdir="$WORK/usr-local-work" /usr/local
mount -t overlay overlay -o lowerdir=/var/lib,upperdir="$WORK/var-lib",workdir="$WORK/var-lib-work" /var/lib
unshare -n sleep 600 & store_ns=$!
trap 'kill $(cat "$WORK"/*.pid) $store_ns 2>/dev/null || true' EXIT
in_store() { nsenter -t $store_ns -n "$@"; }
sleep 0.1
ip link set lo up
ip link add lan type veth peer name store
ip link set store netns $store_ns
ip link set lan up
${OTHER_STORES.map((address) => `ip addr add ${address}/24 dev lan`).join('\n')}
in_store ip link set lo up
in_store ip link set store up
in_store ip addr add ${RESTARTED_ADDRESS}/24 dev store
${OTHER_STORES.map((address, index) => `memcached -u nobody -l ${address} -p 11211 -U 0 -m 8 </dev/null >/dev/null 2>&1 & echo $! > "$WORK/peer${index}.pid"`).join('\n')}
nsenter -t $store_ns -n memcached -u nobody -l ${RESTARTED_ADDRESS} -p 11211 -U 0 -m 8 </dev/null >/dev/null 2>&1 & echo $! > "$WORK/store.pid"
for a in ${STORES.join(' ')}; do i=0; until (exec 3<>/dev/tcp/$a/11211) 2>/dev/null || [ $i -ge 50 ]; do i=$((i+1)); sleep 0.1; done; done
in_store nft -f /etc/lvsprov/memcached-allow.nft
export PHP_INI_SCAN_DIR=/etc/php/8.2/cgi/conf.d GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=GET SCRIPT_FILENAME="$WORK/page.php"
req() { HTTP_COOKIE="PHPSESSID=$1" php-cgi -c "$WORK/sessions.ini" </dev/null | sed -n 's/^n=//p'; }
users() {
  mistakes=0; made=0; rounds=0; echo 0 > "$WORK/rounds"
  for id in $IDS; do echo 0 > "$WORK/count-$id"; done
  while :; do
    for id in $IDS; do
      want=$(( $(cat "$WORK/count-$id") + 1 )); got=$(req "$id"); made=$((made+1))
      if [ "$got" != "$want" ]; then mistakes=$((mistakes+1)); echo "$id: $got, not $want" >&2; fi
      echo "\${got:-0}" > "$WORK/count-$id"
    done
    rounds=$((rounds+1)); echo $rounds > "$WORK/rounds"
    [ -e "$WORK/stop" ] && break
  done
  echo "$mistakes $made" > "$WORK/users"
}
users & user_pid=$!
# Every session exists before the restart: a whole round of the users first (one second was not
# a round on a loaded machine, and sessions made after the restart have nothing to lose).
i=0; until [ "$(cat "$WORK/rounds" 2>/dev/null || echo 0)" -ge 1 ] || [ $i -ge 600 ]; do i=$((i+1)); sleep 0.1; done
sleep 0.5
before=$(cat "$WORK/store.pid")
in_store sh -e "$WORK/restart.sh" > "$WORK/restart.out" 2>&1 || { cat "$WORK/restart.out" >&2; exit 1; }
sleep 1
# Every user reads again after the restart, however slowly the requests go (a loaded machine):
# a whole round begun after it. Without this wait a plain restart's losses went unseen under load.
r=$(cat "$WORK/rounds"); i=0; until [ "$(cat "$WORK/rounds")" -ge $((r + 2)) ] || [ $i -ge 600 ]; do i=$((i+1)); sleep 0.1; done
touch "$WORK/stop"; wait $user_pid
[ "$(cat "$WORK/store.pid")" != "$before" ] && kill -0 "$(cat "$WORK/store.pid")" || { echo "memcached of the store did not restart" >&2; exit 1; }
echo "$(cat "$WORK/users") $(tr '\\n' ' ' < "$WORK/restart.out")"
`;

const ids = Array.from({ length: 9 }, (_, index) => `lvsprov${String(index).padStart(4, '0')}sessionid`);

const compiled = (() => {
  writeFileSync(join(work, 'inventory.yaml'), threeStoresInventory);
  const loaded = loadInventory(join(work, 'inventory.yaml'));
  return { run: compile(loaded, join(root, 'playbooks/site.yaml')), vars: hostVars(loaded, RESTARTED) };
})();
const tasks = compiled.run.hosts.get(RESTARTED) ?? [];
const specOf = <T>(type: string, test: (spec: T) => boolean): T => {
  const found = tasks.find((task: CompiledTask) => task.type === type && test(task.spec as T));
  if (!found) throw new Error(`no ${type} task on ${RESTARTED}`);
  return found.spec as T;
};
const memcached = specOf<ServiceSpec>('service', (spec) => spec.name === 'memcached');
const allowlist = specOf<AllowlistSpec>('allowlist', () => true);
const copier = specOf<{ path: string; content: string }>('file', (spec) => spec.path === '/usr/local/lib/lvsprov/memcached-seed');

/** The commands the service task plans for a running memcached whose settings changed. */
function restartCommands(spec: ServiceSpec): readonly string[] {
  const facts: ServiceFacts = { manager: 'sysv', running: true, enabled: true, enabler: 'update-rc.d', missing: false, stale: [] };
  const [restart, ...others] = service.plan(spec, facts, { host: RESTARTED, changed: new Set(['file /etc/memcached.conf']) });
  expect(others).toEqual([]);
  expect(restart?.summary).toBe('restart memcached: /etc/memcached.conf changed');
  return restart?.commands ?? [];
}

/** Runs the users and the restart (`commands`); the mistakes the users saw, the requests made and the restart's output. */
function restartUnderLoad(commands: readonly string[]): { mistakes: number; made: number; said: string } {
  const run = join(work, `run-${Math.random().toString(36).slice(2)}`);
  for (const dir of ['etc', 'etc-work', 'usr-local', 'usr-local-work', 'var-lib', 'var-lib-work', 'etc/lvsprov', 'etc/init.d', 'usr-local/lib/lvsprov']) mkdirSync(join(run, dir), { recursive: true });
  writeFileSync(join(run, 'etc/lvsprov/memcached-allow.nft'), allowlistScript(allowlist));
  writeFileSync(join(run, 'etc/init.d/memcached'), initScript, { mode: 0o755 });
  writeFileSync(join(run, 'usr-local/lib/lvsprov/memcached-seed'), copier.content);
  writeFileSync(join(run, 'page.php'), page);
  const ini = renderTemplateFile(readFileSync(join(root, 'roles/webpage/templates/sessions.ini.hbs'), 'utf8'), { session_save_path: compiled.vars.session_save_path, session_replicas: compiled.vars.session_replicas }, 'php-ini');
  writeFileSync(join(run, 'sessions.ini'), ini);
  writeFileSync(join(run, 'restart.sh'), `${commands.join('\n')}\n`);
  const result = spawnSync('unshare', ['-n', '-m', 'bash', '-c', script], {
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: run, WORK: run, IDS: ids.join(' ') },
    encoding: 'utf8',
    timeout: 120_000,
  });
  const match = /^(\d+) (\d+) ?(.*)$/.exec(result.stdout.trim());
  if (result.status !== 0 || !match) throw new Error(`the restart run failed (${result.status}): ${result.stdout}${result.stderr}`);
  return { mistakes: Number(match[1]), made: Number(match[2]), said: match[3]!.trim() };
}

describe('a session store restarted by apply while users click', () => {
  it('the role fences, restarts, copies and opens memcached in that order, one store at a time', () => {
    const commands = restartCommands(memcached);
    const at = (pattern: RegExp): number => commands.findIndex((line) => pattern.test(line));
    expect(commands.slice(0, 2)).toEqual([
      '/usr/sbin/nft insert rule inet lvsprov_memcached input tcp dport 11211 reject with tcp reset',
      '/usr/sbin/nft insert rule inet lvsprov_memcached input ip saddr 127.0.0.1 tcp dport 11211 accept',
    ]);
    expect(at(/^\/etc\/init\.d\/memcached restart$/)).toBe(2);
    expect(commands[3]).toBe(`/usr/bin/perl /usr/local/lib/lvsprov/memcached-seed --open /etc/lvsprov/memcached-allow.nft --fence lvsprov_memcached ${RESTARTED_ADDRESS} 11211 300 ${STORES[0]},${STORES[2]}`);
    // Recorded as started with the new settings only once the copy is in.
    expect(commands[4]).toMatch(/service-memcached\.started/);
    expect(commands).toHaveLength(5);
    expect(memcached.one_at_a_time).toBe('session-stores');
    // In balance: every real server names the stores, and every store lets the others in, by then.
    expect(memcached.wave).toBe('balance');
    // The other stores copy from this one as they start: its allowlist lets them in.
    expect(allowlist.sources).toEqual(expect.arrayContaining([...STORES]));
  });

  it('no session is lost or goes back, the updates made during the restart included', () => {
    const { mistakes, made, said } = restartUnderLoad(restartCommands(memcached));
    expect(made).toBeGreaterThanOrEqual(ids.length * 3);
    expect(said).toMatch(new RegExp(`^memcached-seed: \\d+ added from ${STORES[0].replace(/\./g, '\\.')}, \\d+ written there meanwhile set again, \\d+ once open; \\d+ added from`));
    expect(mistakes).toBe(0);
  });

  it('the harness is a real judge: a plain restart, without the fence and the copier, loses sessions', () => {
    const { around_start: _fenceAndCopy, ...plain } = memcached;
    const { mistakes } = restartUnderLoad(restartCommands(plain));
    expect(mistakes).toBeGreaterThan(0);
  });
});
