import { hostRootTag, initParam, modulesParam } from './markers.js';

// qemu's user network for the guest lives in the benchmarking range 198.18.0.0/15, never in qemu's
// default 10.0.2.0/24, so no lab address can collide with a private network anywhere.
export const guestNetwork = {
  net: '198.18.0.0/24',
  host: '198.18.0.2',
  dns: '198.18.0.3',
  guest: '198.18.0.15',
} as const;

/**
 * MAC of the optional second NIC, the lab uplink. The guest finds it by this address (device names
 * follow probe order) and moves it into a lab's control namespace, so the machine reaches a jump
 * sshd that sits on every lab subnet while the first NIC keeps serving the guest's own sshd.
 */
export const labNicMac = '52:54:00:4c:41:42';

export interface QemuArgsOptions {
  readonly vmlinuz: string;
  readonly initramfs: string;
  readonly guestInit: string;
  readonly modulesDir: string;
  readonly sshPort: number;
  /** Loopback port forwarded to port 22 on the lab uplink NIC; no second NIC without it. */
  readonly labPort?: number;
  readonly memoryMb: number;
  readonly cpus: number;
  /** The serial console goes to this file, so qemu never depends on a pipe to the process that started it. */
  readonly consoleLog: string;
}

function userNetdev(id: string, port: number): string {
  return [
    'user',
    `id=${id}`,
    `net=${guestNetwork.net}`,
    `host=${guestNetwork.host}`,
    `dns=${guestNetwork.dns}`,
    `dhcpstart=${guestNetwork.guest}`,
    // The guest gets no route out of qemu: a lab needs only the machine's port forward into it.
    'restrict=on',
    `hostfwd=tcp:127.0.0.1:${port}-${guestNetwork.guest}:22`,
  ].join(',');
}

export function qemuArgs(options: QemuArgsOptions): string[] {
  const append = ['console=ttyS0', 'quiet', 'panic=-1', `${initParam}=${options.guestInit}`, `${modulesParam}=${options.modulesDir}`];
  const labNic =
    options.labPort === undefined
      ? []
      : ['-netdev', userNetdev('labnet', options.labPort), '-device', `virtio-net-pci,netdev=labnet,mac=${labNicMac},romfile=`];
  return [
    // KVM is unusable on these machines (lab-facts.md), so plain emulation.
    '-accel', 'tcg',
    '-cpu', 'max',
    '-smp', String(options.cpus),
    '-m', String(options.memoryMb),
    '-display', 'none',
    '-vga', 'none',
    '-monitor', 'none',
    '-serial', `file:${options.consoleLog}`,
    '-no-reboot',
    '-kernel', options.vmlinuz,
    '-initrd', options.initramfs,
    '-append', append.join(' '),
    '-virtfs', `local,path=/,mount_tag=${hostRootTag},security_model=passthrough,readonly=on,multidevs=remap`,
    '-netdev', userNetdev('lan', options.sshPort),
    // No option ROM: the kernel is loaded directly, and iPXE's network-boot prompt costs seconds.
    '-device', 'virtio-net-pci,netdev=lan,romfile=',
    ...labNic,
  ];
}
