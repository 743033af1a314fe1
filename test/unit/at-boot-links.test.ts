import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { atBoot, initScript } from '../../src/resources/at-boot.js';

// The boot hook's sysvinit links, judged and repaired by the probe and the commands lvsprov runs,
// against Debian's own update-rc.d: in a private mount namespace whose /etc/init.d and runlevel
// directories are fresh tmpfs mounts, so the machine's own links are never seen or touched.

const spec = atBoot.schema.parse({ name: 'lvsprov-linktest', description: 'link test', command: ['/bin/true'], stage: 'network' });
const available = spawnSync('sh', ['-c', 'command -v update-rc.d && command -v unshare && [ "$(id -u)" = 0 ]']).status === 0;
const dirs = ['init.d', ...['0', '1', '2', '3', '4', '5', '6', 'S'].map((level) => `rc${level}.d`)].map((dir) => `/etc/${dir}`);

/** Runs `script` with the hook's init script in place and no link but `links` (paths under /etc); returns its stdout and the links left. */
function withLinks(links: readonly string[], script: string): { stdout: string; links: string[] } {
  const setup = [
    'set -e',
    ...dirs.map((dir) => `mount -t tmpfs tmpfs ${dir}`),
    `cat > /etc/init.d/${spec.name} <<'LVSPROV_EOF'\n${initScript(spec)}LVSPROV_EOF`,
    `chmod 755 /etc/init.d/${spec.name}`,
    ...links.map((link) => `ln -s ../init.d/${spec.name} ${link}`),
    'set +e',
    script,
    "printf 'LINKS\\n'; ls -d /etc/rc?.d/* 2>/dev/null; true",
  ].join('\n');
  const result = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-s'], { input: setup, encoding: 'utf8' });
  expect(result.status, result.stderr).toBe(0);
  const [stdout = '', listed = ''] = result.stdout.split('LINKS\n');
  return { stdout, links: listed.trim().split('\n').filter((line) => line !== '') };
}

const everyLevel = ['2', '3', '4', '5'].map((level) => `/etc/rc${level}.d/S01${spec.name}`);
const enabled = (stdout: string): boolean => atBoot.parse({ stdout: `D sysv\n${stdout}T update-rc.d\nF-\n`, status: 0 }, spec).enabled;
// The probe's sysvinit branch: the line that reads the links.
const linkProbe = atBoot.probe(spec).split('\n').find((line) => line.includes('/etc/rc')) ?? '';

describe.skipIf(!available)('at_boot under sysvinit, with the real update-rc.d', () => {
  it('update-rc.d defaults makes S01 in each Default-Start runlevel (2 3 4 5), and the probe calls that enabled', () => {
    const made = withLinks([], `update-rc.d ${spec.name} defaults >/dev/null 2>&1; ${linkProbe}`);
    expect(made.links).toEqual(everyLevel);
    expect(enabled(made.stdout)).toBe(true);
  });

  it.each([
    ['a start link in rc3.d only', [`/etc/rc3.d/S01${spec.name}`]],
    ['a K link only', [`/etc/rc2.d/K01${spec.name}`]],
    ['K links everywhere (update-rc.d disable)', ['2', '3', '4', '5'].map((level) => `/etc/rc${level}.d/K01${spec.name}`)],
    ['three of the four start links', ['2', '3', '4'].map((level) => `/etc/rc${level}.d/S01${spec.name}`)],
  ])('%s is not enabled, and the planned commands make exactly the links defaults makes', (_, links) => {
    const read = withLinks(links, linkProbe);
    expect(enabled(read.stdout)).toBe(false);

    const [, enable] = atBoot.plan(spec, atBoot.parse({ stdout: `D sysv\n${read.stdout}T update-rc.d\nF-\n`, status: 0 }, spec), { host: 'rs1' });
    expect(enable?.summary).toBe(`run ${spec.name} at boot`);
    const repaired = withLinks(links, `${(enable?.commands ?? []).map((command) => `${command} >/dev/null 2>&1`).join('\n')}\n${linkProbe}`);
    expect(repaired.links).toEqual(everyLevel);
    expect(enabled(repaired.stdout)).toBe(true);
  });
});
