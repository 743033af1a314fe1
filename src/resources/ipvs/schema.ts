import { z } from 'zod';
import { ipv4, netmask, writtenFilePath } from '../../config/values.js';
import { hostPort, serviceName, type VirtualService } from './model.js';
import { schedulers } from './schedulers.js';

// The desired IPVS services. The cross-field rules are ipvsadm's own (ipvsadm.c
// process_options), caught here so that a mistake fails validation instead of an apply.

/** ipvsadm's MAX_TIMEOUT for -p: 31 days. */
const MAX_PERSISTENCE = 86400 * 31;

const port = z.number().int().min(0).max(65535);

/**
 * ipvsadm overwrites the port of a dr or tun server with the service port (the packet is not
 * rewritten), so a different port there would silently not happen; only nat maps ports.
 */
export function forwardedPortProblem(forwarding: 'dr' | 'tun' | 'nat', servicePort: number, serverPort: number | undefined): string | undefined {
  if (serverPort === undefined || serverPort === servicePort) return undefined;
  // A NAT real server's port 0 is the service's: the kernel keeps a connection's port where the
  // server's is 0, and keepalived writes the service port into its table, where lvsprov would
  // expect :0 (and two such entries of one server are one to keepalived).
  if (forwarding === 'nat') return serverPort === 0 ? `a real server port 0 means the service port ${servicePort} (the kernel keeps the connection's port, keepalived writes ${servicePort}): write ${servicePort}, or leave port out` : undefined;
  return `${forwarding} keeps the destination port: a real server port must equal the service port ${servicePort} (only nat forwarding maps ports)`;
}

const realServerSchema = z
  .object({
    address: ipv4,
    /** Defaults to the service port (0 for a firewall-mark service). */
    port: port.optional(),
    forwarding: z.enum(['dr', 'tun', 'nat']),
    // ipvsadm 1.31 parses -w with string_to_number(optarg, 0, 65535), though its man page says 2147483647.
    weight: z.number().int().min(0).max(65535).default(1),
  })
  .strict();

const serviceSchema = z
  .object({
    protocol: z.enum(['tcp', 'udp', 'fwmark']),
    address: ipv4.optional(),
    port: port.optional(),
    fwmark: z.number().int().min(1).max(4294967295).optional(),
    scheduler: z.enum(schedulers).default('wlc'),
    persistence: z
      .object({ timeout: z.number().int().min(1).max(MAX_PERSISTENCE).default(300), netmask: netmask.optional() })
      .strict()
      .optional(),
    state: z.enum(['present', 'absent']).default('present'),
    real_servers: z.array(realServerSchema).default([]),
  })
  .strict()
  .superRefine((service, ctx) => {
    const issue = (path: Array<string | number>, message: string): void => ctx.addIssue({ code: 'custom', path, message });
    if (service.protocol === 'fwmark') {
      if (service.fwmark === undefined) issue(['fwmark'], 'a fwmark service needs fwmark (1-4294967295)');
      if (service.address !== undefined) issue(['address'], 'a fwmark service has no address: the firewall mark selects its packets');
      if (service.port !== undefined && service.port !== 0)
        issue(['port'], 'a fwmark service matches every port of the marked packets; leave port out');
    } else {
      if (service.address === undefined) issue(['address'], `a ${service.protocol} service needs address (the VIP)`);
      if (service.port === undefined) issue(['port'], `a ${service.protocol} service needs port (0 for all ports)`);
      if (service.fwmark !== undefined) issue(['fwmark'], 'fwmark belongs to protocol: fwmark only');
      if (service.port === 0 && service.persistence === undefined)
        issue(['port'], 'port 0 (all ports) needs persistence: ipvsadm refuses a zero-port service that is not persistent');
    }
    const seen = new Set<string>();
    service.real_servers.forEach((server, index) => {
      const portProblem = service.protocol === 'fwmark' ? undefined : forwardedPortProblem(server.forwarding, service.port ?? 0, server.port);
      if (portProblem) issue(['real_servers', index, 'port'], portProblem);
      const name = hostPort(server.address, server.port ?? service.port ?? 0);
      if (seen.has(name)) issue(['real_servers', index], `duplicate real server ${name}`);
      seen.add(name);
    });
  });

export const ipvsSchema = z
  .object({
    services: z.array(serviceSchema),
    save_file: z.union([z.literal('auto'), writtenFilePath]).default('auto'),
    purge: z.boolean().default(false),
  })
  .strict()
  .superRefine((spec, ctx) => {
    const seen = new Set<string>();
    spec.services.forEach((service, index) => {
      const name = specServiceName(service);
      if (seen.has(name)) ctx.addIssue({ code: 'custom', path: ['services', index], message: `duplicate service ${name}` });
      seen.add(name);
    });
  });

export type IpvsSpec = z.output<typeof ipvsSchema>;
export type ServiceSpec = IpvsSpec['services'][number];

/** The table entry a present service spec asks for. */
export function desiredService(spec: ServiceSpec): VirtualService {
  const servicePort = spec.port ?? 0;
  const base = {
    protocol: spec.protocol,
    address: spec.address ?? '',
    port: servicePort,
    fwmark: spec.fwmark ?? 0,
    scheduler: spec.scheduler,
    options: [],
  };
  const persistence = spec.persistence && { timeout: spec.persistence.timeout, netmask: spec.persistence.netmask ?? '255.255.255.255' };
  return {
    ...base,
    ...(persistence ? { persistence } : {}),
    realServers: spec.real_servers.map((server) => ({
      address: server.address,
      port: server.port ?? servicePort,
      forwarding: server.forwarding,
      weight: server.weight,
      options: [],
    })),
  };
}

export function specServiceName(spec: ServiceSpec): string {
  return serviceName(desiredService(spec));
}
