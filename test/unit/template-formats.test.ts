import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { atBootSchema, initScript, systemdUnit } from '../../src/resources/at-boot.js';
import { renderTemplateFile, TemplateValueError } from '../../src/config/template-render.js';
import type { OutputFormat } from '../../src/config/output-formats.js';

// Proof, per generated format, that values the format accepts stay inert in the file a host
// reads - sourced by sh, parsed by systemd, fed to ip -batch - and that the values it cannot carry
// are refused. Each harness is first shown to catch the attack it looks for (on a file written
// without the format's writer), so that a passing test means something.

const root = join(import.meta.dirname, '../..');
const template = (role: string, file: string) => readFileSync(join(root, 'roles', role, 'templates', file), 'utf8');

/** Accepted by the shell-env writer (escaped), each an attack on a naive `KEY="{{x}}"`. */
const SHELL_HOSTILE = ['none"; touch pwned; "', '$(touch pwned)', '`touch pwned`', "'; touch pwned; '", 'a\\', '\\"; touch pwned; \\"', '{{x}}', 'a; touch pwned', '$HOME', '${PATH:-x}', '*', '~root', '#x', 'é ✓'];
/** Refused by every format: each ends a line or a directive somewhere. */
const LINE_BREAKERS = ['a\nAUTO="false"', 'x\r[Service]\rExecStartPre=/usr/bin/touch /tmp/x', 'a\u2028b', 'a\u2029b', 'a\u0085b', 'a\u0000b', 'a\u001bb', 'a\u007fb'];
const FORMATS: OutputFormat[] = ['shell-env', 'systemd-unit', 'sysctl', 'ip-batch', 'ipvsadm-rules', 'memcached-conf', 'ifupdown', 'php-ini', 'php', 'html', 'text'];

const scratch: string[] = [];
function scratchDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lvsprov-format-'));
  scratch.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of scratch.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Source `file` with sh in its own folder (HOME there, a plain PATH); the named variables, and what the folder holds after. */
function source(dir: string, file: string, names: string[]): { values: string[]; files: string[]; status: number | null } {
  const printed = names.map((name) => `"$${name}"`).join(' ');
  const run = spawnSync('sh', ['-c', `. ./${file}; printf '%s\\0' ${printed}`], { cwd: dir, env: { HOME: dir, PATH: '/usr/bin:/bin' }, encoding: 'utf8' });
  return { values: run.stdout.split('\0').slice(0, names.length), files: readdirSync(dir).sort(), status: run.status };
}

describe('shell-env: /etc/default/ipvsadm, sourced by sh as root', () => {
  const text = template('director', 'ipvsadm-default.hbs');

  it('the harness sees an injection: a value pasted without escaping runs its command', () => {
    const dir = scratchDir();
    writeFileSync(join(dir, 'ipvsadm'), text.replace('{{ipvsadm_sync_daemon}}', 'none"; touch pwned; "').replace('{{ipvsadm_sync_interface}}', 'eth0'));
    expect(source(dir, 'ipvsadm', ['DAEMON']).files).toContain('pwned');
  });

  it.each(SHELL_HOSTILE)('%j is written escaped: sourcing it runs nothing and reads the literal value', (value) => {
    const dir = scratchDir();
    writeFileSync(join(dir, 'ipvsadm'), renderTemplateFile(text, { ipvsadm_sync_daemon: value, ipvsadm_sync_interface: `${value}2` }, 'shell-env'));
    const result = source(dir, 'ipvsadm', ['AUTO', 'DAEMON', 'IFACE']);
    expect(result.status).toBe(0);
    expect(result.values).toEqual(['true', value, `${value}2`]);
    expect(result.files).toEqual(['ipvsadm']);
  });

  it.each(LINE_BREAKERS)('%j is refused, naming the expression, its line and the control character', (value) => {
    const render = () => renderTemplateFile(text, { ipvsadm_sync_daemon: value, ipvsadm_sync_interface: 'eth0' }, 'shell-env');
    expect(render).toThrow(TemplateValueError);
    expect(render).toThrow(/ipvsadm_sync_daemon contains the control character U\+00[0-9A-F]{2}|ipvsadm_sync_daemon contains the control character U\+20(28|29)/);
  });
});

/** The keys of a unit file as systemd reads it: lines end at LF or CR. */
function unitKeys(unit: string): string[] {
  return unit
    .split(/\r\n|\r|\n/)
    .filter((line) => /^[A-Za-z]+=/.test(line))
    .map((line) => line.slice(0, line.indexOf('=')));
}

function verify(dir: string, file: string): { status: number | null; stderr: string } {
  const run = spawnSync('systemd-analyze', ['verify', '--man=no', join(dir, file)], { encoding: 'utf8' });
  return { status: run.status, stderr: run.stderr };
}

describe('systemd-unit: the at_boot unit and role templates of format systemd-unit', () => {
  const spec = (description: string) => atBootSchema.parse({ name: 'lvsprov-proof', description, command: ['/bin/true', '-x'], input: '/etc/lvsprov/proof.ip', stage: 'network' });
  const expectedKeys = unitKeys(systemdUnit(spec('plain')));

  it('the harness sees an injection: a CR in Description adds an ExecStartPre= that systemd reads', () => {
    const naive = systemdUnit(spec('plain')).replace('lvsprov: plain', 'lvsprov: x\r[Service]\rExecStartPre=/usr/bin/touch /tmp/x');
    expect(unitKeys(naive)).toContain('ExecStartPre');
  });

  it('at_boot refuses every line breaker in description', () => {
    for (const value of LINE_BREAKERS) expect(atBootSchema.safeParse({ name: 'lvsprov-proof', description: value, command: ['/bin/true'] }).success, JSON.stringify(value)).toBe(false);
  });

  it('an accepted hostile description stays in Description=: systemd-analyze verify is silent and the keys are the plain unit\'s', () => {
    const description = "x'; {{y}} (a) & b | c < d > e * ? ~ # ! é ✓ ; [Service] ExecStartPre=/usr/bin/touch /tmp/x";
    const unit = systemdUnit(spec(description));
    const dir = scratchDir();
    writeFileSync(join(dir, 'lvsprov-proof.service'), unit);
    expect(verify(dir, 'lvsprov-proof.service')).toEqual({ status: 0, stderr: '' });
    expect(unitKeys(unit)).toEqual(expectedKeys);
  });

  it('the sysv init script with that description parses and its stop runs nothing', () => {
    const dir = scratchDir();
    writeFileSync(join(dir, 'lvsprov-proof'), initScript(spec("x'; (touch pwned) & b | c > pwned2 ; touch pwned3 {{y}} # é")));
    expect(spawnSync('sh', ['-n', 'lvsprov-proof'], { cwd: dir }).status).toBe(0);
    expect(spawnSync('sh', ['lvsprov-proof', 'stop'], { cwd: dir, env: { HOME: dir, PATH: '/usr/bin:/bin' } }).status).toBe(0);
    expect(readdirSync(dir)).toEqual(['lvsprov-proof']);
  });

  const unitTemplate = '[Unit]\nDescription=lvsprov proof {{name}}\n\n[Service]\nType=oneshot\nExecStart=/bin/true {{argument}}\n';

  it.each(['%h', '%n%%', 'a=b,c', '-x', 'user@host:/x+y'])('template value %j: percent signs doubled, one word, verify is silent', (value) => {
    const unit = renderTemplateFile(unitTemplate, { name: value, argument: value }, 'systemd-unit');
    const dir = scratchDir();
    writeFileSync(join(dir, 'lvsprov-proof.service'), unit);
    expect(verify(dir, 'lvsprov-proof.service')).toEqual({ status: 0, stderr: '' });
    expect(unit).toContain(`ExecStart=/bin/true ${value.replace(/%/g, '%%')}\n`);
    expect(unitKeys(unit)).toEqual(['Description', 'Type', 'ExecStart']);
  });

  it.each(['a b', 'a;b', '$x', '"a"', "'a'", 'a\\', '{{x}}', '', ...LINE_BREAKERS])('template value %j is refused', (value) => {
    expect(() => renderTemplateFile(unitTemplate, { name: 'x', argument: value }, 'systemd-unit')).toThrow(TemplateValueError);
  });
});

describe('ip-batch and ipvsadm-rules: one word per value, the line keeps its words', () => {
  // A role's own boot file of VIPs, as a template of format ip-batch would write it.
  const addresses = '# VIPs, fed to `ip -force -batch -` at boot\n{{#each director_vips}}\naddress replace {{address}}/32 dev {{device}} label {{label}}\n{{/each}}\n';
  const render = (device: string, label: string) => renderTemplateFile(addresses, { director_vips: [{ address: '198.51.100.50', device, label }] }, 'ip-batch');
  const commandLines = (text: string) => text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));

  it('accepted values stay single words in their places', () => {
    for (const device of ['lo', 'eth0.100', 'a=b', 'x@y', 'br-lan_1', '-force']) {
      expect(commandLines(render(device, `${device}:1`))).toEqual([`address replace 198.51.100.50/32 dev ${device} label ${device}:1`]);
    }
  });

  it('ip reads the file as written: ip -batch in a fresh anonymous network namespace adds exactly the VIP', () => {
    const dir = scratchDir();
    writeFileSync(join(dir, 'director.ip'), render('lo', 'lo:1'));
    const run = spawnSync('unshare', ['-n', 'sh', '-c', `ip -force -batch ${join(dir, 'director.ip')} && ip -o -4 addr show dev lo`], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^\d+: lo +inet 198\.51\.100\.50\/32 scope global lo:1\b/m);
  });

  it.each(['eth0 label evil', 'eth0#', '"eth0"', "'eth0'", 'eth0\\', 'a;b', '', '{{x}}', ...LINE_BREAKERS])('device %j is refused in ip-batch and ipvsadm-rules', (value) => {
    expect(() => render(value, 'lo:1')).toThrow(TemplateValueError);
    expect(() => renderTemplateFile('-A -t {{address}}:80 -s wrr\n', { address: value }, 'ipvsadm-rules')).toThrow(TemplateValueError);
  });
});

describe('memcached-conf, php-ini and php: the session store and the PHP that uses it', () => {
  const store = { address: '192.0.2.11', port: 11211, memory_mb: 64, max_connections: 1024, clients: ['192.0.2.11'] };
  /** Each option line of Debian's memcached.conf, as start-memcached and the systemd wrapper take them (comments and `logfile` dropped). */
  const options = (text: string) => text.split('\n').map((line) => line.replace(/#.*/, '').trim()).filter((line) => line.startsWith('-'));
  const conf = template('memcached', 'memcached.conf.hbs');

  it('memcached.conf: each setting is one option line of its own', () => {
    expect(options(renderTemplateFile(conf, { session_store_config: store }, 'memcached-conf'))).toEqual(['-u memcache', '-l 192.0.2.11', '-p 11211', '-U 0', '-m 64', '-c 1024', '-P /run/memcached/memcached.pid']);
  });

  // The wrappers join the lines into one command that a shell runs: each of these would add one.
  it.each(['192.0.2.11 -l 0.0.0.0', '192.0.2.11; touch pwned', '$(touch pwned)', '`id`', '0.0.0.0#', "'a'", '', ...LINE_BREAKERS])('memcached.conf value %j is refused', (value) => {
    expect(() => renderTemplateFile(conf, { session_store_config: { ...store, address: value } }, 'memcached-conf')).toThrow(TemplateValueError);
  });

  const ini = template('webpage', 'sessions.ini.hbs');
  /** What php-cgi reads from the ini file alone (no other ini file, no scan directory, so no memcached extension and none of its keys). */
  const phpReads = (text: string): string => {
    const dir = scratchDir();
    writeFileSync(join(dir, 'sessions.ini'), text);
    writeFileSync(join(dir, 'read.php'), '<?php echo ini_get("session.save_path"), "|", ini_get("cgi.force_redirect"), "|", ini_get("session.name");\n');
    const run = spawnSync('php-cgi', ['-q', '-c', join(dir, 'sessions.ini'), join(dir, 'read.php')], { cwd: dir, env: { PATH: '/usr/bin:/bin', PHP_INI_SCAN_DIR: '' }, encoding: 'utf8' });
    return run.stdout;
  };

  it('php-cgi reads the session settings as written', () => {
    expect(phpReads(renderTemplateFile(ini, { session_save_path: '192.0.2.11:11211,192.0.2.12:11211', session_replicas: 1 }, 'php-ini'))).toBe('192.0.2.11:11211,192.0.2.12:11211|0|PHPSESSID');
  });

  it('the harness sees an injection: a value pasted as is ends its string and sets another directive', () => {
    expect(phpReads(ini.replace('{{session_save_path}}', '192.0.2.11:11211"\nsession.name = "pwned').replace('{{session_replicas}}', '1'))).toBe('192.0.2.11:11211|0|pwned');
  });

  it.each(['192.0.2.11:11211"', 'a b', '${PATH}', 'a;b', 'a\\', '{x}', 'a|b', '', ...LINE_BREAKERS])('php-ini value %j is refused', (value) => {
    expect(() => renderTemplateFile(ini, { session_save_path: value, session_replicas: 1 }, 'php-ini')).toThrow(TemplateValueError);
  });

  const page = template('webpage', 'session.php.hbs');

  it('the session page is PHP that php-cgi parses, the host name in its string', () => {
    const dir = scratchDir();
    writeFileSync(join(dir, 'session.php'), renderTemplateFile(page, { inventory_hostname: 'rs-1.example' }, 'php'));
    const lint = spawnSync('php-cgi', ['-q', '-l', join(dir, 'session.php')], { encoding: 'utf8' });
    expect(lint.stdout).toContain('No syntax errors');
    expect(readFileSync(join(dir, 'session.php'), 'utf8')).toContain("'rs-1.example'");
  });

  it.each(["rs1'); system('id'); ('", 'rs1\\', 'a b', '', ...LINE_BREAKERS])('php value %j is refused', (value) => {
    expect(() => renderTemplateFile(page, { inventory_hostname: value }, 'php')).toThrow(TemplateValueError);
  });
});

describe('sysctl, html, text', () => {
  const sysctl = '{{key}} = {{value}}\n';

  it('sysctl: an accepted value stays the value of its one key', () => {
    const text = renderTemplateFile(sysctl, { key: 'net.ipv4.conf.eth0/100.rp_filter', value: '4096 87380 6291456' }, 'sysctl');
    expect(text.split('\n').filter(Boolean).map((line) => line.split(' = '))).toEqual([['net.ipv4.conf.eth0/100.rp_filter', '4096 87380 6291456']]);
  });

  it.each(['1\nkernel.sysrq = 1', '1 # c', '1; c', 'a=b', '$x', ...LINE_BREAKERS])('sysctl value %j is refused', (value) => {
    expect(() => renderTemplateFile(sysctl, { key: 'net.core.somaxconn', value }, 'sysctl')).toThrow(TemplateValueError);
  });

  it('html: a value is text, never markup, through {{x}} and {{{x}}} alike', () => {
    const hostile = `<script>alert(1)</script>&"'\`=`;
    const page = renderTemplateFile(template('webpage', 'index.html.hbs'), { inventory_hostname: hostile, host_address: hostile }, 'html');
    expect(page).not.toContain('<script');
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;&amp;&quot;&#x27;&#x60;&#x3D;');
    expect(renderTemplateFile('<b>{{{x}}}</b>', { x: '<i>' }, 'html')).toBe('<b>&lt;i&gt;</b>');
  });

  it.each(FORMATS)('%s refuses lists and objects: a template prints scalars only', (format) => {
    expect(() => renderTemplateFile('x={{x}}', { x: ['a', 'b'] }, format)).toThrow(/is a list/);
  });

  it.each(FORMATS)('%s refuses every line breaker', (format) => {
    for (const value of LINE_BREAKERS) expect(() => renderTemplateFile('X="{{x}}"\n', { x: value }, format), JSON.stringify(value)).toThrow(TemplateValueError);
  });
});
