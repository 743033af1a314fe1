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
const FORMATS: OutputFormat[] = ['shell-env', 'systemd-unit', 'sysctl', 'ip-batch', 'ipvsadm-rules', 'html', 'text'];

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
