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
  /** The directors share the VIP by VRRP (lvs.ha): exactly one of them holds it and answers ARP. */
  readonly vrrp?: boolean;
}

export function judgeArp(input: ArpVerdictInput): ArpCheck {
  const { vip, block } = input;
  const problems: string[] = [];
  const lookupNames = new Map<string, string>();
  const notes = [
    `${arpRequests} broadcast ARP requests for ${vip} from ${input.checker} on ${block.device ?? '?'} (${input.tool} arping), on the director's LAN ${input.lan}`,
  ];
  if (input.outsideLan.length > 0) {
    notes.push(`not seen from this LAN, so not checked: ARP on the networks of ${input.outsideLan.join(', ')}`);
  }
  const holders = input.directors.filter((director) => director.holdsVip);
  if (input.vrrp) problems.push(...vrrpProblems(vip, input.directors, notes));
  else for (const director of input.directors) if (!director.holdsVip) problems.push(`director ${director.host} does not hold ${vip} on ${director.device}`);

  // Under VRRP only the holder may answer: a backup that answers (a VIP a killed keepalived left
  // on its interface) pulls the LAN's traffic to a director that is not the master.
  const allowed = input.vrrp ? holders : input.directors;
  const directorByMac = new Map(allowed.filter((d) => d.mac).map((d) => [d.mac as string, d.host]));
  for (const director of input.directors) if (director.mac && !directorByMac.has(director.mac)) lookupNames.set(director.mac, `backup director ${director.host}`);
  const lookupByMac = new Map<string, string>();
  for (const [address, mac] of block.lookups) lookupByMac.set(mac, input.hostsByAddress.get(address) ?? address);
  for (const [mac, name] of lookupNames) lookupByMac.set(mac, name);

  const counts = new Map<string, number>();
  for (const reply of block.vipReplies) counts.set(reply.mac, (counts.get(reply.mac) ?? 0) + 1);
  const responders: ArpResponder[] = [...counts.entries()].map(([mac, replies]) => {
    const host = directorByMac.get(mac) ?? lookupByMac.get(mac);
    return { mac, replies, ...(host !== undefined ? { host } : {}) };
  });

  for (const responder of responders) {
    if (directorByMac.has(responder.mac)) continue;
    const who = responder.host !== undefined ? `${responder.host} (${responder.mac})` : `a host that is not a director (${responder.mac})`;
    problems.push(`${who} answers ARP for ${vip}: only ${input.vrrp ? 'the VRRP master' : 'the director'} may`);
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

/** VRRP: exactly one director holds the VIP; none is no master, two or more is split brain. */
function vrrpProblems(vip: string, directors: readonly ArpDirector[], notes: string[]): string[] {
  const holders = directors.filter((director) => director.holdsVip);
  const backups = directors.filter((director) => !director.holdsVip).map((director) => director.host);
  if (holders.length === 1) {
    notes.push(`${vip} is held by ${holders[0]?.host ?? ''} (VRRP master); ${backups.length > 0 ? `backup: ${backups.join(', ')}` : 'no backup'}`);
    return [];
  }
  if (holders.length === 0) return [`no director holds ${vip}: no VRRP master (is keepalived running on ${directors.map((d) => d.host).join(', ')}?)`];
  return [`split brain: ${holders.map((director) => director.host).join(' and ')} hold ${vip} at once; exactly one VRRP master may`];
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
