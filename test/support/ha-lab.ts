import { expect } from 'vitest';
import type { ClusterLab } from './cluster-lab.js';
import { describeOutage, guestNow, outage, type Outage, type RequestStream } from './request-stream.js';

// What a director pair in a qemu lab looks like from outside keepalived: which directors have a
// floating address on an interface, who answers ARP for it, what the router's ARP entry names,
// and how a client's requests fared while the address moved from one director to the other.

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface FloatingAddress {
  readonly lab: ClusterLab;
  readonly directors: readonly string[];
  /** The address keepalived moves, and the directors' interface it sits on. */
  readonly address: string;
  readonly device: string;
  /** Where ARP for it is seen from: the router's interface on the directors' LAN (or a real server's). */
  readonly observer: { readonly host: string; readonly device: string };
}

/** The directors that have the address on its interface now. */
export async function holders(floating: FloatingAddress): Promise<string[]> {
  const { lab, address, device } = floating;
  const shown = await lab.shEach(floating.directors, `ip -o -4 addr show dev ${device}`);
  return floating.directors.filter((host) => (shown.get(host) ?? '').includes(` ${address}/`));
}

/**
 * Polls until `wanted` holds the address (alone, unless `alone` is false): one look through each
 * director's kept shell, 0.3 s apart. The guest is emulated: in a run of ha-failover.test.ts the
 * sessions the test itself opened (these looks, two every 0.2 s before, with its request stream
 * and downloads) took about half of the guest's CPU, from the very takeovers they waited for. The
 * times the tests judge come from the kernels' events and the client's stream, not from this poll.
 */
export async function heldBy(floating: FloatingAddress, wanted: string, alone: boolean, timeoutMs = 20_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const now = await holders(floating);
    if (now.includes(wanted) && (!alone || now.length === 1)) return now;
    if (Date.now() > deadline) throw new Error(`after ${timeoutMs} ms ${floating.address} is held by [${now.join(', ')}], not by ${wanted}${alone ? ' alone' : ''}`);
    await sleep(300);
  }
}

export const macOf = async (lab: ClusterLab, host: string, device: string): Promise<string> => (await lab.sh(host, `cat /sys/class/net/${device}/address`)).trim();

/** Every MAC that answers a broadcast ARP request for the address, seen from the observer. */
export async function arpResponders(floating: FloatingAddress): Promise<string[]> {
  const { host, device } = floating.observer;
  return respondersIn(await floating.lab.sh(host, `${broadcastArp(device, floating.address)} || true`));
}

/** A broadcast ARP request for `address` out of `device`, two of them (iputils arping). */
export const broadcastArp = (device: string, address: string): string => `arping -b -c 2 -w 3 -I ${device} ${address}`;

/** The MACs that answered in arping's output, each once, sorted. */
export function respondersIn(output: string): string[] {
  return [...new Set([...output.matchAll(/from \S+ \[([0-9a-f:]+)\]/gi)].map(([, found]) => (found ?? '').toLowerCase()))].sort();
}

/** The observer's own ARP entry for the address, which its packets to it use. */
export async function observerEntry(floating: FloatingAddress): Promise<string> {
  const { host, device } = floating.observer;
  return /lladdr ([0-9a-f:]+)/.exec(await floating.lab.sh(host, `ip neigh show ${floating.address} dev ${device}`))?.[1] ?? '';
}

/** A neighbour entry the observer's monitor is proven on: the last address of 198.18.0.0/15, which no lab host has. */
const MARKER = '198.19.255.254';

export interface Takeover {
  /** When the taker put the address on its interface. */
  readonly heldAt: number;
  /** When the observer's ARP entry came to name the taker: from then on its packets reach it. */
  readonly learnedAt: number;
  /** When the giver, if one was named, took the address off its interface. */
  readonly releasedAt: number;
  /** Every event of the observer's monitor about the address, as `ip -ts monitor` printed it. */
  readonly observerEvents: readonly string[];
}

/**
 * The events of an `ip -ts monitor` log, each at its time in ms of the guest's clock (UTC). A line
 * may carry two stamps, an event with no text of its own before the real one (seen on a router's
 * neighbour monitor): the last one is the event's.
 */
export function stampedEvents(log: string): Array<{ readonly at: number; readonly event: string }> {
  return log.split('\n').flatMap((line) => {
    const stamped = /^(?:\[[^\]]*\]\s?)*\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})\d*\]\s?(.*)$/.exec(line);
    return stamped ? [{ at: Date.parse(`${stamped[1]}Z`), event: stamped[2] as string }] : [];
  });
}

/** The first event of an `ip -ts monitor` log that `matches`, in ms of the guest's clock (UTC); NaN if none. */
export function firstEventAt(log: string, matches: (line: string) => boolean): number {
  return stampedEvents(log).find(({ event }) => matches(event))?.at ?? NaN;
}

/**
 * Records, from now on and on the guest's clock, when `taker` adds the address to its interface,
 * when `giver` (if named) takes it off its own, and when the observer's ARP entry for it names
 * `taker`'s MAC: `ip -ts monitor` in each host, so the times are the kernel's events, not a
 * poller's late look. The returned function stops the monitors and reads the marks (an event that
 * never came reads NaN).
 */
export async function watchTakeover(floating: FloatingAddress, taker: string, giver?: string): Promise<() => Promise<Takeover>> {
  const { lab, address, device, observer } = floating;
  const mac = await macOf(lab, taker, device);
  const monitor = (what: string, file: string): string => `rm -f ${file}; ip -ts monitor ${what} > ${file} 2>&1 & echo $! > ${file}.pid`;
  // The observer's monitor must be listening before the action: on a quick takeover (0.5 s) one
  // that subscribed late missed the event. A permanent entry for an address nothing uses (the
  // benchmarking range's last) is added until the monitor shows it, then removed.
  const listening = (file: string): string =>
    `i=0; until grep -q '${MARKER} ' ${file} 2>/dev/null || [ "$i" -ge 100 ]; do i=$((i+1)); ip neigh replace ${MARKER} lladdr 02:00:00:00:00:0$((i % 2 + 1)) dev ${observer.device} nud permanent; sleep 0.05; done; ip neigh del ${MARKER} dev ${observer.device} 2>/dev/null || true`;
  const stop = (file: string): string => `kill $(cat ${file}.pid) 2>/dev/null; rm -f ${file}.pid; cat ${file}`;
  const held = `/tmp/lvsprov-monitor-address-${address}`;
  const learned = `/tmp/lvsprov-monitor-neigh-${address}`;
  const released = `/tmp/lvsprov-monitor-release-${address}`;
  await lab.sh(taker, monitor(`address dev ${device}`, held));
  if (giver !== undefined) await lab.sh(giver, monitor(`address dev ${device}`, released));
  await lab.sh(observer.host, `${monitor(`neigh dev ${observer.device}`, learned)}; ${listening(learned)}`);
  return async () => {
    const observed = await lab.sh(observer.host, stop(learned));
    return {
      heldAt: firstEventAt(await lab.sh(taker, stop(held)), (line) => !line.startsWith('Deleted') && line.includes(` ${address}/`)),
      learnedAt: firstEventAt(observed, (line) => !line.startsWith('Deleted') && line.startsWith(`${address} `) && line.includes(`lladdr ${mac}`)),
      releasedAt: giver === undefined ? NaN : firstEventAt(await lab.sh(giver, stop(released)), (line) => line.startsWith('Deleted') && line.includes(` ${address}/`)),
      observerEvents: observed.split('\n').filter((line) => line.includes(`${address} `)),
    };
  };
}

/**
 * Runs `action` on `host`, waits until `settled` and 2 s of traffic after it, and measures what the
 * stream's client saw while `taker` took `floating` over; the handover is over once the observer
 * names the taker. Logs the outage, the takeover's marks and each failed request, times from the action.
 */
export async function handover(
  floating: FloatingAddress,
  stream: RequestStream,
  log: (line: string) => void,
  step: { what: string; host: string; action: string; settled: () => Promise<unknown>; taker: string },
): Promise<Outage> {
  const { lab } = floating;
  const takeover = await watchTakeover(floating, step.taker);
  const from = await guestNow(lab, step.host);
  await lab.sh(step.host, step.action);
  await step.settled();
  await sleep(2000);
  const to = await guestNow(lab, step.host);
  const marks = await takeover();
  // The switch is the observer's event; if its monitor saw none (twice on the NAT pair, cause not
  // found), the taker's own event, and the caller checks that the observer names the taker now.
  const switchedAt = Number.isNaN(marks.learnedAt) ? marks.heldAt : marks.learnedAt;
  expect(switchedAt, `neither ${step.taker} adding ${floating.address} nor ${floating.observer.host}'s ARP entry naming it was seen`).not.toBeNaN();
  const seen = outage(await stream.records(), from, to, switchedAt);
  const at = (time: number): string => `${((time - from) / 1000).toFixed(2)} s`;
  log(
    `${describeOutage(step.what, seen)}; gap from ${at(seen.lastBefore)} to ${at(seen.firstAfter)}${seen.quietBeforeMs !== undefined ? ` (last answer ${(seen.quietBeforeMs / 1000).toFixed(2)} s before the action)` : ''}; ` +
      `${step.taker} added ${floating.address} at ${at(marks.heldAt)}, ${floating.observer.host}'s ARP entry named it at ${at(marks.learnedAt)}`,
  );
  for (const failed of seen.failed) log(`  failed: sent at ${at(failed.sent)}, ended at ${at(failed.done)}: ${failed.detail}`);
  if (Number.isNaN(marks.learnedAt)) {
    // Not understood yet: what the observer's entry went through instead, and where it is now.
    log(`  ${floating.observer.host}'s monitor, every event about ${floating.address}: ${marks.observerEvents.length === 0 ? 'none' : ''}`);
    for (const line of marks.observerEvents) log(`    ${line}`);
    log(`  its entry now: ${(await lab.sh(floating.observer.host, `ip -s neigh show ${floating.address} dev ${floating.observer.device}`)).trim() || 'none'}`);
  }
  return seen;
}
