import type { KeepalivedSpec } from './schema.js';

// The VRRP instances of a keepalived.conf as lvsprov writes it (config-text.ts), read back to
// tell which groups a director leaves and which peers it stops advertising to. keepalived itself
// matches an instance across a reload by its virtual_router_id, interface and, unicast, its
// source address (2.2.7's vrrp_exist): an instance of the old config none of the new one matches
// is deleted on reload (see leave.ts for how a MASTER instance is handed over first).

export interface LiveInstance {
  readonly name: string;
  readonly virtualRouterId: number;
  readonly interface: string;
  readonly source: string;
  readonly peers: readonly string[];
  /** The VIPs as written (`ADDRESS/PREFIX dev DEVICE [label LABEL]`). */
  readonly vips: readonly LiveVip[];
}

export interface LiveVip {
  readonly address: string;
  readonly prefix: number;
  readonly device: string;
  readonly label?: string;
}

/** Every vrrp_instance block of `text`, in order. */
export function liveInstances(text: string): LiveInstance[] {
  const instances: LiveInstance[] = [];
  let current: { name: string; virtualRouterId: number; interface: string; source: string; peers: string[]; vips: LiveVip[] } | undefined;
  let inner: 'unicast_peer' | 'virtual_ipaddress' | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const head = /^vrrp_instance (\S+) \{$/.exec(line);
    if (head) current = { name: head[1] as string, virtualRouterId: 0, interface: '', source: '', peers: [], vips: [] };
    else if (current === undefined) continue;
    else if (inner !== undefined) {
      if (line === '}') inner = undefined;
      else if (line !== '') {
        const [address = '', , device = '', labelWord, label] = line.split(' ');
        if (inner === 'unicast_peer') current.peers.push(address);
        else {
          const [bare = '', prefix = '32'] = address.split('/');
          current.vips.push({ address: bare, prefix: Number(prefix), device, ...(labelWord === 'label' && label !== undefined ? { label } : {}) });
        }
      }
    } else if (line === 'unicast_peer {' || line === 'virtual_ipaddress {') inner = line === 'unicast_peer {' ? 'unicast_peer' : 'virtual_ipaddress';
    else if (line === '}') {
      instances.push(current);
      current = undefined;
    } else {
      const [key, value = ''] = line.split(' ');
      if (key === 'virtual_router_id') current.virtualRouterId = Number(value);
      else if (key === 'interface') current.interface = value;
      else if (key === 'unicast_src_ip') current.source = value;
    }
  }
  return instances;
}

/**
 * The spec's instance of the same VRRP group (virtual_router_id) as `live`, if any. A group whose
 * interface or source address changes is the same group to lvsprov (one reload, as before), not
 * one left and another joined.
 */
export function matchingInstance(spec: KeepalivedSpec, live: LiveInstance): KeepalivedSpec['instances'][number] | undefined {
  return spec.instances.find((instance) => instance.virtual_router_id === live.virtualRouterId);
}

/** The live instances of VRRP groups the spec no longer has: the groups this director leaves. */
export function leftInstances(spec: KeepalivedSpec, live: string | undefined): LiveInstance[] {
  return live === undefined ? [] : liveInstances(live).filter((instance) => matchingInstance(spec, instance) === undefined);
}

/**
 * `text` without the named instances: their blocks go, and their names from the sync groups; a
 * sync group left with fewer than two instances goes too (it would sync nothing).
 */
export function withoutInstances(text: string, names: ReadonlySet<string>): string {
  return edited(text, names, true);
}

/**
 * `text` with the named instances out of every sync group (on their own, so that one of them
 * going to FAULT takes no instance that stays with it); their blocks stay.
 */
export function outOfSyncGroups(text: string, names: ReadonlySet<string>): string {
  return edited(text, names, false);
}

function edited(text: string, names: ReadonlySet<string>, dropBlocks: boolean): string {
  const blocks = text.replace(/\n$/, '').split('\n\n');
  const kept = blocks.flatMap((block) => {
    const head = /^vrrp_instance (\S+) \{/.exec(block);
    if (head && names.has(head[1] as string)) return dropBlocks ? [] : [block];
    if (!block.startsWith('vrrp_sync_group ')) return [block];
    const lines = block.split('\n').filter((line) => !names.has(line.trim()));
    const members = lines.filter((line) => line.startsWith('        '));
    return members.length >= 2 ? [lines.join('\n')] : [];
  });
  return `${kept.join('\n\n')}\n`;
}

/** The addresses of the instances' VIPs, each once, in the instances' order (a spec's or a running config's). */
export function vipAddresses(instances: ReadonlyArray<{ readonly vips: ReadonlyArray<{ readonly address: string }> }>): string[] {
  return [...new Set(instances.flatMap((instance) => instance.vips.map((vip) => vip.address)))];
}
