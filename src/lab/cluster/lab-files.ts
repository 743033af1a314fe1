import { readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { GuestState } from '../qemu/guest-state.js';
import type { GuestLab } from './guest-lab.js';
import { labKnownHosts, readyInventory, type LabClient } from './ready-inventory.js';

// What `lab up` leaves in the lab dir for the user: the lab key, known_hosts for every host and
// the jump host, and the ready inventory. Paths in the inventory are relative to it, so the dir
// works wherever it is reached from.

export async function writeLabFiles(dir: string, sourceFile: string, guest: GuestState, lab: GuestLab, client: LabClient): Promise<string> {
  const files = { inventory: join(dir, 'inventory.yaml'), knownHosts: join(dir, 'known_hosts'), key: join(dir, 'lab_ed25519') };
  if (guest.labPort === undefined) throw new Error('the lab guest has no uplink port');
  await writeFile(files.key, lab.clientKey, { mode: 0o600 });
  await writeFile(files.knownHosts, labKnownHosts(lab.hosts, { port: guest.labPort, publicKey: guest.hostPublicKey }), { mode: 0o644 });
  const local = (path: string): string => `./${relative(dir, path)}`;
  const text = readyInventory(await readFile(sourceFile, 'utf8'), sourceFile, {
    privateKey: local(files.key),
    knownHosts: local(files.knownHosts),
    jumpPort: guest.labPort,
    jumpKey: local(guest.endpoint.clientKey),
    // Logins into emulated hosts take seconds each, far more when the machine is busy.
    connectTimeout: 300,
  }, client);
  await writeFile(files.inventory, text);
  return files.inventory;
}
