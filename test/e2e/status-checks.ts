import { describe, expect } from 'vitest';
import { vipLabel } from '../../src/config/vip-label.js';
import type { StatusReport } from '../../src/status/report.js';
import { runCli } from '../support/cli.js';
import type { ClusterLab } from '../support/cluster-lab.js';

// `lvsprov status` against the DR lab's real IPVS, registered inside lab-modes.test.ts's DR block
// so that it reuses that guest instead of booting one of its own. The client holds slow
// downloads open through the VIP. Two witnesses that share nothing with lvsprov say how many each
// real server holds: the real servers' own sockets (ss inside each host) and the director's
// connection table (ipvsadm -L -n -c, ESTABLISHED entries); status must show exactly those as
// ActiveConn. In DR the director sees only the client's packets: a download keeps its entry
// ESTABLISHED because the client keeps acknowledging data (and answering window probes while its
// rate limit holds its window shut), far inside IPVS's 900 s established timeout.

type LabTest = (name: string, body: () => Promise<void>, timeoutMs: number) => void;

const VIP = '198.51.100.50';
const held = 6;
const RIPS = { rs1: '192.0.2.11', rs2: '192.0.2.12' } as const;

const established = (lab: ClusterLab, host: string): Promise<number> =>
  lab.sh(host, `ss -Htn state established '( sport = :80 )' dst 203.0.113.100 | wc -l`).then((text) => Number(text.trim()));
/** The client's side: its downloads' sockets to the VIP. */
const downloading = (lab: ClusterLab): Promise<number> =>
  lab.sh(lab.clientName, `ss -Htn state established '( dport = :80 )' dst ${VIP} | wc -l`).then((text) => Number(text.trim()));

/** The director's own count of ESTABLISHED entries per real server address for the VIP's port 80. */
async function directorEntries(lab: ClusterLab): Promise<{ text: string; byRip: Record<string, number> }> {
  const text = await lab.sh('director', 'ipvsadm -L -n -c');
  const byRip: Record<string, number> = {};
  for (const line of text.split('\n')) {
    // pro expire state       source             virtual            destination
    const [proto, , state, , virtual, destination] = line.trim().split(/\s+/);
    if (proto !== 'TCP' || state !== 'ESTABLISHED' || virtual !== `${VIP}:80`) continue;
    const rip = destination?.split(':')[0] ?? '';
    byRip[rip] = (byRip[rip] ?? 0) + 1;
  }
  return { text, byRip };
}

export function statusChecks(labIt: LabTest, get: () => { lab: ClusterLab; inventory: string }): void {
  describe('status', () => {
    labIt(`shows ${held} held downloads as ActiveConn on the real servers that hold them, the VIPs held, no drift; one connection and one read per host`, async () => {
      const { lab, inventory } = get();
      // A file the web server can never hand to the kernel whole: the socket's send buffer grows
      // to 4 MB (tcp_wmem), and a smaller file lets busybox httpd write it all and close, leaving
      // the socket in FIN-WAIT-1 behind the client's rate limit (still one live connection to the
      // director, no longer an established socket on the real server).
      for (const rs of ['rs1', 'rs2']) await lab.sh(rs, 'head -c 16000000 /dev/zero > /var/www/lvsprov/big');
      // Each download in a session of its own (setsid), its output nowhere, so that the end of the
      // ssh session that started it neither waits for it nor hangs it up.
      const curls = `for i in $(seq ${held}); do setsid sh -c 'echo $$ >> /tmp/status-curls.pid; exec curl -s -o /dev/null --limit-rate 1k http://${VIP}/big' </dev/null >/dev/null 2>&1 & done`;
      await lab.sh(lab.clientName, `rm -f /tmp/status-curls.pid; ${curls}`);
      try {
        let counts = { rs1: 0, rs2: 0 };
        let entries = { text: '', byRip: {} as Record<string, number> };
        const deadline = Date.now() + 180_000;
        while (Date.now() < deadline) {
          counts = { rs1: await established(lab, 'rs1'), rs2: await established(lab, 'rs2') };
          entries = await directorEntries(lab);
          if (counts.rs1 + counts.rs2 === held && (entries.byRip[RIPS.rs1] ?? 0) + (entries.byRip[RIPS.rs2] ?? 0) === held) break;
        }
        const client = await downloading(lab);
        const evidence = `client's sockets ${client}; real servers' sockets ${JSON.stringify(counts)}; director's table:\n${entries.text}`;
        expect(client, evidence).toBe(held);
        expect(counts.rs1 + counts.rs2, evidence).toBe(held);
        expect([entries.byRip[RIPS.rs1] ?? 0, entries.byRip[RIPS.rs2] ?? 0], evidence).toEqual([counts.rs1, counts.rs2]);

        const result = await runCli(['status', '-i', inventory, '--json']);
        expect(result.code, result.stderr).toBe(0);
        const report = JSON.parse(result.stdout) as StatusReport;
        expect(report.hosts.map((host) => [host.host, host.reachable, host.drift?.state, host.stats])).toEqual(
          ['router', 'director', 'rs1', 'rs2'].map((name) => [name, true, 'in-sync', { connections: 1, channels: 1, execs: 1 }]),
        );
        const director = report.hosts.find((host) => host.host === 'director')?.director;
        expect(director?.table).toBe('ok');
        expect(director?.vips.map((vip) => [vip.address, vip.held, vip.on])).toEqual([50, 51, 52, 53].map((last) => [`198.51.100.${last}`, true, vipLabel('eth0', `198.51.100.${last}`)]));
        const web = director?.services.find((service) => service.key === `TCP ${VIP}:80`);
        expect(
          web?.servers.map((server) => [server.host, server.state, server.weight, server.activeConns]),
          `${evidence}\nstatus: ${JSON.stringify(web)}`,
        ).toEqual([
          ['rs1', 'active', 1, counts.rs1],
          ['rs2', 'active', 3, counts.rs2],
        ]);
        expect(director?.services.every((service) => service.state === 'live')).toBe(true);

        // Quiesced by hand: status says so, with the drift apply would repair; the held
        // downloads stay where they are (weight 0 sends no new connection, ends none).
        await lab.sh('director', `ipvsadm -e -t ${VIP}:80 -r ${RIPS.rs1}:80 -g -w 0`);
        const text = await runCli(['status', '-i', inventory]);
        expect(text.code, text.stderr).toBe(0);
        expect(text.stdout).toMatch(/^lab-dr at \S+: 4\/4 hosts reached, 1 with drift, 1 real server out of rotation$/m);
        // Names and addresses are lined up across hosts: the spaces after each depend on the others.
        expect(text.stdout).toMatch(/^director +192\.0\.2\.10 +DRIFT: 1 pending change$/m);
        expect(text.stdout).toMatch(new RegExp(`^    rs1 +${RIPS.rs1.replace(/\./g, '\\.')}:80 +0 \\(1\\) +${counts.rs1} .* ! quiesced: weight 0 live, 1 in the inventory`, 'm'));
        await lab.sh('director', `ipvsadm -e -t ${VIP}:80 -r ${RIPS.rs1}:80 -g -w 1`);
      } finally {
        await lab.sh(lab.clientName, 'kill $(cat /tmp/status-curls.pid) 2>/dev/null; rm -f /tmp/status-curls.pid; true');
        for (const rs of ['rs1', 'rs2']) await lab.sh(rs, 'rm -f /var/www/lvsprov/big');
      }
    }, 600_000);
  });
}
