import { describe, expect, it } from 'vitest';
import { HostTally } from '../../src/cli/progress-tally.js';

// The one live line apply draws on a terminal with fewer rows than hosts.

describe('the live line that counts hosts', () => {
  it('counts hosts waiting, under way by phase, and done by outcome, as events come', () => {
    const tally = new HostTally(['a', 'b', 'c', 'd']);
    expect(tally.line()).toBe('4 hosts: 0 done; 4 waiting');
    tally.phase('a', 'connecting');
    tally.phase('b', 'connecting');
    tally.phase('a', 'reading');
    expect(tally.line()).toBe('4 hosts: 0 done; 2 under way (1 connecting, 1 reading); 2 waiting');
    tally.finished('a', 'ok');
    tally.phase('c', 'applying');
    tally.finished('b', 'unreachable');
    expect(tally.line()).toBe('4 hosts: 2 done (1 ok, 1 unreachable); 1 under way (1 applying); 1 waiting');
  });

  it('says the wave while the run is in one, and not once every host is done', () => {
    const tally = new HostTally(['dir1', 'rs1']);
    tally.waveStarted('prepare');
    tally.phase('rs1', 'applying');
    tally.finished('dir1', 'changed');
    expect(tally.line()).toBe('wave prepare: 2 hosts: 1 done (1 changed); 1 under way (1 applying)');
    tally.waveStarted('balance');
    tally.phase('rs1', 'draining');
    expect(tally.line()).toBe('wave balance: 2 hosts: 1 done (1 changed); 1 under way (1 draining)');
    tally.finished('rs1', 'would change');
    expect(tally.line()).toBe('2 hosts: 2 done (1 changed, 1 would change)');
  });

  it('counts a host the run opened on its way (a director dropped from a VRRP group)', () => {
    const tally = new HostTally(['a']);
    tally.finished('a', 'ok');
    tally.phase('dropped', 'applying');
    expect(tally.line()).toBe('2 hosts: 1 done (1 ok); 1 under way (1 applying)');
  });
});
