import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hostVars } from '../../src/config/host-vars.js';
import { loadInventory } from '../../src/config/inventory.js';
import { renderTemplateFile } from '../../src/config/template-render.js';
import { STORES, threeStoresInventory } from '../support/three-stores.js';

// One session store of three down: the session ini lvsprov writes (rendered from the inventory,
// as the webpage role does) must keep every session readable and writable with Debian's
// php-cgi, php-memcached (libmemcached 1.1) and memcached, run here in a private network
// namespace with the stores' addresses on its loopback. php-cgi runs as a CGI program, one
// process per request as under the real servers' web server, so no request inherits another's
// view of which store is down. Measured (60 sessions, one store of three down, lock on): each
// session on one further store (replicas 1) lost 4 on its first request and 8 after an update;
// each on every store, with the session lock, 6 and 5 of 12; on every store without the lock, none.

const root = join(import.meta.dirname, '../..');
const work = mkdtempSync(join(tmpdir(), 'lvsprov-sessions-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const page = `<?php
session_start();
echo (($_SESSION['v'] ?? '') === getenv('EXPECT')) ? "ok\\n" : "lost\\n";
if (getenv('SET') !== '') $_SESSION['v'] = getenv('SET');
`;

// Writes a session per id, stops the second store, then per session: a request that reads it and
// writes a new value, and one that reads that value back. Prints how many of each came back wrong.
const script = `set -e
ip link set lo up
for a in ${STORES.join(' ')}; do ip addr add "$a/32" dev lo; done
pids=''
for a in ${STORES.join(' ')}; do memcached -u nobody -l "$a" -p 11211 -U 0 -m 8 & pids="$pids $!"; done
trap 'kill $pids 2>/dev/null || true' EXIT
for a in ${STORES.join(' ')}; do i=0; until (exec 3<>/dev/tcp/$a/11211) 2>/dev/null || [ $i -ge 50 ]; do i=$((i+1)); sleep 0.1; done; done
export PHP_INI_SCAN_DIR=/etc/php/8.2/cgi/conf.d GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=GET SCRIPT_FILENAME="$1/page.php"
req() { HTTP_COOKIE="PHPSESSID=$1" EXPECT="$2" SET="$3" php-cgi -c "$INI" </dev/null | grep -xE 'ok|lost' || true; }
for id in $IDS; do req "$id" '' "a$id" >/dev/null; done
kill $(echo $pids | cut -d' ' -f2)
i=0; while (exec 3<>/dev/tcp/${STORES[1]}/11211) 2>/dev/null && [ $i -lt 50 ]; do i=$((i+1)); sleep 0.1; done
first=0; updated=0
for id in $IDS; do [ "$(req "$id" "a$id" "b$id")" = ok ] || first=$((first+1)); done
for id in $IDS; do [ "$(req "$id" "b$id" '')" = ok ] || updated=$((updated+1)); done
echo "$first $updated"
`;

const ids = Array.from({ length: 6 }, (_, index) => `lvsprov${String(index).padStart(4, '0')}sessionid`);

/** Sessions lost with one store down under this ini: [on the first request, after an update]. */
function lostWithOneStoreDown(ini: string): [number, number] {
  const file = join(work, `sessions-${Math.random().toString(36).slice(2)}.ini`);
  writeFileSync(file, ini);
  writeFileSync(join(work, 'page.php'), page);
  const run = spawnSync('unshare', ['-n', 'bash', '-c', script, 'bash', work], { env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', INI: file, IDS: ids.join(' ') }, encoding: 'utf8', timeout: 60_000 });
  const [first, updated] = run.stdout.trim().split(' ').map(Number);
  if (run.status !== 0 || first === undefined || updated === undefined) throw new Error(`the store-down run failed (${run.status}): ${run.stdout}${run.stderr}`);
  return [first, updated];
}

describe('PHP sessions in memcached with one store of three down', () => {
  writeFileSync(join(work, 'inventory.yaml'), threeStoresInventory);
  const vars = hostVars(loadInventory(join(work, 'inventory.yaml')), 'rs1');
  const ini = (replicas: unknown): string =>
    renderTemplateFile(readFileSync(join(root, 'roles/webpage/templates/sessions.ini.hbs'), 'utf8'), { session_save_path: vars.session_save_path, session_replicas: replicas }, 'php-ini');

  it('with the ini lvsprov writes (each session on every store), none is lost, updates included', () => {
    expect(vars.session_replicas).toBe(2);
    expect(lostWithOneStoreDown(ini(vars.session_replicas))).toEqual([0, 0]);
  });

  it('the harness is a real judge: each session on one further store loses some', () => {
    const [first, updated] = lostWithOneStoreDown(ini(1));
    expect(first + updated).toBeGreaterThan(0);
  });

  it('the harness is a real judge: with the session lock, the lock copies left on the stores lose some', () => {
    const [first, updated] = lostWithOneStoreDown(ini(vars.session_replicas).replace('memcached.sess_locking = Off', 'memcached.sess_locking = On'));
    expect(first + updated).toBeGreaterThan(0);
  });
});
