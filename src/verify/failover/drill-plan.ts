import type { HaDirector, VrrpGroup } from '../../config/ha-model.js';

// What the drill will do to one VRRP instance, decided from what the directors showed before it
// touches anything: the master (the one director holding the instance's VIPs, with keepalived
// running), the backup VRRP will elect (the running one with the highest priority), and whether
// the master takes the VIPs back when it returns (preemption: it outranks the backup and has no
// nopreempt). Anything else (no master, two, a master whose keepalived is gone, no running
// backup) is a refusal: stopping keepalived then would not be a drill but an outage.

export interface DirectorSeen {
  readonly host: string;
  /** The instance's VIPs this director has on its interfaces now. */
  readonly holds: readonly string[];
  /** Whether keepalived runs there; undefined when the director could not be read. */
  readonly running?: boolean;
  readonly error?: string;
}

export type DrillStep =
  /** Stop keepalived on the host through its service; a measured phase starts here. */
  | { readonly kind: 'stop'; readonly host: string }
  /** Start it again; the second measured phase starts here. */
  | { readonly kind: 'start'; readonly host: string }
  /** Wait until `holder` alone holds the VIPs and a request sent after that is answered. */
  | { readonly kind: 'await-holder'; readonly holder: string }
  /** nopreempt: wait until `host` runs keepalived again while `holder` keeps the VIPs. */
  | { readonly kind: 'await-standby'; readonly host: string; readonly holder: string }
  /** Let the stream run on, then judge the phase: `holder` must hold the VIPs alone. */
  | { readonly kind: 'check'; readonly holder: string };

export interface DrillPlan {
  readonly instance: string;
  readonly vips: readonly string[];
  readonly master: HaDirector;
  readonly backup: HaDirector;
  readonly preempts: boolean;
  readonly steps: readonly DrillStep[];
}

export type DrillDecision = { readonly plan: DrillPlan } | { readonly refused: string };

export function instanceName(group: Pick<VrrpGroup, 'virtualRouterId'>): string {
  return `VI_${group.virtualRouterId}`;
}

export function planDrill(group: VrrpGroup, seen: readonly DirectorSeen[]): DrillDecision {
  const vips = group.vips.map((vip) => vip.address);
  const unread = seen.filter((director) => director.running === undefined);
  if (unread.length > 0) return { refused: `cannot read ${unread.map((d) => `${d.host} (${d.error ?? 'unreachable'})`).join(', ')}: the drill needs to see every director first` };
  const holders = seen.filter((director) => director.holds.length > 0);
  if (holders.length === 0) return { refused: `no director holds ${vips.join(', ')}: no VRRP master to fail over (is keepalived running on ${seen.map((d) => d.host).join(', ')}?)` };
  if (holders.length > 1) return { refused: `split brain: ${holders.map((d) => d.host).join(' and ')} hold ${vips.join(', ')} at once; fix that before a drill` };
  const holder = holders[0] as DirectorSeen;
  const missing = vips.filter((vip) => !holder.holds.includes(vip));
  if (missing.length > 0) return { refused: `${holder.host} holds ${holder.holds.join(', ')} but not ${missing.join(', ')}: the instance is half moved` };
  if (!holder.running) return { refused: `${holder.host} has ${vips.join(', ')} on its interfaces but keepalived is not running there (left by a killed keepalived?): there is no VRRP master to stop` };
  const master = group.directors.find((director) => director.host === holder.host);
  if (!master) return { refused: `${holder.host} holds ${vips.join(', ')} but is not a director of VRRP instance ${instanceName(group)}` };
  const standing = group.directors.filter((director) => director.host !== master.host && seen.find((d) => d.host === director.host)?.running === true);
  const backup = [...standing].sort((a, b) => b.priority - a.priority)[0];
  if (!backup) {
    const others = group.directors.filter((director) => director.host !== master.host).map((director) => director.host);
    return { refused: `keepalived runs on no backup (${others.join(', ')}): stopping it on ${master.host} would leave ${vips.join(', ')} with no holder` };
  }
  const preempts = !master.nopreempt && master.priority > backup.priority;
  const steps: DrillStep[] = [
    { kind: 'stop', host: master.host },
    { kind: 'await-holder', holder: backup.host },
    { kind: 'check', holder: backup.host },
    { kind: 'start', host: master.host },
    preempts ? { kind: 'await-holder', holder: master.host } : { kind: 'await-standby', host: master.host, holder: backup.host },
    { kind: 'check', holder: preempts ? master.host : backup.host },
  ];
  return { plan: { instance: instanceName(group), vips, master, backup, preempts, steps } };
}
