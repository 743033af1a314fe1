import type { Change, ChangePhase } from '../resources/types.js';

// The manifest is written in the host's last apply section, after every change: a script stops at
// its first failing change, so the manifest never records an object whose change did not run,
// and never forgets one whose removal failed. With no other change, it is a change of its own
// (the first apply on a host an older lvsprov provisioned, which only records what it declares).
// A host that takes part in several waves also writes the interim manifest (everything recorded
// and everything declared) with the last change of each earlier wave: a run stopped between
// waves then leaves nothing it made off the record. Neither costs an exec of its own. A wave split
// in two execs (`execOf`: a director's take-over of a VIP waits for its old holder) writes the
// interim, or the manifest itself, at the end of the first: the second may be held back.

const phaseOf = (change: Change): ChangePhase => change.phase ?? 'prepare';

export function sealWithManifest<C extends Change>(changes: readonly C[], manifest: Change | undefined, standalone: (change: Change) => C, interim?: Change, execOf: (change: C) => string = phaseOf): C[] {
  if (manifest === undefined) return [...changes];
  if (changes.length === 0) return [standalone(manifest)];
  return changes.map((change, index) => {
    const next = changes[index + 1];
    if (next === undefined) return { ...change, commands: [...change.commands, ...manifest.commands] };
    if (execOf(next) === execOf(change)) return change;
    const write = phaseOf(next) !== phaseOf(change) ? interim : (interim ?? manifest);
    if (write !== undefined) return { ...change, commands: [...change.commands, ...write.commands] };
    return change;
  });
}
