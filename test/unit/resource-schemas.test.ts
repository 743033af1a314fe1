import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { addressSchema } from '../../src/resources/address.js';
import { allowlistSchema } from '../../src/resources/allowlist.js';
import { atBootSchema, unitPath as systemdUnitPath } from '../../src/resources/at-boot.js';
import { fileSchema } from '../../src/resources/file.js';
import { kmodSchema } from '../../src/resources/kmod.js';
import { linkSchema } from '../../src/resources/link.js';
import { routeSchema } from '../../src/resources/route.js';
import { sourceRouteSchema } from '../../src/resources/source-route.js';
import { strayAddressSchema } from '../../src/resources/stray-address.js';
import { serviceSchema } from '../../src/resources/service.js';
import { sysctlSchema } from '../../src/resources/sysctl.js';

// Schemas are the first line of defence: a value that passes one must be harmless in a shell even
// before quoting. Each table starts from a valid spec, proves it passes, then changes one field
// to a hostile or wrong value and expects a refusal that names that field.

interface Table {
  readonly schema: z.ZodType;
  readonly valid: Record<string, unknown>;
  /** More specs that must pass, to show the schema is not simply strict about everything. */
  readonly alsoValid: ReadonlyArray<Record<string, unknown>>;
  /** [field the error must name, overrides merged into `valid`] */
  readonly hostile: ReadonlyArray<readonly [string, Record<string, unknown>]>;
}

const tables: Record<string, Table> = {
  sysctl: {
    schema: sysctlSchema,
    valid: { file: '/etc/sysctl.d/90-lvsprov-director.conf', values: { 'net.ipv4.ip_forward': 1 } },
    // One key whose name a template made: an interface with a dot is written with a slash, as sysctl(8) reads it.
    alsoValid: [{ name: 'net.ipv4.conf.eth0/100.send_redirects', value: 0 }, { file: '/etc/sysctl.d/90-x.conf', name: 'net.ipv4.conf.eth1.send_redirects', value: '0', persist: false }],
    hostile: [
      // Both forms at once, or half of the one-key form: which value is meant is not clear.
      ['name', { name: 'net.ipv4.conf.eth0.send_redirects', value: 0 }],
      ['name', { values: undefined, value: 0 }],
      ['value', { values: undefined, name: 'net.ipv4.conf.eth0.send_redirects' }],
      ['values', { values: undefined }],
      // A name and a value go into /proc/sys paths, a file under /etc/sysctl.d and a command line.
      ['name', { values: undefined, name: 'net.ipv4.conf.eth0/../../../../etc/passwd', value: 0 }],
      ['name', { values: undefined, name: 'net.ipv4.conf.$(reboot).send_redirects', value: 0 }],
      ['value', { values: undefined, name: 'net.ipv4.ip_forward', value: '1; reboot' }],
      ['values', { values: { 'net.ipv4.ip_forward; reboot': 1 } }],
    ],
  },
  allowlist: {
    schema: allowlistSchema,
    valid: { port: 11211, sources: ['192.0.2.11', '192.0.2.12'], table: 'lvsprov_memcached', save_file: '/etc/lvsprov/memcached-allow.nft' },
    alsoValid: [{ port: 1, sources: ['192.0.2.11', '192.0.2.11'] }],
    hostile: [
      // The table name and the addresses are written into an nft script and a command line.
      ['table', { table: 'x; flush ruleset' }],
      ['table', { table: 'Memcached' }],
      ['table', { table: '' }],
      ['sources', { sources: ['192.0.2.0/24'] }],
      ['sources', { sources: ['192.0.2.11 } accept; {'] }],
      ['sources', { sources: ['cache1.example.net'] }],
      ['sources', { sources: [] }],
      ['port', { port: 0 }],
      ['port', { port: '11211; flush ruleset' }],
      ['save_file', { save_file: 'etc/allow.nft' }],
    ],
  },
  service: {
    schema: serviceSchema,
    valid: { name: 'memcached', package: 'memcached', restart_on: ['/etc/memcached.conf'] },
    alsoValid: [{ name: 'lvsprov-web', exec: ['/bin/busybox', 'httpd', '-f', '-p', 80], pool: 'none' }, { name: `m${'x'.repeat(234)}` }, { name: 'getty@tty1' }],
    hostile: [
      ['name', { name: '-memcached' }],
      ['name', { name: 'memcached; reboot' }],
      // A template: systemctl starts and enables only its instances (getty@tty1).
      ['name', { name: 'getty@' }],
      ['name', { name: '@tty1' }],
      // systemd refuses a unit name over 255 characters, suffix included; lvsprov writes the unit
      // through NAME.service.lvsprov-tmp, which must fit Linux's 255 too.
      ['name', { name: `m${'x'.repeat(247)}` }],
      ['name', { name: `m${'x'.repeat(235)}` }],
      ['restart_on', { restart_on: ['etc/memcached.conf'] }],
      ['restart_on', { restart_on: [] }],
      ['package', { package: 'memcached; reboot' }],
      ['package', { package: '-y' }],
      ['exec', { exec: ['/bin/busybox', 'two\nlines'] }],
    ],
  },
  at_boot: {
    schema: atBootSchema,
    valid: { name: 'lvsprov-arptables', description: 'ARP suppression', command: ['/usr/sbin/arptables-restore'], input: '/etc/arptables.rules' },
    alsoValid: [
      { name: 'lvsprov-fwmark', description: 'marks (nft)', command: ['/usr/sbin/nft', '-f', '-'], input: '/etc/lvsprov/fwmark.nft' },
      { name: 'lvsprov-x', description: 'x', command: ['/bin/true', 42] },
    ],
    hostile: [
      // Written into a unit file and a shell script: nothing there may be read as more than a word.
      ['command', { command: ['/usr/sbin/nft', '-f /etc/x'] }],
      ['command', { command: ['/usr/sbin/nft', '$(reboot)'] }],
      ['command', { command: ['/usr/sbin/nft', '%h'] }],
      ['command', { command: ['/usr/sbin/nft', 'a;b'] }],
      ['command', { command: ['nft'] }],
      ['command', { command: ['/usr/sbin/../bin/sh'] }],
      ['command', { command: ['/usr/sbin/my tool'] }],
      ['input', { input: '/etc/a rules' }],
      ['input', { input: 'etc/arptables.rules' }],
      ['name', { name: `lvsprov-${'x'.repeat(240)}` }],
      // A systemd template (or an instance of one): the unit could not be enabled as written.
      ['name', { name: 'lvsprov-x@' }],
      ['name', { name: 'lvsprov-x@eth0' }],
      // A hook is a service: another unit type, or .service twice, would be part of its name.
      ['name', { name: 'lvsprov-x.timer' }],
      ['name', { name: 'lvsprov-x.socket' }],
      ['name', { name: 'lvsprov-x.service.service' }],
      ['description', { description: 'two\nlines' }],
      // systemd ends a unit line at CR too: this one would add an ExecStartPre= to [Service].
      ['description', { description: 'x\r[Service]\rExecStartPre=/usr/bin/touch /tmp/x' }],
      ['description', { description: 'x\u2028y' }],
      ['description', { description: 'x\u0085y' }],
      ['description', { description: 'tab\there' }],
      ['description', { description: 'nul\u0000' }],
      ['description', { description: 'costs $HOME' }],
      ['description', { description: '100%' }],
      ['name', { name: 'ipvsadm' }],
      ['name', { name: 'lvsprov-a b' }],
      ['', { when: 'boot' }],
    ],
  },
  address: {
    schema: addressSchema,
    valid: { address: '198.51.100.50', prefix: 32, device: 'lo', label: 'lo:0' },
    alsoValid: [
      { address: '198.51.100.50', device: 'eth0', label: 'eth0:1' },
      { address: '198.51.100.50', device: 'tunl0' },
      { address: '192.0.2.10', prefix: 24, device: 'eth0', label: 'eth0', state: 'absent' },
    ],
    hostile: [
      ['device', { device: 'lo; rm -rf /' }],
      ['device', { device: '$(reboot)' }],
      ['device', { device: 'eth0 up' }],
      ['device', { device: '' }],
      ['device', { device: 'a-very-long-name' }],
      ['device', { device: '..' }],
      // The sysctl trees of every interface: the kernel refuses a device so named.
      ['device', { device: 'all' }],
      ['device', { device: 'default' }],
      ['address', { address: '1.2.3.4 dev lo' }],
      ['address', { address: '198.51.100.50/32' }],
      ['address', { address: '198.51.100.256' }],
      ['address', { address: '2001:db8::1' }],
      ['label', { label: 'lo:0 x' }],
      ['label', { label: 'lo:0;reboot' }],
      ['label', { label: 'eth0:1' }],
      ['label', { label: 'lox' }],
      ['label', { device: 'eth0', label: 'eth0:abcdefghijk' }],
      ['prefix', { prefix: 33 }],
      ['prefix', { prefix: 0 }],
      ['prefix', { prefix: 24.5 }],
      ['prefix', { prefix: '32' }],
      ['state', { state: 'gone' }],
      ['', { dev: 'lo' }],
    ],
  },
  stray_address: {
    schema: strayAddressSchema,
    valid: { address: '198.51.100.50', keep_on: ['lo'] },
    alsoValid: [{ address: '198.51.100.50', keep_on: ['lo', 'tunl0', 'eth0'] }],
    hostile: [
      ['address', { address: '198.51.100.50 dev eth0' }],
      ['address', { address: '198.51.100.50/24' }],
      ['keep_on', { keep_on: [] }],
      ['keep_on', { keep_on: 'lo' }],
      ['keep_on', { keep_on: ['lo; ip addr flush dev eth0'] }],
      ['keep_on', { keep_on: ['$(reboot)'] }],
      ['', { device: 'eth0' }],
    ],
  },
  link: {
    schema: linkSchema,
    valid: { device: 'tunl0', state: 'up', mtu: 1480 },
    alsoValid: [{ device: 'lo', mtu: 65536 }, { device: 'eth1', state: 'down' }],
    hostile: [
      ['device', { device: 'eth0`id`' }],
      ['device', { device: 'tunl0 mtu 1' }],
      ['device', { device: 'eth0\n' }],
      ['mtu', { mtu: 67 }],
      ['mtu', { mtu: 70000 }],
      ['mtu', { mtu: '1500; reboot' }],
      ['mtu', { mtu: 1480.5 }],
      ['state', { state: 'UP' }],
      ['', { promisc: true }],
    ],
  },
  source_route: {
    schema: sourceRouteSchema,
    valid: { source: '192.0.2.11', via: '192.0.2.10', table: 100, priority: 1000 },
    alsoValid: [{ source: '192.0.2.11', via: '192.0.2.10', table: 252, priority: 32000, state: 'absent' }],
    hostile: [
      // The addresses and numbers are written into `ip rule` and `ip route` command lines.
      ['source', { source: '192.0.2.11 lookup main' }],
      ['source', { source: '192.0.2.0/24' }],
      ['via', { via: '$(id)' }],
      // 253-255 are the kernel's default, main and local tables, which the rule must not send to.
      ['table', { table: 254 }],
      ['table', { table: 0 }],
      ['table', { table: '100; reboot' }],
      ['priority', { priority: 0 }],
      ['priority', { priority: 32766 }],
      ['state', { state: 'gone' }],
    ],
  },
  route: {
    schema: routeSchema,
    valid: { destination: '198.51.100.50/32', device: 'eth1' },
    alsoValid: [
      { destination: 'default', via: '192.0.2.1' },
      { destination: '0.0.0.0/0', via: '192.0.2.1', device: 'eth0' },
      { destination: '198.51.100.50/32', state: 'absent' },
    ],
    hostile: [
      ['destination', { destination: '198.51.100.50/32 dev lo' }],
      ['destination', { destination: '198.51.100.50' }],
      ['destination', { destination: '192.0.2.5/24' }],
      ['destination', { destination: 'default; reboot' }],
      ['destination', { destination: '198.51.100.0/33' }],
      ['via', { via: '192.0.2.1 dev eth0' }],
      ['via', { via: '$(id)' }],
      ['device', { device: 'eth1 ' }],
      ['device', { device: undefined, via: undefined }],
      ['state', { state: 'replaced' }],
      ['', { table: 'main' }],
    ],
  },
  kmod: {
    schema: kmodSchema,
    valid: { name: 'ip_vs' },
    alsoValid: [{ name: 'ip_vs_wrr', persist: false }, { name: 'nf-conntrack' }],
    hostile: [
      ['name', { name: 'ip_vs; reboot' }],
      ['name', { name: 'ip vs' }],
      ['name', { name: '../ip_vs' }],
      ['name', { name: 'ip_vs\n' }],
      ['name', { name: '' }],
      ['persist', { persist: 'yes' }],
      ['', { options: 'conn_tab_bits=12' }],
    ],
  },
  file: {
    schema: fileSchema,
    valid: { path: '/var/www/html/index.html', content: '<h1>rs1</h1>\n', mode: '0644' },
    alsoValid: [
      { path: '/var/www/html/index.html', content: '', mode: 644 },
      { path: '/etc/ipvsadm.rules', content: "-A -t 198.51.100.50:80 -s wrr\n$(not run) 'quoted'\n" },
      { path: '/var/www/html/old.html', state: 'absent' },
      { path: `/srv/${'a'.repeat(243)}`, content: '' },
    ],
    hostile: [
      ['path', { path: 'var/www/index.html' }],
      ['path', { path: '/etc/x\nrm -rf /' }],
      ['path', { path: '/var/www/../../etc/shadow' }],
      ['path', { path: '/tmp/a\0b' }],
      ['path', { path: '' }],
      ['path', { path: '/var/www/html/' }],
      ['path', { path: '/' }],
      ['path', { path: '/var/www/./index.html' }],
      // Written as NAME.lvsprov-tmp and renamed: a name of 244 to 255 bytes is fine to Linux, not to its temp name.
      ['path', { path: `/srv/${'a'.repeat(244)}` }],
      ['path', { path: `/srv/${'a'.repeat(256)}` }],
      ['mode', { mode: '999' }],
      ['mode', { mode: 'rwxr-xr-x' }],
      ['mode', { mode: '0644; reboot' }],
      ['mode', { mode: '64' }],
      ['content', { content: undefined }],
      ['content', { content: 42 }],
      ['state', { state: 'deleted' }],
      ['', { owner: 'root' }],
    ],
  },
};

describe('resource schemas', () => {
  for (const [name, table] of Object.entries(tables)) {
    describe(name, () => {
      it('accepts the valid specs', () => {
        for (const spec of [table.valid, ...table.alsoValid]) {
          const result = table.schema.safeParse(spec);
          expect(result.success, `${JSON.stringify(spec)}: ${result.error?.message}`).toBe(true);
        }
      });

      for (const [field, overrides] of table.hostile) {
        it(`refuses ${JSON.stringify(overrides)}`, () => {
          const result = table.schema.safeParse({ ...table.valid, ...overrides });
          expect(result.success).toBe(false);
          // The error must be about the field changed, not some other accident of the spec.
          const paths = result.error?.issues.map((issue) => String(issue.path[0] ?? '')) ?? [];
          expect(paths).toContain(field);
        });
      }
    });
  }

  it('normalises what the host reports back in another form', () => {
    expect(fileSchema.parse({ path: '/srv/a', content: '', mode: '0755' }).mode).toBe('755');
    // systemctl's users name a unit with its suffix; the hook's unit is lvsprov-x.service, once.
    const hook = atBootSchema.parse({ name: 'lvsprov-x.service', description: 'x', command: ['/bin/true'] });
    expect(hook.name).toBe('lvsprov-x');
    expect(systemdUnitPath(hook.name)).toBe('/etc/systemd/system/lvsprov-x.service');
    // A service named with its suffix is the same service: not /etc/init.d/nginx.service under sysvinit.
    expect(serviceSchema.parse({ name: 'nginx.service' }).name).toBe('nginx');
    expect(serviceSchema.parse({ name: 'getty@tty1.service' }).name).toBe('getty@tty1');
    expect(serviceSchema.safeParse({ name: 'getty@.service' }).success).toBe(false);
    expect(fileSchema.parse({ path: '/srv/a', content: '' }).mode).toBe('644');
    expect(routeSchema.parse({ destination: '0.0.0.0/0', via: '192.0.2.1' }).destination).toBe('default');
    expect(addressSchema.parse({ address: '198.51.100.50', device: 'lo' })).toEqual({ address: '198.51.100.50', prefix: 32, device: 'lo', state: 'present' });
    // The one-key form is the same task as a mapping of that one key.
    expect(sysctlSchema.parse({ file: '/etc/sysctl.d/90-x.conf', name: 'net.ipv4.conf.eth0/100.send_redirects', value: 0 })).toEqual(
      sysctlSchema.parse({ file: '/etc/sysctl.d/90-x.conf', values: { 'net.ipv4.conf.eth0/100.send_redirects': 0 } }),
    );
  });
});
