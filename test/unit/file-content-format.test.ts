import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compile } from '../../src/config/compile.js';
import { formatImplied } from '../../src/config/file-content-format.js';
import { loadInventory } from '../../src/config/inventory.js';

// A file task's content prints its values for what the file is (the task's format, or the one its
// path implies): escaped where the format can escape, refused where it cannot (bad-input fixtures).

const root = mkdtempSync(join(tmpdir(), 'lvsprov-file-format-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function contents(vars: string, tasks: string): string[] {
  writeFileSync(join(root, 'inventory.yaml'), `name: t\nvars: ${vars}\nhosts:\n  web1: { address: 192.0.2.21, groups: [web], vars: {} }\n`);
  writeFileSync(join(root, 'playbook.yaml'), `- hosts: web\n  tasks:\n${tasks}`);
  const run = compile(loadInventory(join(root, 'inventory.yaml')), join(root, 'playbook.yaml'));
  return (run.hosts.get('web1') ?? []).map((task) => (task.spec as { content: string }).content);
}

describe("a file task's content", () => {
  it('escapes a value for sh in a sourced file, HTML-escapes it with format html, and keeps content without values as written', () => {
    const written = contents(
      '{ opt: "a;b $(reboot) `id` \\"q\\"" }',
      [
        '    - { name: defaults, file: { path: /etc/default/site, content: "OPT=\\"{{opt}}\\"\\n" } }',
        '    - { name: page, file: { path: /var/www/html/index.html, format: html, content: "<p>{{opt}}</p>" } }',
        '    - { name: plain, file: { path: /etc/site.conf, content: "a=$(b)\\nc\\n" } }',
      ].join('\n') + '\n',
    );
    expect(written).toEqual(['OPT="a;b \\$(reboot) \\`id\\` \\"q\\""\n', '<p>a;b $(reboot) &#x60;id&#x60; &quot;q&quot;</p>', 'a=$(b)\nc\n']);
  });

  it('holds a whole file from one variable, lines and all, where the path is neither a unit nor sourced', () => {
    expect(contents('{ page: "line 1\\nline 2\\n" }', '    - { name: page, file: { path: /var/www/html/index.html, content: "{{page}}" } }\n')).toEqual(['line 1\nline 2\n']);
  });

  it("writes a plain word into an ifupdown file and refuses a value with shell syntax, which its up lines would run", () => {
    const task = '    - { name: uplink, file: { path: /etc/network/interfaces.d/uplink, content: "iface eth1 inet manual\\n  up ip route add 198.51.100.0/24 via {{gw}}\\n" } }\n';
    expect(contents('{ gw: 192.0.2.1 }', task)).toEqual(['iface eth1 inet manual\n  up ip route add 198.51.100.0/24 via 192.0.2.1\n']);
    for (const hostile of ['192.0.2.1; reboot', '$(reboot)', '`reboot`', '192.0.2.1 dev lo', "'x'"]) {
      expect(() => contents(`{ gw: ${JSON.stringify(hostile)} }`, task), hostile).toThrow(/must be one word .* in an ifupdown interfaces file/);
    }
  });

  it("refuses a declared format that would write a value unescaped into a file sh runs, a unit or another program's command lines, at the format", () => {
    for (const [path, format] of [['/etc/default/site', 'text'], ['/etc/default/site', 'sysctl'], ['/etc/cron.d/site', 'html'], ['/etc/systemd/system/site.service', 'text'], ['/etc/modprobe.d/site.conf', 'text'], ['/opt/site/run', 'text']] as const) {
      const task = `    - { name: f, file: { path: ${path}, format: ${format}, mode: "${path === '/opt/site/run' ? '0755' : '0644'}", content: "OPT={{opt}}\\n" } }\n`;
      expect(() => contents('{ opt: "1 reboot" }', task), `${path} ${format}`).toThrow(new RegExp(`format ${format} cannot write ${path}`));
    }
    // A format of words fits them all; text fits a file no program runs.
    expect(contents('{ opt: "1" }', '    - { name: f, file: { path: /etc/default/site, format: words, content: "OPT={{opt}}\\n" } }\n')).toEqual(['OPT=1\n']);
    expect(contents('{ opt: "a;b" }', '    - { name: f, file: { path: /etc/motd, format: text, content: "{{opt}}\\n" } }\n')).toEqual(['a;b\n']);
  });

  it('writes a plain word into a modprobe.d file and refuses a value that would add an install command', () => {
    const task = '    - { name: ipvs, file: { path: /etc/modprobe.d/lvsprov.conf, content: "options ip_vs conn_tab_bits={{bits}}\\n" } }\n';
    expect(contents('{ bits: 12 }', task)).toEqual(['options ip_vs conn_tab_bits=12\n']);
    for (const hostile of ['12\ninstall ip_vs /bin/sh -c reboot', '12 x', '$(reboot)', '12;reboot']) {
      expect(() => contents(`{ bits: ${JSON.stringify(hostile)} }`, task), hostile).toThrow(/contains the control character|must be one word .* in a file whose lines a program may hand to a shell/);
    }
  });

  it.each([
    ['/etc/systemd/system/site.service', 'systemd-unit'],
    ['/lib/systemd/system/site.socket.d/override.conf', 'systemd-unit'],
    ['/srv/units/site.timer', 'systemd-unit'],
    ['/etc/default/site', 'shell-env'],
    ['/etc/sysconfig/ipvsadm-config', 'shell-env'],
    ['/opt/site/start.sh', 'shell-env'],
    ['/var/www/html/index.html', 'text'],
    ['/etc/init.d/site', 'shell-env'],
    ['/etc/rc.local', 'shell-env'],
    ['/etc/cron.d/site', 'shell-env'],
    ['/etc/cron.daily/site', 'shell-env'],
    ['/etc/network/if-up.d/site', 'shell-env'],
    ['/usr/local/sbin/site-check', 'shell-env'],
    // cron runs each command of the system crontab and of a user's crontab with sh
    ['/etc/crontab', 'shell-env'],
    ['/var/spool/cron/crontabs/root', 'shell-env'],
    // login shells source these
    ['/etc/profile', 'shell-env'],
    ['/etc/bash.bashrc', 'shell-env'],
    ['/root/.bashrc', 'shell-env'],
    ['/root/.profile', 'shell-env'],
    ['/home/ops/.bash_profile', 'shell-env'],
    // dhclient-script sources its hooks
    ['/etc/dhcp/dhclient-exit-hooks.d/site', 'shell-env'],
    ['/etc/dhcp/dhclient-enter-hooks.d/site', 'shell-env'],
    // ifupdown hands up/down/pre-up/post-down lines to sh; its other lines are words
    ['/etc/network/interfaces', 'ifupdown'],
    ['/etc/network/interfaces.d/uplink', 'ifupdown'],
    // the same files elsewhere (RHEL, zsh, user units) and other files sh runs or sources
    ['/etc/bashrc', 'shell-env'],
    ['/etc/rc.d/rc.local', 'shell-env'],
    ['/etc/rc.d/init.d/site', 'shell-env'],
    ['/etc/bash_completion.d/site', 'shell-env'],
    ['/etc/zsh/zshenv', 'shell-env'],
    ['/etc/zshrc', 'shell-env'],
    ['/root/.zshrc', 'shell-env'],
    ['/etc/anacrontab', 'shell-env'],
    ['/etc/ppp/ip-up.d/site', 'shell-env'],
    ['/etc/ppp/ipv6-down', 'shell-env'],
    ['/etc/X11/Xsession.d/90site', 'shell-env'],
    ['/root/.config/systemd/user/site.service.d/override.conf', 'systemd-unit'],
    ['/etc/xdg/systemd/user/site.service.d/override.conf', 'systemd-unit'],
    // other programs' files whose lines may reach a shell by their own quoting: one word a value
    ['/etc/modprobe.d/lvsprov.conf', 'words'],
    ['/usr/lib/modprobe.d/site.conf', 'words'],
    ['/etc/logrotate.d/site', 'words'],
    ['/etc/logrotate.conf', 'words'],
    ['/etc/apt/apt.conf.d/99site', 'words'],
    ['/etc/udev/rules.d/99-site.rules', 'words'],
    ['/etc/sudoers.d/site', 'words'],
    ['/etc/csh.cshrc', 'words'],
    ['/root/.tcshrc', 'words'],
    ['/etc/modprobe.d.txt', 'text'],
    ['/etc/network/interfaces.bak', 'text'],
    ['/etc/crontab.txt', 'text'],
    ['/var/www/html/.profile.html', 'text'],
  ])('the path %s implies %s', (path, format) => {
    expect(formatImplied(path).format).toBe(format);
  });

  it.each([
    ['0755', 'shell-env'],
    [755, 'shell-env'],
    ['0744', 'shell-env'],
    ['0701', 'shell-env'],
    ['0644', 'text'],
    [600, 'text'],
    [undefined, 'text'],
  ])('a file of mode %s, whose path says nothing, is %s: a program runs what it holds', (mode, format) => {
    expect(formatImplied('/opt/site/start', mode).format).toBe(format);
  });
});
