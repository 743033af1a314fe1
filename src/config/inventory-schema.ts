import { z } from 'zod';
import { schedulers } from '../resources/ipvs/schedulers.js';
import { serverAliveDefaults } from '../transport/server-alive.js';
import { forwardedPortProblem } from '../resources/ipvs/schema.js';
import { haSchema, serviceHaFields } from './ha-schema.js';
import { sessionsSchema } from './sessions-schema.js';
import { clusterName, hostAddress, hostName, interfaceName, ipv4Subnet, loginName, netmaskField, serverIpv4, unicastIpv4, virtualServiceName, vipInterfaceName } from './values.js';

// The inventory: hosts and how to reach them, groups, variables at three levels, and the LVS model
// (VIPs, virtual services, real servers) as first-class data rather than free-form variables.

export { hostName };
const groupName = hostName;
/** The grammar of a variable name. */
export const variableNamePattern = /^[A-Za-z_][A-Za-z0-9_]*$/;
const varName = z.string().regex(variableNamePattern, 'must be a variable name (letters, digits, _)');
const variables = z.record(varName, z.unknown());
const port = z.number().int().min(1).max(65535);
/** Paths may start with ~ (the user's home) or be relative to the inventory file. */
const localPath = z.string().min(1).regex(/^[^\0\n]+$/, 'must be a file path');


export const sshSettingsSchema = z
  .object({
    user: loginName.optional().describe('login user (default: the local user, as ssh)'),
    port: port.optional().describe('SSH port (default 22)'),
    private_key: localPath.optional().describe('private key file; relative to the inventory, ~ allowed (default: each of ~/.ssh/id_rsa, id_ecdsa, id_ed25519 that exists, beside the agent, as ssh)'),
    passphrase_env: varName.optional().describe("environment variable holding the key's passphrase (never the passphrase itself)"),
    agent: z.boolean().optional().describe('use the ssh-agent at $SSH_AUTH_SOCK (default true when it is set)'),
    known_hosts: localPath.optional().describe('known_hosts file checked for host keys (default ~/.ssh/known_hosts)'),
    connect_timeout: z.number().positive().max(600).optional().describe('seconds to connect and authenticate (default 10)'),
    server_alive_interval: z
      .number()
      .int()
      .min(0)
      .max(3600)
      .optional()
      .describe(`seconds between SSH keepalives to a host that is silent (ServerAliveInterval; 0: none; default ${serverAliveDefaults.intervalMs / 1000})`),
    server_alive_count_max: z
      .number()
      .int()
      .min(0)
      .max(100)
      .optional()
      .describe(`unanswered keepalives after which the host is given up (ServerAliveCountMax; default ${serverAliveDefaults.countMax})`),
    become: z.boolean().optional().describe('run the scripts through `sudo -n` (for a non-root user)'),
    config_file: localPath
      .optional()
      .describe("OpenSSH client config read for the host's settings (default ~/.ssh/config; `none` reads none); -F wins"),
    jump: z
      .object({
        address: hostAddress,
        port: port.optional(),
        user: loginName.optional(),
        private_key: localPath.optional(),
        known_hosts: localPath.optional(),
      })
      .strict()
      .optional()
      .describe('reach the host through this SSH jump host, like ProxyJump'),
  })
  .strict();

export const hostSchema = z
  .object({
    address: hostAddress.describe('address SSH connects to; also the real server address unless a service says otherwise'),
    ssh: sshSettingsSchema.optional().describe('overrides of the top-level ssh settings for this host (same keys)'),
    groups: z.array(groupName).default([]).describe('groups this host belongs to (besides groups.<name>.hosts)'),
    vars: variables.default({}).describe('host variables (highest precedence)'),
  })
  .strict();

export const groupSchema = z
  .object({
    hosts: z.array(hostName).default([]).describe('member hosts'),
    vars: variables.default({}).describe('group variables (override cluster vars)'),
  })
  .strict();

const persistenceSchema = z.union([
  z.literal(true).transform(() => ({ timeout: 300 })),
  z.number().int().min(1).max(2_678_400).transform((timeout) => ({ timeout })),
  z
    .object({
      timeout: z.number().int().min(1).max(2_678_400).default(300),
      netmask: netmaskField.optional(),
    })
    .strict(),
]);

export const forwardingMethods = ['dr', 'tun', 'nat'] as const;

const realServerSchema = z
  .object({
    host: hostName.optional().describe('the inventory host that serves'),
    address: serverIpv4.optional().describe("real server address (default: the host's address)"),
    port: z.number().int().min(0).max(65535).optional().describe('real server port (default: the service port; NAT may map it)'),
    weight: z.number().int().min(0).max(65535).default(1).describe('scheduler weight; 0 takes the server out of rotation'),
  })
  .strict()
  .refine((server) => server.host !== undefined || server.address !== undefined, {
    message: 'a real server needs `host` (an inventory host) or `address`',
  });

export const serviceSchema = z
  .object({
    name: virtualServiceName.optional().describe('a name for messages, verify, status and graph (default: the protocol, VIP and port, `tcp-198.51.100.10-80`); one per service'),
    vip: z.string().min(1).optional().describe('a name from lvs.vips, or an IPv4 address'),
    protocol: z.enum(['tcp', 'udp', 'fwmark']).default('tcp').describe('ipvsadm -t, -u or -f'),
    port: z.number().int().min(0).max(65535).default(0).describe('virtual port; 0 = every port (needs persistence)'),
    fwmark: z.number().int().min(1).max(4_294_967_295).optional().describe('firewall mark, for protocol fwmark'),
    ports: z
      .array(port)
      .min(1)
      .optional()
      .describe("fwmark: the VIP's TCP ports whose packets the director marks (default: every port of the VIP)"),
    scheduler: z.enum(schedulers).default('wlc').describe('ipvsadm -s'),
    forwarding: z.enum(forwardingMethods).default('dr').describe('dr (-g, direct routing), tun (-i, IPIP tunnel) or nat (-m, masquerading)'),
    persistence: persistenceSchema.optional().describe('ipvsadm -p [-M]: true (300 s), seconds, or {timeout, netmask}'),
    directors: z.array(hostName).optional().describe('director hosts (default: the group directors)'),
    real_servers: z.array(realServerSchema).min(1, 'a virtual service needs at least one real server').describe('the real servers'),
    ...serviceHaFields,
  })
  .strict()
  .superRefine((service, ctx) => {
    if (service.protocol === 'fwmark' && service.fwmark === undefined)
      ctx.addIssue({ code: 'custom', path: ['fwmark'], message: 'a fwmark service needs `fwmark`' });
    if (service.protocol !== 'fwmark' && service.vip === undefined)
      ctx.addIssue({ code: 'custom', path: ['vip'], message: 'a tcp or udp service needs `vip`' });
    // The mark would be dropped (the service is keyed by VIP and port), which only the director
    // role's ipvs task would notice, per host, far from this line.
    if (service.protocol !== 'fwmark' && service.fwmark !== undefined)
      ctx.addIssue({ code: 'custom', path: ['fwmark'], message: 'only a fwmark service takes `fwmark`: set `protocol: fwmark` (and leave out `port`), or remove `fwmark`' });
    if (service.protocol !== 'fwmark' && service.ports !== undefined)
      ctx.addIssue({ code: 'custom', path: ['ports'], message: 'only a fwmark service takes `ports`; a tcp or udp service has one `port`' });
    if (service.protocol === 'fwmark' && service.ports !== undefined && service.vip === undefined)
      ctx.addIssue({ code: 'custom', path: ['ports'], message: '`ports` are ports of the VIP: set `vip` too' });
    if (service.protocol !== 'fwmark' && service.port === 0 && service.persistence === undefined)
      ctx.addIssue({ code: 'custom', path: ['port'], message: 'port 0 (all ports) needs persistence, as ipvsadm requires' });
    if (service.protocol !== 'fwmark') {
      service.real_servers.forEach((server, index) => {
        const message = forwardedPortProblem(service.forwarding, service.port, server.port);
        if (message) ctx.addIssue({ code: 'custom', path: ['real_servers', index, 'port'], message });
      });
    } else {
      // IPVS selects a fwmark service's packets by mark alone, and with dr or tun the destination
      // port stays the client's: keepalived -t refuses a port there ("has port specified").
      if (service.port !== 0)
        ctx.addIssue({ code: 'custom', path: ['port'], message: 'a fwmark service matches every port of the marked packets (its TCP ports are `ports`); leave port out' });
      if (service.forwarding !== 'nat')
        service.real_servers.forEach((server, index) => {
          if (server.port !== undefined && server.port !== 0)
            ctx.addIssue({ code: 'custom', path: ['real_servers', index, 'port'], message: `${service.forwarding} keeps the destination port: a real server of a fwmark service takes no port (only nat forwarding maps ports)` });
        });
    }
    // keepalived sends to the sorry server as to a real server (the service's lvs_method), so dr
    // and tun keep the client's port there too (keepalived -t refuses another one), and nat's port
    // 0 is the service's, as a real server's is; only a fwmark nat service's sorry port is free.
    const sorryPort = service.sorry_server?.port;
    if (sorryPort !== undefined && !(service.forwarding === 'nat' && service.protocol === 'fwmark')) {
      const message =
        service.protocol === 'fwmark'
          ? `${service.forwarding} keeps the destination port: the sorry server of a fwmark service takes no port (only nat forwarding maps ports)`
          : forwardedPortProblem(service.forwarding, service.port, sorryPort)?.replace('a real server port', 'the sorry server port');
      if (message) ctx.addIssue({ code: 'custom', path: ['sorry_server', 'port'], message });
    }
  });

const vipSchema = z
  .object({
    address: unicastIpv4.describe('the virtual IP'),
    interface: vipInterfaceName.optional().describe("director interface carrying the VIP, labelled <interface>:<the VIP in hex> (default: var vip_interface, else eth0)"),
    virtual_router_id: z.number().int().min(1).max(255).optional().describe('with lvs.ha: the VRRP id of this VIP when its directors differ from the other VIPs\' (default lvs.ha.virtual_router_id)'),
  })
  .strict();

export const inventorySchema = z
  .object({
    // It names the cluster's lab and its folder (.lab/NAME): `..` or `.` would be a folder of their own.
    name: clusterName.optional().describe('cluster name'),
    playbook: localPath.optional().describe('playbook used when -p is not given; relative to the inventory (default: the site playbook lvsprov ships)'),
    roles_path: z
      .array(localPath)
      .optional()
      .describe("folders searched for roles before the playbook's roles/ and the shipped roles; relative to the inventory"),
    ssh: sshSettingsSchema.default({}).describe('connection settings for every host'),
    vars: variables.default({}).describe('cluster variables (lowest precedence after role defaults)'),
    groups: z.record(groupName, groupSchema).default({}).describe('groups by name'),
    hosts: z.record(hostName, hostSchema).describe('hosts by inventory name'),
    networks: z
      .array(ipv4Subnet)
      .optional()
      .describe("the cluster's subnets in CIDR form, e.g. [192.0.2.0/24, 10.0.0.0/24]; with them, the lint checks that NAT real servers reach their gateway and DR real servers share a LAN with their director"),
    lvs: z
      .object({
        vips: z.record(hostName, vipSchema).default({}).describe('virtual IPs by name'),
        services: z.array(serviceSchema).default([]).describe('IPVS virtual services'),
        ha: haSchema.optional().describe('director pairs: keepalived holds the VIPs by VRRP (unicast between the directors) and the IPVS table'),
        sessions: sessionsSchema.optional().describe("the real servers' shared session store: memcached on some hosts, PHP's sessions kept there"),
      })
      .strict()
      .default({ vips: {}, services: [] })
      .describe('the LVS model'),
  })
  .strict();

export type InventoryInput = z.input<typeof inventorySchema>;
export type Inventory = z.output<typeof inventorySchema>;
export type HostEntry = z.output<typeof hostSchema>;
export type VirtualService = z.output<typeof serviceSchema>;
export type SshSettings = z.output<typeof sshSettingsSchema>;
