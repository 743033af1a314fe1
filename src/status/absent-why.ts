import type { RealServerRef } from '../resources/types.js';
import type { ServerStatus } from './model.js';
import type { HostStatus, StatusReport } from './report.js';

// Why a declared real server is missing from a director's table, told from the rest of the same
// refresh: a pending change of the director's that adds it (drift apply repairs), and the state
// of the host that serves it (unreachable, or not yet prepared: apply prepares it first and holds
// the addition back if that fails). Pure: a report in, the same report with better reasons out.

const protocolOf: Record<string, string> = { '-t': 'TCP', '-u': 'UDP', '-f': 'FWM' };

/** ipvsadm's name for the service a change refers to, as status keys its services. */
function serviceKey(ref: RealServerRef): string {
  const [flag = '', value = ''] = ref.service;
  return `${protocolOf[flag] ?? flag} ${value}`;
}

function hostNote(host: HostStatus | undefined): string {
  if (!host) return '';
  if (!host.reachable) return `; its host ${host.host} is unreachable`;
  const pending = host.drift?.state === 'drift' ? host.drift.changes.length : 0;
  return pending > 0 ? `; its host ${host.host} has ${pending} pending change${pending === 1 ? '' : 's'}, which apply makes before adding it` : '';
}

export function explainAbsent(report: StatusReport): StatusReport {
  const byName = new Map(report.hosts.map((host) => [host.host, host]));
  const hosts = report.hosts.map((host): HostStatus => {
    if (!host.director) return host;
    const joins = new Set((host.drift?.changes ?? []).flatMap((change) => (change.joining ? [`${serviceKey(change.joining)} ${change.joining.server}`] : [])));
    const services = host.director.services.map((service) => ({
      ...service,
      servers: service.servers.map((server): ServerStatus => {
        if (server.state !== 'absent' || host.director?.table !== 'ok') return server;
        const pending = joins.has(`${service.key} ${server.endpoint}`) ? '; apply adds it (a pending change of this director)' : '';
        const note = `${pending}${hostNote(server.host !== undefined ? byName.get(server.host) : undefined)}`;
        return note ? { ...server, why: `${server.why ?? 'not in the live table'}${note}` } : server;
      }),
    }));
    return { ...host, director: { ...host.director, services } };
  });
  return { ...report, hosts };
}
