import type { LoadedInventory } from '../config/inventory.js';
import { newNonce, parseReadSections, readScript } from '../engine/batch-script.js';
import { arpScript, type ArpProbe } from './arp-script.js';
import { parseArpOutput } from './arp-output.js';
import { checkerCandidates, directorLan, inNetwork, vipPlans, type VipPlan } from './arp-plan.js';
import { arpNotChecked, judgeArp } from './arp-verdict.js';
import { deviceProbe, parseDeviceFacts, type DeviceFacts } from './director-probe.js';
import type { ArpCheck, ArpDirector } from './report.js';
import type { SessionPool } from './session-pool.js';

// The ARP checks' I/O: one read per director (MAC and addresses of every VIP device), then one
// script per checker host for all the VIPs it can check. A checker off the director's LAN hands
// its VIPs on to the next candidate.

interface Pending {
  readonly plan: VipPlan;
  readonly directors: readonly ArpDirector[];
  readonly lanCidr: string;
  readonly probe: ArpProbe;
  readonly candidates: readonly string[];
  readonly outsideLan: readonly string[];
  readonly tried: string[];
}

export async function checkArp(inventory: LoadedInventory, pool: SessionPool): Promise<ArpCheck[]> {
  const plans = vipPlans(inventory);
  const facts = await readDirectors(plans, pool);
  const results = new Map<string, ArpCheck>();
  const pending: Pending[] = [];

  for (const plan of plans) {
    const unreachable = plan.directors.filter((director) => !facts.has(director.host));
    const directors: ArpDirector[] = plan.directors.map(({ host, device }) => {
      const read = facts.get(host)?.get(device);
      return {
        host,
        device,
        ...(read?.mac !== undefined ? { mac: read.mac } : {}),
        holdsVip: read?.addresses.some((entry) => entry.address === plan.vip) ?? false,
        ...(read?.error !== undefined ? { error: read.error } : {}),
      };
    });
    if (unreachable.length > 0) {
      const who = unreachable.map((d) => d.host).join(', ');
      results.set(plan.vip, arpNotChecked(plan.vip, 'not-run', directors, `director ${who} could not be read (unreachable or its script failed): its MAC is unknown`));
      continue;
    }
    const broken = directors.find((director) => director.error !== undefined);
    if (broken) {
      results.set(plan.vip, arpNotChecked(plan.vip, 'fail', directors, `director ${broken.host}: ${broken.error}`));
      continue;
    }
    const lanOf = plan.directors.map(({ host, device }) => facts.get(host)?.get(device)).find((read) => read && directorLan(read));
    const lan = lanOf ? directorLan(lanOf) : undefined;
    if (!lan) {
      results.set(plan.vip, arpNotChecked(plan.vip, 'skipped', directors, `no director has a LAN address on the VIP's device besides /32s, so there is no LAN to check`));
      continue;
    }
    const onLan = plan.realServers.filter((server) => inNetwork(server.address, lan.cidr));
    const outsideLan = plan.realServers.filter((server) => !inNetwork(server.address, lan.cidr)).map((server) => server.host ?? server.address);
    const candidates = checkerCandidates(inventory, plan, lan.cidr);
    if (candidates.length === 0) {
      results.set(
        plan.vip,
        arpNotChecked(plan.vip, 'skipped', directors, `no inventory host to send ARP requests from: add the router to group routers, or a host on ${lan.cidr}`, { lan: lan.cidr }),
      );
      continue;
    }
    pending.push({
      plan,
      directors,
      lanCidr: lan.cidr,
      probe: { vip: plan.vip, directorAddress: lan.address, lookups: onLan.map((server) => server.address) },
      candidates,
      outsideLan,
      tried: [],
    });
  }

  const order = [...new Set(pending.flatMap((entry) => entry.candidates))];
  for (const host of order) {
    const mine = pending.filter((entry) => !results.has(entry.plan.vip) && entry.candidates.includes(host));
    if (mine.length === 0) continue;
    const nonce = newNonce();
    const run = await pool.run(host, 'arp checker', arpScript(nonce, mine.map((entry) => entry.probe)));
    if (!run) {
      for (const entry of mine) entry.tried.push(pool.unreachable(host) ? `${host} unreachable` : `${host}: the ARP script failed`);
      continue;
    }
    const output = parseArpOutput(nonce, run.stdout);
    if (!output.complete) {
      pool.fail(host, `ARP check script failed (exit ${run.code}): ${run.stderr.trim()}`);
      for (const entry of mine) entry.tried.push(`${host}: the ARP script failed`);
      continue;
    }
    if (output.tool === 'none') {
      for (const entry of mine) entry.tried.push(`${host} has no arping (iputils-arping or busybox)`);
      continue;
    }
    mine.forEach((entry, index) => {
      const block = output.blocks.get(index);
      if (!block || block.offLink || block.device === undefined) {
        entry.tried.push(`${host} is not on ${entry.lanCidr} (${block?.route ?? 'no route'})`);
        return;
      }
      const hostsByAddress = new Map(entry.plan.realServers.flatMap((server) => (server.host ? [[server.address, server.host] as const] : [])));
      results.set(
        entry.plan.vip,
        judgeArp({
          vip: entry.plan.vip,
          directors: entry.directors,
          lan: entry.lanCidr,
          checker: host,
          tool: output.tool ?? 'arping',
          block,
          hostsByAddress,
          outsideLan: entry.outsideLan,
          vrrp: entry.plan.vrrp,
        }),
      );
    });
  }
  for (const entry of pending) {
    if (results.has(entry.plan.vip)) continue;
    const anyUnreachable = entry.tried.some((why) => why.endsWith(' unreachable'));
    results.set(
      entry.plan.vip,
      arpNotChecked(entry.plan.vip, anyUnreachable ? 'not-run' : 'skipped', entry.directors, `no host could send ARP requests on ${entry.lanCidr}: ${entry.tried.join('; ')}`, {
        lan: entry.lanCidr,
      }),
    );
  }
  return plans.map((plan) => results.get(plan.vip) as ArpCheck);
}

/** host -> device -> facts, for every director that could be read; unreachable ones are absent. */
async function readDirectors(plans: readonly VipPlan[], pool: SessionPool): Promise<Map<string, Map<string, DeviceFacts>>> {
  const devices = new Map<string, Set<string>>();
  for (const plan of plans) {
    for (const { host, device } of plan.directors) devices.set(host, (devices.get(host) ?? new Set()).add(device));
  }
  const facts = new Map<string, Map<string, DeviceFacts>>();
  await Promise.all(
    [...devices.entries()].map(async ([host, set]) => {
      const list = [...set];
      const nonce = newNonce();
      const probes = list.map(deviceProbe);
      const run = await pool.run(host, 'director', readScript(nonce, probes));
      if (!run) return;
      const sections = parseReadSections(nonce, run.stdout, probes.length);
      facts.set(host, new Map(list.map((device, index) => [device, parseDeviceFacts(device, sections.get(index))])));
    }),
  );
  return facts;
}
