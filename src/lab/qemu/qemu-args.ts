import { hostRootTag, initParam, modulesParam } from './markers.js';

// qemu's user network for the guest lives in the benchmarking range 198.18.0.0/15, never in qemu's
// default 10.0.2.0/24, so no lab address can collide with a private network anywhere.
export const guestNetwork = {
  net: '198.18.0.0/24',
  host: '198.18.0.2',
  dns: '198.18.0.3',
  guest: '198.18.0.15',
} as const;

export interface QemuArgsOptions {
  readonly vmlinuz: string;
  readonly initramfs: string;
  readonly guestInit: string;
  readonly modulesDir: string;
  readonly sshPort: number;
  readonly memoryMb: number;
  readonly cpus: number;
}

export function qemuArgs(options: QemuArgsOptions): string[] {
  const append = ['console=ttyS0', 'quiet', 'panic=-1', `${initParam}=${options.guestInit}`, `${modulesParam}=${options.modulesDir}`];
  const netdev = [
    'user',
    'id=lan',
    `net=${guestNetwork.net}`,
    `host=${guestNetwork.host}`,
    `dns=${guestNetwork.dns}`,
    `dhcpstart=${guestNetwork.guest}`,
    // The guest gets no route out of qemu: a lab needs only the machine's port forward into it.
    'restrict=on',
    `hostfwd=tcp:127.0.0.1:${options.sshPort}-${guestNetwork.guest}:22`,
  ];
  return [
    // KVM is unusable on these machines (lab-facts.md), so plain emulation.
    '-accel', 'tcg',
    '-cpu', 'max',
    '-smp', String(options.cpus),
    '-m', String(options.memoryMb),
    '-nographic',
    '-no-reboot',
    '-kernel', options.vmlinuz,
    '-initrd', options.initramfs,
    '-append', append.join(' '),
    '-virtfs', `local,path=/,mount_tag=${hostRootTag},security_model=passthrough,readonly=on,multidevs=remap`,
    '-netdev', netdev.join(','),
    // No option ROM: the kernel is loaded directly, and iPXE's network-boot prompt costs seconds.
    '-device', 'virtio-net-pci,netdev=lan,romfile=',
  ];
}
