import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// The memcached role's copier (memcached-seed), run by perl on two real memcached of Debian's in a
// private network namespace: what a copy carries (values byte for byte, flags, times to live, no
// expiry), what it leaves (a newer item already there, a key the text protocol cannot carry), and
// how it refuses and fails.

const seeder = join(import.meta.dirname, '../../roles/memcached/templates/memcached-seed.pl.hbs');

/** Runs `body` in a namespace where memcached listens on 127.0.0.2 (the peer) and 127.0.0.3 (the store), port 21211. */
function inNamespace(body: string): { status: number | null; stdout: string; stderr: string } {
  const script = `set -e
ip link set lo up
pids=''
for a in 127.0.0.2 127.0.0.3; do memcached -u nobody -l "$a" -p 21211 -U 0 -m 8 </dev/null >/dev/null 2>&1 & pids="$pids $!"; done
trap 'kill $pids 2>/dev/null || true' EXIT
for a in 127.0.0.2 127.0.0.3; do i=0; until (exec 3<>/dev/tcp/$a/21211) 2>/dev/null || [ $i -ge 50 ]; do i=$((i+1)); sleep 0.1; done; done
ask() { printf "$2"'quit\\r\\n' | busybox nc "$1" 21211; }
${body}`;
  const result = spawnSync('unshare', ['-n', 'bash', '-c', script], { env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', SEED: seeder }, encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The store's port fenced as the memcached role fences it (table lvsprov_test), and $dir/open.nft, which opens it. */
const fenced = `nft -f - <<'RULES'
table inet lvsprov_test {
  chain input {
    type filter hook input priority filter; policy accept;
    ip saddr 127.0.0.1 tcp dport 21211 accept
    tcp dport 21211 reject with tcp reset
  }
}
RULES
printf 'flush chain inet lvsprov_test input\\n' > "$dir/open.nft"`;

describe('memcached-seed', () => {
  it('copies values byte for byte with their flags and times to live, leaves a newer item and a key it cannot carry', () => {
    const { status, stdout, stderr } = inNamespace(`
ask 127.0.0.2 'set memc.sess.key.a 7 1000 6\\r\\nx\\r\\ny\\0z\\r\\nset forever 0 0 1\\r\\nf\\r\\nset mine 0 0 3\\r\\nold\\r\\nms aGFzIHNwYWNl 1 b\\r\\ns\\r\\n' >/dev/null
sleep 2
ask 127.0.0.3 'set mine 0 0 3\\r\\nnew\\r\\n' >/dev/null
perl "$SEED" 127.0.0.3 21211 20 127.0.0.2
ask 127.0.0.3 'mg memc.sess.key.a v f t\\r\\nmg forever v f t\\r\\nmg mine v\\r\\nmg aGFzIHNwYWNl b v\\r\\n'
`);
    expect(status, stderr).toBe(0);
    const report = stdout.split('\n')[0];
    const dump = stdout.slice(stdout.indexOf('\n') + 1);
    // Two added (the store keeps its own "mine"); pass 2 copies nothing: the peer's items were written before it began.
    expect(report).toBe('memcached-seed: 2 added from 127.0.0.2, 0 written there meanwhile set again; 1 keys the text protocol cannot carry left out');
    // The six bytes x \r \n y \0 z, flags 7, a time to live of 1000 s less the seconds gone.
    expect(dump).toMatch(/^VA 6 f7 t99\d\r\nx\r\ny\0z\r\n/);
    expect(dump).toContain('VA 1 f0 t-1\r\nf\r\n');
    // Added, not set: the store's own newer item stays.
    expect(dump).toContain('VA 3\r\nnew\r\n');
    // The key with a space is not there.
    expect(dump).toMatch(/EN\r\n$/);
  });

  it('sets again what was written on a peer since the copy began', () => {
    const { status, stdout, stderr } = inNamespace(`
ask 127.0.0.3 'set mine 0 0 3\\r\\nold\\r\\n' >/dev/null
ask 127.0.0.2 'set mine 0 0 3\\r\\nnew\\r\\n' >/dev/null
perl "$SEED" 127.0.0.3 21211 20 127.0.0.2
ask 127.0.0.3 'mg mine v\\r\\n'
`);
    expect(status, stderr).toBe(0);
    expect(stdout).toContain('memcached-seed: 0 added from 127.0.0.2, 1 written there meanwhile set again');
    expect(stdout).toContain('VA 3\r\nnew');
  });

  it('says which peers did not answer, and that there is none with -', () => {
    const { stdout, stderr, status } = inNamespace(`
perl "$SEED" 127.0.0.3 21211 20 127.0.0.2,127.0.0.9
perl "$SEED" 127.0.0.3 21211 20 -
`);
    expect(status, stderr).toBe(0);
    expect(stdout.split('\n').slice(0, 2)).toEqual(['memcached-seed: 0 added from 127.0.0.2, 0 written there meanwhile set again; 127.0.0.9 did not answer (Connection refused)', 'memcached-seed: no other store']);
  });

  it('a copy that fails removes the --forget file and runs no --open; one that succeeds keeps it', () => {
    const { stdout, stderr, status } = inNamespace(`
dir=$(mktemp -d); trap 'rm -rf "$dir"; kill $pids 2>/dev/null || true' EXIT
touch "$dir/record"
if perl "$SEED" --forget "$dir/record" --open "$dir/none.nft" 127.0.0.4 21211 20 127.0.0.2; then echo copied; else echo failed; fi
[ -e "$dir/record" ] && echo kept || echo forgotten
touch "$dir/record"
perl "$SEED" --forget "$dir/record" 127.0.0.3 21211 20 127.0.0.2 >/dev/null
[ -e "$dir/record" ] && echo kept || echo forgotten
`);
    expect(status, stderr).toBe(0);
    expect(stdout.trim().split('\n')).toEqual(['failed', 'forgotten', 'kept']);
    expect(stderr).toContain('memcached-seed: memcached on 127.0.0.4:21211 does not answer');
    expect(stderr).not.toContain('nft');
  });

  it('with --fence, copies one at a time: of two started together, one fills the store and opens it, the other finds the fence gone and ends', () => {
    const { stdout, stderr, status } = inNamespace(`
dir=$(mktemp -d); trap 'rm -rf "$dir"; kill $pids 2>/dev/null || true' EXIT
${fenced}
ask 127.0.0.2 'set k1 0 0 1\\r\\na\\r\\n' >/dev/null
perl "$SEED" --fence lvsprov_test --open "$dir/open.nft" 127.0.0.3 21211 20 127.0.0.2 > "$dir/one" & one=$!
perl "$SEED" --fence lvsprov_test --open "$dir/open.nft" 127.0.0.3 21211 20 127.0.0.2 > "$dir/two" & two=$!
wait $one; wait $two
cat "$dir/one" "$dir/two" | sort
nft list chain inet lvsprov_test input | grep -c 'saddr 127.0.0.1' || true
`);
    expect(status, stderr).toBe(0);
    const [copied, ended, fenceRules] = stdout.trim().split('\n');
    // The peer's item was written in the second the copy began: pass 2 may set it again.
    expect(copied).toMatch(/^memcached-seed: 1 added from 127\.0\.0\.2, [01] written there meanwhile set again, 0 once open$/);
    expect(ended).toBe('memcached-seed: the fence is down: another copy filled this store and opened it');
    expect(fenceRules).toBe('0');
  });

  // PHP writes on the peers until the store opens: a write after pass 2 read the session, and before
  // the fence came down, reached the peers alone. Here nft, when asked to delete the fence's reject
  // rule, first writes such a session (a wrapper bound over /usr/sbin/nft in a mount namespace):
  // the store must hold the peer's newer value once the copier is done, and the allowlist be loaded.
  it('with --fence and --open, catches up once PHP is let in with what the peers got before the opening', () => {
    const { stdout, stderr, status } = inNamespace(`
dir=$(mktemp -d); trap 'rm -rf "$dir"; kill $pids 2>/dev/null || true' EXIT
${fenced}
cp /usr/sbin/nft "$dir/nft.real"
cat > "$dir/nft" <<WRAPPER
#!/bin/sh
if [ "\\$1" = delete ]; then printf 'set session 0 0 5\\\\r\\\\nlater\\\\r\\\\nquit\\\\r\\\\n' | busybox nc 127.0.0.2 21211 >/dev/null; fi
exec "$dir/nft.real" "\\$@"
WRAPPER
chmod +x "$dir/nft"
ask 127.0.0.2 'set session 0 0 7\\r\\nearlier\\r\\nset other 0 0 1\\r\\no\\r\\n' >/dev/null
unshare -m sh -c 'mount --bind "$1/nft" /usr/sbin/nft && exec perl "$SEED" --fence lvsprov_test --open "$1/open.nft" 127.0.0.3 21211 20 127.0.0.2' sh "$dir"
ask 127.0.0.3 'mg session v\\r\\nmg other v\\r\\n'
nft list chain inet lvsprov_test input | grep -c 'dport 21211' || true
`);
    expect(status, stderr).toBe(0);
    const lines = stdout.trim().split('\n').map((line) => line.replace(/\r$/, ''));
    expect(lines[0]).toMatch(/^memcached-seed: 2 added from 127\.0\.0\.2, [0-2] written there meanwhile set again, 1 once open$/);
    expect(lines.slice(1)).toEqual(['VA 5', 'later', 'VA 1', 'o', '0']);
  });

  it('refuses arguments it cannot use', () => {
    for (const args of [[], ['127.0.0.3', '21211', '20'], ['127.0.0.3', '21211', '20', '127.0.0.2', 'extra'], ['localhost', '21211', '20', '-'], ['127.0.0.3', '0', '20', '-'], ['127.0.0.3', '21211', '20', '127.0.0.2;reboot'], ['--open', 'relative.nft', '127.0.0.3', '21211', '20', '-'], ['--later', '127.0.0.3', '21211', '20', '-'], ['--fence', 'Bad;Table', '127.0.0.3', '21211', '20', '-']]) {
      const result = spawnSync('perl', [seeder, ...args], { encoding: 'utf8', timeout: 10_000 });
      expect(result.status, args.join(' ')).not.toBe(0);
      expect(result.stderr, args.join(' ')).toMatch(/^memcached-seed: bad arguments|^usage: memcached-seed/);
    }
  });
});
