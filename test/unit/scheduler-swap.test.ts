import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { VirtualService } from '../../src/resources/ipvs/model.js';
import { holdNewConnections, swapScheduler } from '../../src/resources/ipvs/scheduler-swap.js';

// The scheduler swap's nftables hold for every kind of service, checked by the machine's own nft
// (`nft -c`: parsed and validated against the kernel, nothing loaded), and the snippet's status
// run through a real /bin/sh with stand-ins for nft and ipvsadm.

const base: VirtualService = { protocol: 'tcp', address: '198.51.100.50', port: 80, fwmark: 0, scheduler: 'wlc', options: [], realServers: [] };
const kinds: Record<string, VirtualService> = {
  tcp: base,
  udp: { ...base, protocol: 'udp', port: 53 },
  sctp: { ...base, protocol: 'sctp', port: 3868 },
  'tcp catch-all (port 0)': { ...base, port: 0 },
  ipv6: { ...base, address: '2001:db8::50' },
  fwmark: { ...base, protocol: 'fwmark', address: '', port: 0, fwmark: 7 },
};

/** The ruleset the snippet feeds to `nft -f -`. */
function ruleset(snippet: string): string {
  const quoted = /printf '%s\\n' '([\s\S]*?)' \| nft -f -/.exec(snippet)?.[1];
  if (quoted === undefined) throw new Error(`no ruleset in ${snippet}`);
  return quoted.replace(/'\\''/g, "'");
}

const hasNft = spawnSync('nft', ['--version']).status === 0 && process.getuid?.() === 0;

describe('scheduler swap hold', () => {
  for (const [kind, service] of Object.entries(kinds)) {
    it.skipIf(!hasNft && process.env.CI !== 'true')(`${kind}: nft accepts the hold`, () => {
      const rules = ruleset(swapScheduler(service, ['ipvsadm', '-E', '-t', 'x', '-s', 'rr']));
      const check = spawnSync('nft', ['-c', '-f', '-'], { input: rules, encoding: 'utf8' });
      expect(check.status, `${check.stderr}\n${rules}`).toBe(0);
    });
  }

  it('drops only new TCP connections of the service, by VIP and port, and lapses by itself', () => {
    const rules = ruleset(swapScheduler(base, ['ipvsadm', '-E', '-t', '198.51.100.50:80', '-s', 'rr']));
    expect(rules).toContain('meta l4proto tcp ip daddr . th dport @swapping tcp flags & (syn | ack) == syn drop;');
    expect(rules).toContain('add element inet lvsprov_scheduler_swap swapping { 198.51.100.50 . 80 timeout 10s }');
    expect(ruleset(swapScheduler(kinds.fwmark as VirtualService, ['ipvsadm']))).toContain('meta mark @swapping drop;');
  });

  it.skipIf(!hasNft && process.env.CI !== 'true')('several services of every kind held at once (a keepalived reload): nft accepts one set per kind', () => {
    const services = [...Object.values(kinds), { ...base, port: 443 }];
    const rules = ruleset(holdNewConnections(services, 'kill -HUP 1'));
    const check = spawnSync('nft', ['-c', '-f', '-'], { input: rules, encoding: 'utf8' });
    expect(check.status, `${check.stderr}\n${rules}`).toBe(0);
    expect(rules).toContain('add element inet lvsprov_scheduler_swap swapping { 198.51.100.50 . 80 timeout 10s }');
    expect(rules).toContain('add element inet lvsprov_scheduler_swap swapping { 198.51.100.50 . 443 timeout 10s }');
    expect(rules.match(/^ {2}set /gm)).toHaveLength(Object.keys(kinds).length);
  });

  const run = (nft: string, ipvsadm: string): { status: number | null; calls: string } => {
    const snippet = swapScheduler(base, ['ipvsadm', '-E', '-t', '198.51.100.50:80', '-s', 'rr']);
    const script = `log=$(mktemp); nft() { printf ' nft:%s' "$1" >>"$log"; cat >/dev/null; ${nft}; }\nipvsadm() { printf ' ipvsadm' >>"$log"; ${ipvsadm}; }\n(set -e\n${snippet}\n); rc=$?; echo "$rc$(cat "$log")"; rm -f "$log"`;
    const result = spawnSync('/bin/sh', ['-c', script], { encoding: 'utf8' });
    const [status = '', ...calls] = result.stdout.trim().split(' ');
    return { status: Number(status), calls: calls.join(' ') };
  };

  it('lifts the hold after the edit and has the edit\'s status, success or failure', () => {
    expect(run('return 0', 'return 0')).toEqual({ status: 0, calls: 'nft:delete nft:-f ipvsadm nft:delete' });
    expect(run('return 0', 'return 3')).toEqual({ status: 1, calls: 'nft:delete nft:-f ipvsadm nft:delete' });
  });

  it('edits bare where the hold cannot be taken', () => {
    expect(run('[ "$1" = delete ] && return 1; return 1', 'return 0')).toEqual({ status: 0, calls: 'nft:delete nft:-f ipvsadm' });
  });
});
