import { addressOnDevice } from './vip-bridge.js';

// After this director's priority 0 advert (a clean stop, or an instance put in FAULT), the next
// priority of the group takes its VIPs once its skew has passed: (256 - priority) / 256 s in VRRP
// v2 (keepalived 2.2.7's VRRP_TIMER_SKEW, whatever the advert interval), under a second. A reload
// of that peer before then restarts its master-down timer, three adverts and the skew, with the
// VIPs held nowhere: measured, a peer at priority 150 whose reload in the balance wave came 0.16 s
// after the advert took the VIPs 3.8 s later instead of 0.41 s. The peers reload in balance, right
// after the prepare wave where this director sends it, so the step that sends it waits out the
// longest skew where this director held any of those VIPs before.

/** The longest VRRP v2 skew (priority 1), 255/256 s, and room for a loaded peer to act on its timer. */
const LONGEST_SKEW_SECONDS = 1.3;

export interface HeldVip {
  readonly address: string;
  readonly prefix: number;
  readonly device: string;
}

/** Shell `{ a || b; }`: whether any of `vips` is on its device here; undefined for none. */
export function holdsAnyVip(vips: readonly HeldVip[]): string | undefined {
  const held = vips.map((vip) => addressOnDevice(`${vip.address}/${vip.prefix}`, vip.device));
  return held.length === 0 ? undefined : `{ ${held.join(' || ')}; }`;
}

/** Shell, before the priority 0 advert: whether this director holds any of `vips` (left in $ka_held). */
export function heldBeforeCommand(vips: readonly HeldVip[]): string {
  const any = holdsAnyVip(vips);
  return any === undefined ? 'ka_held=0' : `ka_held=0; if ${any}; then ka_held=1; fi`;
}

/** Shell, after it: where this director held a VIP, until the next priority took it (the longest skew). */
export const untilPeerSkewPassed = `if [ "$ka_held" = 1 ]; then sleep ${LONGEST_SKEW_SECONDS}; fi`;
