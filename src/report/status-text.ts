import type { DirectorStatus, ServerStatus, ServiceStatus } from '../status/model.js';
import type { HostStatus, StatusReport } from '../status/report.js';
import { describeVrrp } from '../status/vrrp.js';
import { columns } from './columns.js';

// `lvsprov status` for people: one block per host, drift first, then (for a director) its VIPs
// and a table per virtual service with every real server, live counters and why a server is out.

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

function hostHeading(host: HostStatus): string {
  const where = `${host.host}  ${host.address}`;
  if (!host.reachable) return `${where}  UNREACHABLE: ${host.error ?? ''}`;
  const drift = host.drift;
  if (!drift) return where;
  if (drift.state === 'in-sync') return `${where}  in sync`;
  if (drift.state === 'unknown') return `${where}  drift unknown: ${drift.error ?? ''}`;
  return `${where}  DRIFT: ${drift.changes.length} pending change${drift.changes.length === 1 ? '' : 's'}`;
}

export function renderHost(host: HostStatus): string[] {
  const lines = [hostHeading(host)];
  for (const change of host.drift?.changes ?? []) lines.push(`  ~ ${change.summary}    [${change.role ? `${change.role}: ` : ''}${change.task}]`);
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

export function renderStatus(report: StatusReport): string {
  return [statusSummary(report), ...report.hosts.flatMap((host) => ['', ...renderHost(host)])].join('\n');
}
