import type { DirectorStatus, ServerStatus, ServiceStatus } from '../status/model.js';
import type { HostStatus, StatusReport } from '../status/report.js';
import { describeVrrp } from '../status/vrrp.js';
import { columns } from './columns.js';
import { escapeControls } from './safe-text.js';

// `lvsprov status` for people: a line per host, drift first, then (for a director) its VIPs
// and a table per virtual service with every real server, live counters and why a server is out.
// Much of it the hosts said (labels, devices, errors, drift): every line is shown with its control
// characters escaped (safe-text.ts).

const mark: Record<ServerStatus['state'], string> = { active: '', quiesced: '! ', absent: '! ', undeclared: '? ' };

function weightCell(server: ServerStatus): string {
  if (server.weight === undefined) return `- (${server.declaredWeight ?? '-'})`;
  return server.declaredWeight !== undefined && server.declaredWeight !== server.weight ? `${server.weight} (${server.declaredWeight})` : String(server.weight);
}

const count = (value: number | undefined): string => (value === undefined ? '-' : String(value));

function serverRow(server: ServerStatus): string[] {
  return [
    server.host ?? '?',
    server.endpoint,
    weightCell(server),
    count(server.activeConns),
    count(server.inactiveConns),
    count(server.rate?.cps),
    count(server.rate?.inPps),
    count(server.rate?.outPps),
    `${mark[server.state]}${server.state}${server.why ? `: ${server.why}` : ''}`,
  ];
}

function serviceHeading(service: ServiceStatus): string {
  const persistence = service.persistence
    ? ` persistent${service.persistence.timeout !== undefined ? ` ${service.persistence.timeout}` : ''}${service.persistence.netmask ? ` mask ${service.persistence.netmask}` : ''}`
    : '';
  const parts = [service.key, service.name, `${service.scheduler ?? '?'}${persistence}`, service.forwarding].filter((part) => part !== undefined);
  const state = service.state === 'live' ? '' : service.state === 'absent' ? '  ! NOT IN THE LIVE TABLE' : '  ? not in the inventory';
  const rate = service.rate ? `  ${service.rate.cps} conn/s, ${service.rate.inPps} pkt/s in, ${service.rate.outPps} pkt/s out` : '';
  return `${parts.join('  ')}${state}${rate}`;
}

export function renderDirector(director: DirectorStatus): string[] {
  const lines: string[] = [];
  // A running VRRP backup holds none of its instance's VIPs by design: only elsewhere is that an alarm.
  const backupOf = new Set((director.vrrp ?? []).filter((instance) => instance.state === 'backup').flatMap((instance) => instance.notHeld));
  const vips = director.vips.map((vip) => `${vip.name ? `${vip.name} ` : ''}${vip.address} ${vip.held ? `held on ${vip.on ?? '?'}` : backupOf.has(vip.address) ? 'not held (VRRP backup)' : 'NOT HELD'}`);
  if (vips.length > 0) lines.push(`  VIPs: ${vips.join(', ')}`);
  for (const instance of director.vrrp ?? []) lines.push(`  ${describeVrrp(instance)}`);
  if (director.table === 'unreadable') lines.push(`  ! IPVS table unreadable: ${director.tableError ?? 'unknown reason'}`);
  else if (director.ratesError) lines.push(`  (no rates: ${director.ratesError})`);
  const header = ['server', 'endpoint', 'weight', 'active', 'inactive', 'conn/s', 'pkt/s in', 'pkt/s out', 'state'];
  for (const service of director.services) {
    lines.push(`  ${serviceHeading(service)}`);
    lines.push(...columns([header, ...service.servers.map(serverRow)], new Set([2, 3, 4, 5, 6, 7])).map((line) => `    ${line}`));
  }
  return lines;
}

/** A host's state after its name and address (which the caller lines up across hosts). */
function hostState(host: HostStatus): string {
  if (!host.reachable) return `UNREACHABLE: ${host.error ?? ''}`;
  const drift = host.drift;
  if (!drift) return '';
  if (drift.state === 'in-sync') return 'in sync';
  if (drift.state === 'unknown') return `drift unknown: ${drift.error ?? ''}`;
  return `DRIFT: ${drift.changes.length} pending change${drift.changes.length === 1 ? '' : 's'}`;
}

/** The lines under a host's heading: its pending changes, and a director's VIPs and tables. */
function hostDetails(host: HostStatus): string[] {
  const lines = (host.drift?.changes ?? []).map((change) => `  ~ ${change.summary}    [${change.role ? `${change.role}: ` : ''}${change.task}]`);
  if (host.director) lines.push(...renderDirector(host.director));
  return lines;
}

export function statusSummary(report: StatusReport): string {
  const reached = report.hosts.filter((host) => host.reachable).length;
  const drifted = report.hosts.filter((host) => host.drift?.state === 'drift').length;
  // Counted once per real server: a pair of directors lists each of them, often in several services.
  const out = new Set(
    report.hosts
      .flatMap((host) => host.director?.services ?? [])
      .flatMap((service) => service.servers)
      .filter((server) => server.state === 'quiesced' || server.state === 'absent')
      .map((server) => server.host ?? server.endpoint.replace(/:\d+$/, '')),
  ).size;
  return `${report.cluster ?? 'cluster'} at ${report.at}: ${reached}/${report.hosts.length} hosts reached, ${drifted} with drift, ${out} real server${out === 1 ? '' : 's'} out of rotation`;
}

/**
 * Hosts whose state fits on one line (a real server in sync, one unreachable) are listed one under
 * the other, names and addresses lined up, so a thousand of them read as a table; a host with
 * more to say (drift, a director's tables) stands apart between blank lines.
 */
export function renderStatus(report: StatusReport): string {
  const headings = columns(report.hosts.map((host) => [host.host, host.address, hostState(host)]));
  const lines = [statusSummary(report)];
  let previousHadDetails = true;
  report.hosts.forEach((host, index) => {
    const details = hostDetails(host);
    if (previousHadDetails || details.length > 0) lines.push('');
    lines.push(headings[index] as string, ...details);
    previousHadDetails = details.length > 0;
  });
  return lines.map(escapeControls).join('\n');
}
