import type { ResolvedService } from '../config/lvs-model.js';
import type { CheckKind } from './report.js';

// What the answers of a service should look like when one client sends serial requests. Only rr
// and wrr promise a split; the others decide by connection counts or by hashing an address, and
// from a single client their split says little. Each kind names what is checked instead.

export interface Expectation {
  readonly kind: CheckKind;
  /** Expected percent per real server, in the service's order, where the kind judges shares. */
  readonly percents?: readonly number[];
  /** Shares shown for reference only (wlc), never judged. */
  readonly referencePercents?: readonly number[];
  readonly note: string;
}

export function expectationFor(service: ResolvedService, tolerance: number): Expectation {
  const weights = service.realServers.map((server) => server.weight);
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  const active = weights.filter((weight) => weight > 0).length;
  const byWeight = weights.map((weight) => (total === 0 ? 0 : (100 * weight) / total));
  const equal = weights.map((weight) => (weight > 0 ? 100 / active : 0));
  const within = `each server must be within ${formatPoints(tolerance)} of it`;

  if (service.persistence) {
    return {
      kind: 'one',
      note: `persistent (${service.persistence.timeout} s${service.persistence.netmask ? `, netmask ${service.persistence.netmask}` : ''}): one client sticks to one server, so every answer must come from the same server with weight > 0`,
    };
  }
  switch (service.scheduler) {
    case 'rr':
      return { kind: 'split', percents: equal, note: `rr: servers with weight > 0 take turns, so each gets an equal share; ${within}` };
    case 'wrr':
      return { kind: 'split', percents: byWeight, note: `wrr: the expected share is weight / sum of weights; ${within}` };
    case 'lc':
      return {
        kind: 'every',
        note: 'lc: picks the server with the fewest connections, not by weight; serial requests spread by leftover connections, so only that every server with weight > 0 answers is checked',
      };
    case 'wlc':
      return {
        kind: 'every',
        referencePercents: byWeight,
        note: 'wlc: connections / weight decides, and serial requests only approach the weight share (shown for reference); checked: every server with weight > 0 answers',
      };
    case 'sh':
    case 'mh':
    case 'dh':
    case 'lblc':
    case 'lblcr':
      return {
        kind: 'one',
        note: `${service.scheduler}: ${hashNote(service.scheduler)}, so every answer must come from one server with weight > 0`,
      };
    case 'fo':
      return { kind: 'highest', note: 'fo: every connection goes to the available server with the highest weight, so every answer must come from one of those' };
    default:
      // sed, nq, ovf: serial requests leave every server idle, and which idle server wins is an
      // implementation detail of the kernel, not something to hold an operator to.
      return {
        kind: 'any',
        note: `${service.scheduler}: with serial requests every server is idle and the choice among them is not by weight; checked: every answer comes from a server of this service with weight > 0`,
      };
  }
}

function hashNote(scheduler: string): string {
  if (scheduler === 'sh' || scheduler === 'mh') return 'the client address picks the server and one client sends every request';
  if (scheduler === 'dh') return 'the destination address picks the server and every request goes to the same VIP';
  return 'one destination keeps its server until that server is overloaded, which serial requests never make it';
}

export function formatPoints(points: number): string {
  return `${Number(points.toFixed(1))} percentage point${points === 1 ? '' : 's'}`;
}
