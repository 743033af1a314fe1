// The real-kernel guest that `lvsprov lab up` builds on.
export { attachGuest, bootGuest, type BootGuestOptions, type Guest, type GuestHandle, type GuestTimings } from './guest.js';
export { guestStateSchema, type GuestState } from './guest-state.js';
export { forwardArgv, runInGuest, sshOptions, type GuestCommand, type GuestEndpoint, type GuestRunOptions } from './ssh-client.js';
export { ensureKernel, type CachedKernel } from './kernel.js';
export { ensureInitramfs } from './initramfs.js';
export { defaultCacheDir } from '../../cache-dir.js';
export { guestNetwork, labNicMac } from './qemu-args.js';
export { GuestError, LabPrerequisiteError } from './errors.js';
