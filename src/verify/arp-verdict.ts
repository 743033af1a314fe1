import { arpRequests } from './arp-script.js';
import type { ArpBlock } from './arp-output.js';
import type { ArpCheck, ArpDirector, ArpResponder, CheckStatus } from './report.js';

// Only a director may answer ARP for a VIP: a real server that answers steals the VIP's traffic
// from the director (DR and TUN real servers hold the VIP too, and must keep quiet about it).

export interface ArpVerdictInput {
  readonly vip: string;
  readonly directors: readonly ArpDirector[];
  readonly lan: string;
  readonly checker: string;
  readonly tool: string;
  readonly block: ArpBlock;
  /** Inventory host per real-server address, to name a MAC the lookups found. */
  readonly hostsByAddress: ReadonlyMap<string, string>;
  /** Real servers of this VIP outside the director's LAN: their ARP is not seen from here. */
  readonly outsideLan: readonly string[];
}

export function judgeArp(input: ArpVerdictInput): ArpCheck {
  const { vip, block } = input;
  const problems: string[] = [];
  const notes = [
    `${arpRequests} broadcast ARP requests for ${vip} from ${input.checker} on ${block.device ?? '?'} (${input.tool} arping), on the director's LAN ${input.lan}`,
  ];
  if (input.outsideLan.length > 0) {
    notes.push(`not seen from this LAN, so not checked: ARP on the networks of ${input.outsideLan.join(', ')}`);
  }
  for (const director of input.directors) {
    if (!director.holdsVip) problems.push(`director ${director.host} does not hold ${vip} on ${director.device}`);
  }

  const directorByMac = new Map(input.directors.filter((d) => d.mac).map((d) => [d.mac as string, d.host]));
  const lookupByMac = new Map<string, string>();
  for (const [address, mac] of block.lookups) lookupByMac.set(mac, input.hostsByAddress.get(address) ?? address);

  const counts = new Map<string, number>();
  for (const reply of block.vipReplies) counts.set(reply.mac, (counts.get(reply.mac) ?? 0) + 1);
  const responders: ArpResponder[] = [...counts.entries()].map(([mac, replies]) => {
    const host = directorByMac.get(mac) ?? lookupByMac.get(mac);
    return { mac, replies, ...(host !== undefined ? { host } : {}) };
  });

  for (const responder of responders) {
    if (directorByMac.has(responder.mac)) continue;
    const who = responder.host !== undefined ? `${responder.host} (${responder.mac})` : `a host that is not a director (${responder.mac})`;
    problems.push(`${who} answers ARP for ${vip}: only the director may`);
  }
  if (responders.length === 0) {
    const why = block.errors.length > 0 ? `: ${block.errors.join('; ')}` : '';
    problems.push(`nobody answered ARP for ${vip} on ${input.checker} ${block.device ?? ''}${why}`.trimEnd());
  }
  const answeringDirectors = responders.filter((responder) => directorByMac.has(responder.mac));
  if (answeringDirectors.length > 1) {
    notes.push(`${answeringDirectors.length} directors answer: the LAN sends the VIP's traffic to whichever answered last`);
  }

  return {
    vip,
    status: problems.length > 0 ? 'fail' : 'pass',
    checker: input.checker,
    ...(block.device !== undefined ? { device: block.device } : {}),
    lan: input.lan,
    tool: input.tool,
    directors: input.directors,
    responders,
    notes,
    problems,
  };
}

/** An ARP check that did not happen, and why. */
export function arpNotChecked(vip: string, status: CheckStatus, directors: readonly ArpDirector[], why: string, extra: Partial<ArpCheck> = {}): ArpCheck {
  return {
    vip,
    status,
    directors,
    responders: [],
    notes: status === 'fail' ? [] : [why],
    problems: status === 'fail' ? [why] : [],
    ...extra,
  };
}
