import { expect } from 'vitest';
import type { CompiledTask } from '../../src/config/compile.js';
import type { PlannedChange } from '../../src/engine/events.js';
import type { RealServerRef } from '../../src/resources/types.js';
import { changesIn, phaseRank, phaseOf } from '../../src/engine/host-plan.js';
import { serverKey, type WavePlan } from '../../src/engine/wave-plan.js';
import { compiledTask, type Inventory } from './cluster-sim.js';

// The vocabulary of the cross-host plan tests (cross-host-plan.test.ts, written by hand, and
// cross-host-random.test.ts, generated): inventories as the director and realserver roles make
// them, a plan as lines to compare, and LVS's order, which every plan must keep.

export interface Server {
  address: string;
  forwarding?: 'dr' | 'tun' | 'nat';
  weight?: number;
}
export type Service = Record<string, unknown> & { real_servers: Server[] };

export const tcp = (address: string, port: number, servers: Server[], extra: Record<string, unknown> = {}): Service => ({
  protocol: 'tcp',
  address,
  port,
  scheduler: 'wrr',
  ...extra,
  real_servers: servers.map((server) => ({ forwarding: 'dr', ...server })),
});
/** A UDP service: its own IPVS service (`-u`), beside a TCP one of the same VIP and port if any. */
export const udp = (address: string, port: number, servers: Server[], extra: Record<string, unknown> = {}): Service => ({ ...tcp(address, port, servers, extra), protocol: 'udp' });
/** A fwmark service, persistent unless `extra` says otherwise (`persistence: undefined`). */
export const marked = (mark: number, servers: Server[], extra: Record<string, unknown> = {}): Service => ({ protocol: 'fwmark', fwmark: mark, scheduler: 'wrr', persistence: { timeout: 300 }, ...extra, real_servers: servers.map((server) => ({ forwarding: 'dr', ...server })) });
export const rs = (...addresses: string[]): Server[] => addresses.map((address) => ({ address }));

export const vip = (address: string, device: string, announce = false): CompiledTask =>
  compiledTask(`VIP ${address} on ${device}`, 'address', { address, device, ...(announce ? { announce: true } : {}) });

/** One rule of a director's firewall marks: packets to `address` (on `ports`, every port if none) get `mark`. */
export interface MarkRule {
  address: string;
  ports: number[];
  mark: number;
}

/** A director as the director role makes it: its VIPs on eth0, the marks of its fwmark services, its IPVS table. */
export function director(services: Service[], marks: MarkRule[] = []): CompiledTask[] {
  const addresses = [...new Set([...services.flatMap((service) => (typeof service.address === 'string' ? [service.address] : [])), ...marks.map((mark) => mark.address)])];
  return [
    ...addresses.map((address) => vip(address, 'eth0', true)),
    ...(marks.length > 0 ? [compiledTask('firewall marks', 'fwmark', { marks })] : []),
    compiledTask('IPVS virtual services', 'ipvs', { services }),
  ];
}

/** A real server: each VIP on lo (DR) or tunl0 (TUN). */
export const realServer = (...vips: Array<[string, 'lo' | 'tunl0']>): CompiledTask[] => vips.map(([address, device]) => vip(address, device));

/** A drained server as `SELECTOR RIP:PORT`, and ` to VIP...` for a fwmark service's VIPs. */
export const drainKey = (server: RealServerRef): string => `${serverKey(server)}${server.vips ? ` to ${server.vips.join(' ')}` : ''}`;

/** Every change of the plan as `phase host: summary`, wave by wave; a VIP taken over says whom its exec waits for. */
export const lines = (waves: WavePlan): string[] =>
  waves.waves.flatMap((wave) => wave.hosts.flatMap(({ host, changes }) => changes.map((change) => `${wave.phase} ${host}${change.awaitsRelease ? ` once ${change.awaitsRelease.from.join(', ')} let ${change.awaitsRelease.address} go` : ''}: ${change.summary}`)));

const removes = (change: PlannedChange): boolean => /-> \(absent\)$|^remove /.test(change.summary);

/** The servers a host's drain waits for, as serverKey names them. */
const drained = (waves: WavePlan, host: string): string[] => waves.drains.find((drain) => drain.host === host)?.servers.map(serverKey) ?? [];

/** The VIPs a director lets go first thing in its balance: its hand-overs, which come before any other change there. */
const letGoFirst = (changes: readonly PlannedChange[]): string[] => {
  const balance = changesIn(changes, 'balance');
  const others = balance.findIndex((change) => !change.handedOver);
  return balance.slice(0, others < 0 ? balance.length : others).flatMap((change) => change.releases ?? []);
};

/**
 * LVS's order, whatever the case: on a host that directs nothing, additions come before any
 * director's IPVS edit (prepare) and removals after every director let go (retire); a director
 * adds and quiesces in balance, deletes in withdraw, and drains each server it deletes, and the
 * old method's connections of each server whose forwarding it switches.
 */
export function checkLvsOrder(inventory: Inventory, plans: ReadonlyMap<string, readonly PlannedChange[]>, waves: WavePlan): void {
  for (const [host, changes] of plans) {
    const directs = (inventory[host] ?? []).some((task) => task.type === 'ipvs');
    for (const change of changes) {
      const where = `${host}: ${change.summary}`;
      // A VIP another director takes in this run leaves the old one before any other change of its
      // balance (but the removals of the other VIPs it hands over).
      if (change.handedOver) {
        expect(`${phaseOf(change)} ${where}`).toBe(`balance ${where}`);
        expect(letGoFirst(changes), where).toEqual(expect.arrayContaining([...(change.releases ?? [])]));
        for (const to of change.handedOver.to) expect(plans.get(to)?.some((other) => phaseOf(other) === 'balance' && other.announces !== undefined && other.awaitsRelease?.from.includes(host) === true && change.releases?.includes(other.announces))).toBe(true);
        continue;
      }
      // The new holder adds and announces it in balance after everything else there (its own exec),
      // and only where each host it waits for lets that VIP go first thing in its balance.
      if (change.awaitsRelease) {
        expect(`${phaseOf(change)} ${where}`).toBe(`balance ${where}`);
        const balance = changesIn(changes, 'balance');
        expect(balance.slice(balance.indexOf(change)).every((other) => other.awaitsRelease !== undefined), where).toBe(true);
        for (const from of change.awaitsRelease.from) expect(letGoFirst(plans.get(from) ?? []), `${from} lets it go for ${where}`).toContain(change.awaitsRelease.address);
      }
      if (!directs && change.resource.startsWith('address ')) expect(`${phaseOf(change)} ${where}`).toBe(`${removes(change) ? 'retire' : 'prepare'} ${where}`);
      // A director's VIP answers only once the services on it are there: the same wave, after them.
      if (directs && change.resource.startsWith('address ') && !removes(change)) {
        expect(`${phaseOf(change)} ${where}`).toBe(`balance ${where}`);
        const services = changes.flatMap((other, index) => (other.resource.startsWith('ipvs ') && phaseOf(other) === 'balance' && !other.leaving && !other.quiets ? [index] : []));
        expect(changes.indexOf(change), where).toBeGreaterThan(Math.max(-1, ...services));
      }
      // Its gratuitous ARP brings the router at once: after everything the VIP's packets need in
      // balance (the address itself, the services, the marks; not another VIP taken over after it).
      if (change.announces !== undefined) {
        const needed = changes.flatMap((other, index) => (phaseOf(other) === 'balance' && (other.steers === true || (other.resource === change.resource && !removes(other) && other.announces === undefined) || (other.resource.startsWith('ipvs ') && !other.leaving && !other.quiets)) ? [index] : []));
        expect(changes.indexOf(change), where).toBeGreaterThan(Math.max(-1, ...needed));
      }
      if (change.joining) expect(`${phaseOf(change)} ${where}`).toBe(`balance ${where}`);
      // A switch of forwarding method: in balance, and its old method's connections drained before retire.
      if (change.rebinds) {
        expect(`${phaseOf(change)} ${where}`).toBe(`balance ${where}`);
        expect(drained(waves, host), where).toContain(serverKey(change.rebinds.server));
      }
      if (change.leaving && phaseOf(change) === 'withdraw') expect(drained(waves, host), where).toContain(serverKey(change.leaving));
      if (change.resource.startsWith('ipvs ') && removes(change)) expect(phaseRank(phaseOf(change))).toBeGreaterThanOrEqual(phaseRank('withdraw'));
      // An address a director's marks leave for a service it keeps, taken off a host after balance: its connections drained first.
      for (const server of change.unmarks ?? []) {
        for (const address of server.vips ?? []) {
          const dropped = [...plans.values()].some((other) => other.some((entry) => phaseRank(phaseOf(entry)) > phaseRank('balance') && entry.releases?.includes(address)));
          const handedOver = changes.some((entry) => entry.handedOver && entry.releases?.includes(address));
          // A drained server that names no VIP (a switched one: all its old method's connections) waits for every address.
          const waited = waves.drains.find((drain) => drain.host === host)?.servers.some((entry) => serverKey(entry) === serverKey(server) && (entry.vips === undefined || entry.vips.includes(address)));
          if (dropped && !handedOver) expect(waited, `${where}: ${serverKey(server)} to ${address}`).toBe(true);
        }
      }
    }
  }
}
