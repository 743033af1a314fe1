import type { EngineEvent } from '../engine/events.js';

// More hosts than the terminal has rows: a line per host would be drawn only to be cut at the
// screen's foot, so the live view is one line that counts the hosts by where they are. The
// recap on stdout still has a line per host. Counts are kept as events come, so drawing the line
// costs the same for ten hosts as for a thousand.

type Phase = Extract<EngineEvent, { type: 'host-phase' }>['phase'];

const PHASE_ORDER: readonly Phase[] = ['connecting', 'reading', 'planning', 'applying', 'draining'];

function bump<K>(counts: Map<K, number>, key: K, by: number): void {
  const count = (counts.get(key) ?? 0) + by;
  if (count === 0) counts.delete(key);
  else counts.set(key, count);
}

export class HostTally {
  private readonly hosts: Set<string>;
  private readonly phaseOf = new Map<string, Phase>();
  private readonly inPhase = new Map<Phase, number>();
  private readonly outcomes = new Map<string, number>();
  private done = 0;
  private wave: string | undefined;

  constructor(hosts: readonly string[]) {
    this.hosts = new Set(hosts);
  }

  /** The wave the run is in (a run that changes directors goes in waves: prepare, balance...). */
  waveStarted(phase: string): void {
    this.wave = phase;
  }

  phase(host: string, phase: Phase): void {
    this.hosts.add(host);
    const before = this.phaseOf.get(host);
    if (before) bump(this.inPhase, before, -1);
    this.phaseOf.set(host, phase);
    bump(this.inPhase, phase, 1);
  }

  /** A host's end, by the word its outcome goes by (`ok`, `changed`, `unreachable`...). */
  finished(host: string, outcome: string): void {
    this.hosts.add(host);
    const before = this.phaseOf.get(host);
    if (before) bump(this.inPhase, before, -1);
    this.phaseOf.delete(host);
    bump(this.outcomes, outcome, 1);
    this.done += 1;
  }

  /** `[wave balance: ]1000 hosts: 312 done (280 ok, 30 changed, 2 unreachable); 600 under way (400 reading, 200 applying); 88 waiting` */
  line(): string {
    const done = [...this.outcomes].map(([outcome, count]) => `${count} ${outcome}`);
    const underWay = PHASE_ORDER.filter((phase) => this.inPhase.has(phase)).map((phase) => `${this.inPhase.get(phase)} ${phase}`);
    const waiting = this.hosts.size - this.done - this.phaseOf.size;
    const over = this.done === this.hosts.size;
    const parts = [`${this.wave && !over ? `wave ${this.wave}: ` : ''}${this.hosts.size} hosts: ${this.done} done${done.length > 0 ? ` (${done.join(', ')})` : ''}`];
    if (this.phaseOf.size > 0) parts.push(`${this.phaseOf.size} under way (${underWay.join(', ')})`);
    if (waiting > 0) parts.push(`${waiting} waiting`);
    return parts.join('; ');
  }
}
