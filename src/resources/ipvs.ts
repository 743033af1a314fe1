import { ABSENT_FILE, removeFileChange, type FileState } from './file-state.js';
import type { ResourceType } from './types.js';
import { ipvsUnavailable, parseProbe, probeSnippet, probeSnippetWithoutPins, type IpvsFacts } from './ipvs/probe.js';
import { leftoverUnpins } from './ipvs/next-hop-pin.js';
import { planTable } from './ipvs/plan.js';
import { afterBootUnit, bootUnitChange, resetBootUnitChange } from './ipvs/boot-unit.js';
import { saveFileChange, saveFilePath, savedFile } from './ipvs/save-file.js';
import { ipvsSchema, specServiceName, type IpvsSpec } from './ipvs/schema.js';
import type { Table } from './ipvs/model.js';
import type { Change, HostContext } from './types.js';
import { requireTool } from './missing-tool.js';

// IPVS virtual services and their real servers, edited in place with ipvsadm and persisted in
// the distro's save file as `ipvsadm -S -n` would write it (and, on RHEL, the unit that restores
// it at boot enabled: see ipvs/boot-unit.ts). The kernel holds one table per
// host, so every ipvs task on a host shares one key and plans against what earlier ones leave.

export type { IpvsFacts } from './ipvs/probe.js';
export type { IpvsSpec } from './ipvs/schema.js';

function requireIpvs(facts: IpvsFacts, context: HostContext): void {
  requireTool('ipvsadm', facts.ipvs.state !== 'no-ipvsadm', context);
  const unavailable = ipvsUnavailable(facts.ipvs);
  if (unavailable === undefined) return;
  throw new Error(
    `IPVS is not available on ${context.host}: ${unavailable}. ` +
      'The kernel needs IP Virtual Server support (CONFIG_IP_VS): load it with `modprobe ip_vs`, ' +
      'or use a kernel built with it.',
  );
}

function saveFileState(spec: IpvsSpec, facts: IpvsFacts): { path: string; file: FileState } {
  const path = saveFilePath(spec, facts.os);
  const file = facts.files[path];
  if (!file) throw new Error(`the ipvs probe did not read the save file ${path}`);
  return { path, file };
}

export const ipvs: ResourceType<IpvsSpec, IpvsFacts> = {
  name: 'ipvs',
  schema: ipvsSchema,

  key: () => 'ipvs',

  probe: probeSnippet,

  legacyProbes: (spec) => [probeSnippetWithoutPins(spec)],

  parse: parseProbe,

  plan(spec, facts, context) {
    requireIpvs(facts, context);
    const planned = planTable(spec, facts.table, context.withheld, context.gainingMarks);
    const changes = [...planned.changes, ...leftoverUnpins(facts.pins, planned.changes)];
    const { path, file } = saveFileState(spec, facts);
    if (!persists(file, planned.table)) return changes;
    const save = saveFileChange(path, file, planned.table);
    const boot = bootUnitChange(facts, path);
    return [...changes, ...withPhase([...(save ? [save] : []), ...(boot ? [boot] : [])], changes)];
  },

  after(spec, facts, context) {
    if (facts.ipvs.state === 'unavailable') return facts;
    const { table } = planTable(spec, facts.table, context?.withheld, context?.gainingMarks);
    const { path, file } = saveFileState(spec, facts);
    // Once the plan's ipvsadm commands ran, ipvsadm is installed and answers; every pin is gone.
    if (!persists(file, table)) return { ...facts, ipvs: { state: 'ok' }, table, pins: [] };
    return afterBootUnit({ ...facts, ipvs: { state: 'ok' }, table, pins: [], files: { ...facts.files, [path]: savedFile(file, table) } }, path);
  },

  // Each virtual service is its own object; services someone else made are never recorded.
  owns: (spec) =>
    spec.services
      .filter((service) => service.state === 'present')
      .map((service) => ({ id: `ipvs ${specServiceName(service)}`, spec: { ...spec, services: [{ ...service, real_servers: [] }], purge: false } })),

  mergeOwned: (a, b) => (a.save_file === b.save_file ? { ...a, services: [...a.services, ...b.services] } : undefined),

  // The listed services go with `ipvsadm -D` (their real servers with them); services the spec
  // does not list stay, and the save file is rewritten to them, or removed when none is left.
  reset: {
    plan(spec, facts, context) {
      requireIpvs(facts, context);
      const { changes, table } = planTable(withdrawn(spec), facts.table);
      return [...changes, ...leftoverUnpins(facts.pins, changes), ...withPhase(persistedWithout(spec, facts, table), changes)];
    },
    after(spec, facts) {
      if (facts.ipvs.state === 'unavailable') return facts;
      const { table } = planTable(withdrawn(spec), facts.table);
      return savedWithout(spec, { ...facts, table, pins: [] }, table);
    },
  },

  // Another task (keepalived) holds the listed services from now on, or removed them: the table
  // is left to it, and the save file (restored at boot) is rewritten without them. It stays, even
  // empty, as does the boot unit: an ipvs task of the host may still write it (a director that
  // left a keepalived pair), and where none does, keepalived's director has AUTO="false" in
  // /etc/default/ipvsadm. A save file this host's facts did not read is not rewritten here.
  release: {
    plan(spec, facts, context) {
      requireIpvs(facts, context);
      if (!readSaveFile(spec, facts)) return [];
      const { path, file } = saveFileState(spec, facts);
      const save = saveFileChange(path, file, planTable(withdrawn(spec), facts.table).table);
      return save ? [{ ...save, phase: 'balance' }] : [];
    },
    // The listed services leave the facts' table too: a second release of the same run (keepalived
    // takes two services along) plans its save file from the table the first one left.
    after(spec, facts) {
      if (facts.ipvs.state === 'unavailable' || !readSaveFile(spec, facts)) return facts;
      const { path, file } = saveFileState(spec, facts);
      const { table } = planTable(withdrawn(spec), facts.table);
      return { ...facts, table, files: { ...facts.files, [path]: savedFile(file, table) } };
    },
  },
};

/**
 * No save file restores an empty table as well as an empty one does (Debian's init script writes
 * its stub when the file is missing), and it is what pruning leaves once a director's last service
 * goes, with RHEL's unit disabled: writing an empty file and enabling the unit again would undo
 * that in the next apply, one change in a re-run that should make none.
 */
function persists(file: FileState, table: Table): boolean {
  return file.exists || table.length > 0;
}

function readSaveFile(spec: IpvsSpec, facts: IpvsFacts): boolean {
  return Object.hasOwn(facts.files, saveFilePath(spec, facts.os));
}

/** The save file rewritten to `table` (removed when it is empty), and the unit restoring it disabled then. */
function persistedWithout(spec: IpvsSpec, facts: IpvsFacts, table: Table): Change[] {
  const { path, file } = saveFileState(spec, facts);
  const save = resetSaveFile(path, file, table);
  const boot = resetBootUnitChange(facts, path, table.length);
  return [...(save ? [save] : []), ...(boot ? [boot] : [])];
}

/** `facts` once persistedWithout ran. */
function savedWithout(spec: IpvsSpec, facts: IpvsFacts, table: Table): IpvsFacts {
  const { path, file } = saveFileState(spec, facts);
  const left = { ...facts, files: { ...facts.files, [path]: table.length === 0 ? ABSENT_FILE : savedFile(file, table) } };
  return resetBootUnitChange(facts, path, table.length) ? { ...left, bootUnit: 'disabled' } : left;
}

/**
 * The save file (and the unit restoring it) follow the table: written in the last wave that edits
 * it, so a run that stops between waves leaves a file that never restores a server already deleted.
 */
function withPhase(persistence: Change[], tableChanges: readonly Change[]): Change[] {
  const phase = tableChanges.some((change) => change.phase === 'withdraw' && change.resource.startsWith('ipvs ')) ? 'withdraw' : 'balance';
  return persistence.map((change) => ({ ...change, phase }));
}

/** The spec with every service it adds marked absent; purge never applies to a reset. */
function withdrawn(spec: IpvsSpec): IpvsSpec {
  const services = spec.services.filter((service) => service.state === 'present').map((service) => ({ ...service, state: 'absent' as const }));
  return { ...spec, services, purge: false };
}

function resetSaveFile(path: string, file: FileState, table: Table): Change | undefined {
  if (table.length > 0) return saveFileChange(path, file, table);
  return file.exists ? removeFileChange(path, file) : undefined;
}
