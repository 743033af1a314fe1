import { configWeights, weightKey } from './config-weights.js';
import type { KeepalivedSpec } from './schema.js';

// A director holds back a real server whose host failed to prepare in this run (HostContext
// .withheld): its VIP, tunnel or web server may be missing, and every request keepalived sent it
// would fail. keepalived's servers are lines of its config, so the config is written without the
// servers that would join at a withheld address; those already in the config stay, as they stay
// in a table lvsprov writes. A virtual server left with no real server is left out too: keepalived
// -t refuses one ("has no real servers"), and it had none before.

/** The addresses of the real servers `spec` adds to the config in `current` (the file's text, if any). */
export function joiningAddresses(spec: KeepalivedSpec, current: string | undefined): string[] {
  const present = configWeights(current ?? '');
  return [...new Set(spec.virtual_servers.flatMap((service) => service.real_servers.filter((server) => !present.has(weightKey(service, server))).map((server) => server.address)))];
}

/** `spec` without the real servers it would add at a `withheld` address. */
export function withoutWithheld(spec: KeepalivedSpec, current: string | undefined, withheld: ReadonlySet<string> | undefined): KeepalivedSpec {
  if (withheld === undefined || withheld.size === 0) return spec;
  const present = configWeights(current ?? '');
  const services = spec.virtual_servers.map((service) => ({
    ...service,
    real_servers: service.real_servers.filter((server) => present.has(weightKey(service, server)) || !withheld.has(server.address)),
  }));
  return { ...spec, virtual_servers: services.filter((service, index) => service.real_servers.length > 0 || spec.virtual_servers[index]!.real_servers.length === 0) };
}
