import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The package as a user gets it: `npm pack` (which builds dist/ through the prepare script), the
// tarball installed into a temporary prefix (dependencies from the npm cache `npm ci` filled; only
// their metadata comes from the registry), and the installed `lvsprov` run from another directory.

const root = join(import.meta.dirname, '../..');
const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;

describe('npm pack, npm install -g the tarball, run the installed lvsprov', () => {
  let dir: string;
  let files: string[] = [];
  let lvsprov: string;
  let installed: string;
  let elsewhere: string;

  const run = (args: string[], cwd = elsewhere) => spawnSync(lvsprov, args, { cwd, encoding: 'utf8', env: { ...process.env, SSH_AUTH_SOCK: '' }, timeout: 60_000 });

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lvsprov-pack-'));
    const pack = spawnSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: root, encoding: 'utf8', timeout: 400_000 });
    expect(pack.status, pack.stderr).toBe(0);
    const [info] = JSON.parse(pack.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    files = info!.files.map((file) => file.path);
    const prefix = join(dir, 'prefix');
    const install = spawnSync('npm', ['install', '-g', '--prefer-offline', '--no-audit', '--no-fund', '--prefix', prefix, join(dir, info!.filename)], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 400_000,
    });
    expect(install.status, install.stderr).toBe(0);
    lvsprov = join(prefix, 'bin/lvsprov');
    installed = join(prefix, 'lib/node_modules/lvsprov');
    // Another directory, holding an unrelated project's playbooks/ folder that must not be used.
    elsewhere = join(dir, 'elsewhere');
    mkdirSync(join(elsewhere, 'playbooks'), { recursive: true });
    writeFileSync(join(elsewhere, 'playbooks/site.yaml'), stringify([{ hosts: 'all', tasks: [{ name: 'ansible', apt: { name: 'nginx' } }] }]));
  }, 900_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('ships what runs and nothing else', () => {
    for (const file of ['package.json', 'README.md', 'LICENSE', 'bin/lvsprov.cjs', 'dist/bundle/lvsprov.cjs', 'dist/bundle/loader.cjs', 'dist/cli/main.js', 'dist/transport/ssh-client.js', 'roles/director/tasks.yaml', 'playbooks/site.yaml', 'inventories/prod.yaml', 'schema/inventory.schema.json']) {
      expect(files, file).toContain(file);
    }
    expect(files.filter((file) => /^(src|test|bench|scripts|dist\/bench)\//.test(file) || file.endsWith('.map'))).toEqual([]);
  });

  it('runs --version, validate, schema and apply --check from another directory', () => {
    const versionRun = run(['--version']);
    expect(versionRun.stdout.trim(), versionRun.stderr).toBe(version);

    const validate = run(['validate', join(installed, 'inventories/prod.yaml'), join(installed, 'inventories/dr-lab.yaml')]);
    expect(validate.status, validate.stderr).toBe(0);
    expect(validate.stdout).toMatch(/prod\.yaml: valid; 5 hosts, \d+ tasks\n.*dr-lab\.yaml: valid; 4 hosts, \d+ tasks/);

    expect(run(['schema']).stdout).toBe(readFileSync(join(installed, 'schema/inventory.schema.json'), 'utf8'));

    // The shipped site playbook and roles compile for a director and a real server; nothing
    // listens on loopback port 1, so each host is unreachable (exit 3) once the CLI, the roles and
    // ssh2 all worked.
    const inventory = join(elsewhere, 'cluster.yaml');
    writeFileSync(
      inventory,
      stringify({
        ssh: { user: 'root', port: 1, agent: false, known_hosts: join(dir, 'known_hosts'), connect_timeout: 5 },
        hosts: { director: { address: '127.0.0.2', groups: ['directors'] }, rs1: { address: '127.0.0.3', groups: ['realservers'] } },
        lvs: { vips: { web: { address: '198.51.100.50' } }, services: [{ vip: 'web', port: 80, real_servers: [{ host: 'rs1', address: '198.51.100.20' }] }] },
      }),
    );
    const check = run(['apply', '-i', 'cluster.yaml', '--check', '--json']);
    expect(check.status, check.stderr).toBe(3);
    const json = JSON.parse(check.stdout) as { hosts: Array<{ host: string; status: string; error: { message: string } }> };
    expect(json.hosts.map((host) => [host.host, host.status])).toEqual([
      ['director', 'unreachable'],
      ['rs1', 'unreachable'],
    ]);
    expect(json.hosts[0]?.error.message).toMatch(/ECONNREFUSED 127\.0\.0\.2:1/);
    // Progress went to stderr, one line per host.
    expect(check.stderr).toMatch(/^director: unreachable: /m);
  });
});

// A checkout put on the PATH as scripts/setup.sh does it (the README's install), after its npm ci:
// quiet on npm 11, which warns of every install script allowScripts does not cover.
describe("setup.sh's install from a checkout", () => {
  const setup = readFileSync(join(root, 'scripts/setup.sh'), 'utf8');

  it('links the checkout into a global prefix without running or warning of its prepare script, and lvsprov runs', () => {
    const line = setup.split('\n').find((each) => /^npm install -g .* \.$/.test(each));
    expect(line).toBeDefined();
    const prefix = mkdtempSync(join(tmpdir(), 'lvsprov-link-'));
    try {
      const install = spawnSync('sh', ['-c', line!], { cwd: root, encoding: 'utf8', env: { ...process.env, npm_config_prefix: prefix }, timeout: 120_000 });
      expect(install.status, install.stderr).toBe(0);
      expect(install.stderr).not.toMatch(/npm warn|prepare/i);
      const shown = spawnSync(join(prefix, 'bin/lvsprov'), ['--version'], { encoding: 'utf8' });
      expect(shown.stdout.trim(), shown.stderr).toBe(version);
    } finally {
      rmSync(prefix, { recursive: true, force: true });
    }
  });

  it("allows, in package.json's allowScripts, every installed dependency whose install scripts npm 11 would warn of", () => {
    const allowed = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { allowScripts: Record<string, boolean> }).allowScripts;
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { hasInstallScript?: boolean }> };
    const scripted = Object.entries(lock.packages)
      .filter(([path, entry]) => path !== '' && entry.hasInstallScript === true)
      .map(([path]) => path.replace(/^.*node_modules\//, ''));
    expect(scripted.length).toBeGreaterThan(0);
    expect(scripted.filter((name) => allowed[name] !== true)).toEqual([]);
  });
});
