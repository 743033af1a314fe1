import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { assertSafePath } from '../../src/lab/qemu/cache-dir.js';
import { needsInterpreter } from '../../src/lab/qemu/elf.js';
import { guestInit } from '../../src/lab/qemu/guest-init.js';
import { schedulers } from '../../src/resources/ipvs/schedulers.js';
import { initramfsInit } from '../../src/lab/qemu/initramfs-init.js';
import { parseImageDependency, pickRelease } from '../../src/lab/qemu/kernel-package.js';
import { initramfsModules } from '../../src/lab/qemu/markers.js';
import { parseModulesBuiltin, parseModulesDep, resolveLoadOrder } from '../../src/lab/qemu/modules-dep.js';
import { labNicMac, qemuArgs } from '../../src/lab/qemu/qemu-args.js';

// The pure parts of the qemu lab: what is parsed from apt and the kernel, and what is generated
// for qemu and for the guest's shells. The guest itself is tested in test/integration.

describe('kernel package resolution', () => {
  // Recorded from `apt-cache depends linux-image-amd64` on Debian 12.
  const recorded = 'linux-image-amd64\n  Depends: linux-image-6.1.0-56-amd64\n';

  it('takes the exact image package the metapackage depends on', () => {
    expect(parseImageDependency(recorded)).toBe('linux-image-6.1.0-56-amd64');
  });

  it('ignores dependencies that are not kernel images and anything shell-like', () => {
    expect(parseImageDependency('linux-image-amd64\n  Depends: firmware-linux-free\n')).toBeUndefined();
    expect(parseImageDependency('  Depends: linux-image-6.1;rm -rf /\n')).toBeUndefined();
    expect(parseImageDependency('')).toBeUndefined();
  });

  it('finds the one release an image ships modules for', () => {
    expect(pickRelease(['6.1.0-56-amd64'])).toBe('6.1.0-56-amd64');
    expect(() => pickRelease(['6.1.0-56-amd64', '6.1.0-55-amd64'])).toThrow(/one kernel release/);
    expect(() => pickRelease([])).toThrow(/none/);
  });
});

describe('initramfs module order', () => {
  // The dependency lines of Debian 6.1's modules.dep for the modules the initramfs loads.
  const modulesDep = [
    'kernel/drivers/virtio/virtio_ring.ko:',
    'kernel/drivers/virtio/virtio.ko: kernel/drivers/virtio/virtio_ring.ko',
    'kernel/drivers/virtio/virtio_pci_legacy_dev.ko:',
    'kernel/drivers/virtio/virtio_pci_modern_dev.ko:',
    'kernel/drivers/virtio/virtio_pci.ko: kernel/drivers/virtio/virtio_pci_legacy_dev.ko kernel/drivers/virtio/virtio_pci_modern_dev.ko kernel/drivers/virtio/virtio_ring.ko kernel/drivers/virtio/virtio.ko',
    'kernel/net/9p/9pnet.ko:',
    'kernel/net/9p/9pnet_virtio.ko: kernel/net/9p/9pnet.ko kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko',
    'kernel/fs/netfs/netfs.ko:',
    'kernel/fs/fscache/fscache.ko: kernel/fs/netfs/netfs.ko',
    'kernel/fs/9p/9p.ko: kernel/net/9p/9pnet.ko kernel/fs/fscache/fscache.ko kernel/fs/netfs/netfs.ko',
    'kernel/fs/overlayfs/overlay.ko:',
    '',
  ].join('\n');

  it('accepts the lab-facts order and gives each module its file', () => {
    const order = resolveLoadOrder(initramfsModules, parseModulesDep(modulesDep), new Set());
    expect(order.map((module) => module.name)).toEqual([...initramfsModules]);
    expect(order[9]).toEqual({ name: '9p', path: 'kernel/fs/9p/9p.ko' });
  });

  it('refuses an order that loads a module before its dependency', () => {
    expect(() => resolveLoadOrder(['9p', '9pnet'], parseModulesDep(modulesDep), new Set())).toThrow(/9p needs 9pnet/);
  });

  it('skips built-in modules and counts them as loaded', () => {
    const builtin = parseModulesBuiltin('kernel/drivers/virtio/virtio_ring.ko\nkernel/drivers/virtio/virtio.ko\n');
    const order = resolveLoadOrder(['virtio_ring', 'virtio', '9pnet', '9pnet_virtio'], parseModulesDep(modulesDep), builtin);
    expect(order.map((module) => module.name)).toEqual(['9pnet', '9pnet_virtio']);
  });

  it('names a module the kernel lacks', () => {
    expect(() => resolveLoadOrder(['ip_vs'], parseModulesDep(modulesDep), new Set())).toThrow(/ip_vs is neither/);
  });
});

describe('generated scripts', () => {
  // Parse-only checks with the shells that run them: busybox sh in the initramfs, dash in the guest.
  function syntaxErrors(shell: string[], script: string): string {
    const result = spawnSync(shell[0] as string, [...shell.slice(1), '-n'], { input: script, encoding: 'utf8' });
    if (result.error) throw result.error;
    return result.status === 0 ? '' : result.stderr;
  }

  it('initramfs init parses under busybox sh', () => {
    expect(syntaxErrors(['busybox', 'sh'], initramfsInit(initramfsModules.map((name) => `${name}.ko`)))).toBe('');
  });

  it('guest init parses under /bin/sh and quotes its values', () => {
    const script = guestInit({ address: '198.18.0.15', qemuHost: '198.18.0.2', sshdConfig: "/tmp/x y/sshd'config", hostname: 'g' });
    expect(syntaxErrors(['/bin/sh'], script)).toBe('');
    expect(script).toContain(`-f '/tmp/x y/sshd'\\''config'`);
  });

  it('guest init loads every scheduler an inventory may name: the lab hosts cannot load modules themselves', () => {
    const script = guestInit({ address: '198.18.0.15', qemuHost: '198.18.0.2', sshdConfig: '/tmp/sshd_config', hostname: 'g' });
    const loaded = (/^modprobe -a (.*) \|\|/m.exec(script)?.[1] ?? '').split(' ');
    expect(schedulers.map((name) => `ip_vs_${name}`).filter((module) => !loaded.includes(module))).toEqual([]);
  });
});

describe('qemu command line', () => {
  const options = {
    vmlinuz: '/c/vmlinuz',
    initramfs: '/c/initrd',
    guestInit: '/tmp/w/guest-init',
    modulesDir: '/c/lib/modules/6.1.0-56-amd64',
    sshPort: 40000,
    memoryMb: 2048,
    cpus: 2,
    consoleLog: '/tmp/w/console.log',
  };
  const args = qemuArgs(options);
  const joined = args.join(' ');

  it('keeps the user network in 198.18.0.0/24, restricted, forwarding only loopback to sshd', () => {
    expect(joined).toContain('net=198.18.0.0/24');
    expect(joined).toContain('restrict=on');
    expect(joined).toContain('hostfwd=tcp:127.0.0.1:40000-198.18.0.15:22');
    expect(joined).not.toMatch(/10\.0\.2\./);
  });

  it('writes the console to a file, so qemu needs no pipe to the process that started it', () => {
    expect(args[args.indexOf('-serial') + 1]).toBe('file:/tmp/w/console.log');
    expect(args).not.toContain('-nographic');
  });

  it('adds the lab uplink NIC, with its own forwarded port and a fixed MAC, only when asked', () => {
    expect(joined).not.toContain('labnet');
    const withLab = qemuArgs({ ...options, labPort: 40001 }).join(' ');
    expect(withLab).toContain('hostfwd=tcp:127.0.0.1:40001-198.18.0.15:22');
    expect(withLab).toContain(`netdev=labnet,mac=${labNicMac},romfile=`);
    expect(withLab).toContain('hostfwd=tcp:127.0.0.1:40000-198.18.0.15:22');
  });

  it('shares / read-only and passes the guest init on the kernel command line', () => {
    expect(joined).toMatch(/-virtfs local,path=\/,mount_tag=hostroot,.*readonly=on/);
    expect(args[args.indexOf('-append') + 1]).toContain('lvsprov_init=/tmp/w/guest-init');
  });
});

describe('paths handed to the guest', () => {
  it('accepts plain absolute paths and refuses anything a shell or the kernel would split', () => {
    expect(assertSafePath('/root/.cache/lvsprov/x', 'p')).toBe('/root/.cache/lvsprov/x');
    for (const bad of ['relative', '/a b', '/a;b', '/a/../b', "/a'b", '/a\nb']) expect(() => assertSafePath(bad, 'p')).toThrow();
  });
});

describe('static busybox check', () => {
  it('sees that node is dynamically linked', () => {
    expect(needsInterpreter(readFileSync(process.execPath))).toBe(true);
  });

  it('refuses a file that is not ELF', () => {
    expect(() => needsInterpreter(Buffer.from('#!/bin/sh\necho hi\n'))).toThrow(/not a 64-bit/);
  });
});
