import { virtualServerHead } from './config-text.js';
import { configWeights, weightKey } from './config-weights.js';
import type { KeepalivedSpec, KeepalivedVirtualServer } from './schema.js';

// A director holds back a real server whose host failed to prepare in this run (HostContext
// .withheld): its VIP, tunnel or web server may be missing, and every request keepalived sent it
// would fail. keepalived's servers are lines of its config, so the config is written without the
// servers that would join at a withheld address; those already in the config stay, as they stay
// in a table lvsprov writes, but send them no new connection where the change needs their host
// ready: at weight 0 if they were, and at weight 0 under a new forwarding method (keepalived's
// lvs_method is the virtual server's: the others switch, this one drains by its old method). A
// virtual server left with no real server is left out too: keepalived -t refuses one ("has no
// real servers"), and it had none before.

/** The real servers of a config as lvsprov writes it: each one's weight, each virtual server's lvs_method. */
export interface ConfiguredServers {
  readonly weights: ReadonlyMap<string, number>;
  readonly methods: ReadonlyMap<string, string>;
}

/**
 * What the config in `current` (the file's text, if any) holds of its real servers, read once for
 * a plan and only when asked: withoutWithheld asks nothing where no server is withheld.
 */
export function configuredServers(current: string | undefined): ConfiguredServers {
  let weights: ReadonlyMap<string, number> | undefined;
  let methods: ReadonlyMap<string, string> | undefined;
  return {
    get weights() {
      return (weights ??= configWeights(current ?? ''));
    },
    get methods() {
      return (methods ??= configMethods(current ?? ''));
    },
  };
}

/** Whether a virtual server of the config forwards by another method than `service` asks. */
function switchesMethod(configured: ConfiguredServers, service: KeepalivedVirtualServer): boolean {
  const method = configured.methods.get(virtualServerHead(service).join(' '));
  return method !== undefined && method !== service.forwarding;
}

/**
 * The addresses of the real servers `spec` asks more of than the config does: added, raised from
 * weight 0, or under a new forwarding method.
 */
export function joiningAddresses(spec: KeepalivedSpec, configured: ConfiguredServers): string[] {
  const asksMore = (service: KeepalivedVirtualServer, server: KeepalivedVirtualServer['real_servers'][number]): boolean => {
    const weight = configured.weights.get(weightKey(service, server));
    return weight === undefined || (weight === 0 && server.weight > 0) || (switchesMethod(configured, service) && server.weight > 0);
  };
  return [...new Set(spec.virtual_servers.flatMap((service) => service.real_servers.filter((server) => asksMore(service, server)).map((server) => server.address)))];
}

/** Each virtual server's lvs_method in a config as lvsprov writes it, by its head line. */
function configMethods(text: string): Map<string, string> {
  const methods = new Map<string, string>();
  let head: string | undefined;
  for (const raw of text.split('\n')) {
    const words = raw.trim().split(/\s+/);
    if (words[0] === 'virtual_server' && words.at(-1) === '{') head = words.slice(0, -1).join(' ');
    else if (head !== undefined && words[0] === 'lvs_method' && words[1] !== undefined) {
      methods.set(head, words[1].toLowerCase());
      head = undefined;
    }
  }
  return methods;
}

/**
 * `spec` without what it would ask of the real servers at a `withheld` address (above). In a
 * fwmark virtual server whose marks come to cover a new address (`gainingMarks`), a DR or TUN one
 * goes to weight 0 too: keepalived's IPVS service sends every marked address to every server.
 */
export function withoutWithheld(spec: KeepalivedSpec, configured: ConfiguredServers, withheld: ReadonlySet<string> | undefined, gainingMarks: ReadonlySet<number> = new Set()): KeepalivedSpec {
  if (withheld === undefined || withheld.size === 0) return spec;
  const services = spec.virtual_servers.map((service) => ({
    ...service,
    real_servers: service.real_servers.flatMap((server) => {
      const weight = configured.weights.get(weightKey(service, server));
      if (!withheld.has(server.address)) return [server];
      if (weight === undefined) return [];
      const newAddress = service.protocol === 'fwmark' && service.fwmark !== undefined && gainingMarks.has(service.fwmark) && service.forwarding !== 'nat';
      return [{ ...server, weight: weight === 0 || switchesMethod(configured, service) || newAddress ? 0 : server.weight }];
    }),
  }));
  return { ...spec, virtual_servers: services.filter((service, index) => service.real_servers.length > 0 || spec.virtual_servers[index]!.real_servers.length === 0) };
}
