import type { Change } from '../resources/types.js';

// The manifest is written in the host's last apply section, after every change: a script stops at
// its first failing change, so the manifest never records an object whose change did not run,
// and never forgets one whose removal failed. With no other change, it is a change of its own
// (the first apply on a host an older lvsprov provisioned, which only records what it declares).

export function sealWithManifest<C extends Change>(changes: readonly C[], manifest: Change | undefined, standalone: (change: Change) => C): C[] {
  if (manifest === undefined) return [...changes];
  const last = changes[changes.length - 1];
  if (last === undefined) return [standalone(manifest)];
  return [...changes.slice(0, -1), { ...last, commands: [...last.commands, ...manifest.commands] }];
}
