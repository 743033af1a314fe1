import type { RealServerRef } from '../resources/types.js';
import type { ServerStatus } from './model.js';
import type { HostStatus, StatusReport } from './report.js';

// Why a declared real server is missing from a director's table, told from the rest of the same
// refresh: a pending change of the director's that adds it (drift apply repairs), and the state
// of the host that serves it (unreachable, or not yet prepared: apply prepares it first and holds
// the addition back if that fails), or, where keepalived holds the table, its health check failing
// from the director too: keepalived took it out and puts it back itself once the check passes, so
// apply adds nothing. Pure: a report in, the same report with better reasons out.

const protocolOf: Record<string, string> = { '-t': 'TCP', '-u': 'UDP', '-f': 'FWM' };

/** ipvsadm's name for the service a change refers to, as status keys its services. */
function serviceKey(ref: RealServerRef): string {
  const [flag = '', value = ''] = ref.service;
  return `${protocolOf[flag] ?? flag} ${value}`;
}

function hostNote(host: HostStatus | undefined, checked: boolean): string {
  if (!host) return '';
  if (!host.reachable) return `; its host ${host.host} is unreachable`;
  const pending = host.drift?.state === 'drift' ? host.drift.changes.length : 0;
  const then = checked ? 'which apply makes' : 'which apply makes before adding it';
  return pending > 0 ? `; its host ${host.host} has ${pending} pending change${pending === 1 ? '' : 's'}, ${then}` : '';
}

const HEALTH_CHECK_DOWN = 'its health check fails (keepalived took it out, and puts it back once the check passes)';

export function explainAbsent(report: StatusReport): StatusReport {
  const byName = new Map(report.hosts.map((host) => [host.host, host]));
  const hosts = report.hosts.map((host): HostStatus => {
    if (!host.director) return host;
    const joins = new Set((host.drift?.changes ?? []).flatMap((change) => (change.joining ? [`${serviceKey(change.joining)} ${change.joining.server}`] : [])));
    const services = host.director.services.map((service) => ({
      ...service,
      servers: service.servers.map((server): ServerStatus => {
        if (server.state !== 'absent' || host.director?.table !== 'ok') return server;
        // By the note's reason, not its wording: the text is for people and may change.
        const checked = (host.drift?.notes ?? []).some(({ reason }) => reason?.kind === 'health-check-down' && reason.service === service.key && reason.server === server.endpoint);
        const pending = joins.has(`${service.key} ${server.endpoint}`) ? '; apply adds it (a pending change of this director)' : checked ? `; ${HEALTH_CHECK_DOWN}` : '';
        const note = `${pending}${hostNote(server.host !== undefined ? byName.get(server.host) : undefined, checked)}`;
        return note ? { ...server, why: `${server.why ?? 'not in the live table'}${note}` } : server;
      }),
    }));
    return { ...host, director: { ...host.director, services } };
  });
  return { ...report, hosts };
}
