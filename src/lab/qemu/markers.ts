// Lines the guest prints on its serial console; guest.ts watches for them. They are distinctive
// so kernel messages or program output cannot be mistaken for them.

export const readyMarker = 'LVSPROV-GUEST-READY';
export const failedMarker = 'LVSPROV-GUEST-FAILED';

/** Kernel command-line keys (no dot: dotted keys are taken for module parameters). */
export const initParam = 'lvsprov_init';
export const modulesParam = 'lvsprov_modules';

/** The 9p tag under which qemu shares the machine's root. */
export const hostRootTag = 'hostroot';

/**
 * Modules the initramfs insmods before it can mount the shared root, in load order (from
 * lab-facts.md): the virtio PCI transport, 9p over virtio, and overlayfs.
 */
export const initramfsModules = [
  'virtio_ring',
  'virtio',
  'virtio_pci_legacy_dev',
  'virtio_pci_modern_dev',
  'virtio_pci',
  '9pnet',
  '9pnet_virtio',
  'netfs',
  'fscache',
  '9p',
  'overlay',
] as const;
