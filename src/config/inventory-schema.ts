import { z } from 'zod';
import { interfaceName, ipv4, netmask } from './values.js';

// The inventory: hosts and how to reach them, groups, variables at three levels, and the LVS model
// (VIPs, virtual services, real servers) as first-class data rather than free-form variables.

export const hostName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'must be a host name (letters, digits, _ . -)');
const groupName = hostName;
const varName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a variable name (letters, digits, _)');
const variables = z.record(varName, z.unknown());
const port = z.number().int().min(1).max(65535);
/** Paths may start with ~ (the user's home) or be relative to the inventory file. */
const localPath = z.string().min(1).regex(/^[^\0\n]+$/, 'must be a file path');

export const sshSettingsSchema = z
  .object({
    user: z.string().regex(/^[a-z_][a-z0-9_.-]*$/i, 'must be a user name').optional(),
    port: port.optional(),
    private_key: localPath.optional(),
    /** The key's passphrase is read from this environment variable, never from the inventory. */
    passphrase_env: varName.optional(),
    /** Use the agent at $SSH_AUTH_SOCK. */
    agent: z.boolean().optional(),
    known_hosts: localPath.optional(),
    connect_timeout: z.number().positive().max(600).optional(),
    /** Run the read and apply scripts through `sudo -n` (for a non-root user). */
    become: z.boolean().optional(),
    /** Reach the host through this SSH jump host (like ProxyJump). */
    jump: z
      .object({
        address: z.string().min(1),
        port: port.optional(),
        user: z.string().optional(),
        private_key: localPath.optional(),
        known_hosts: localPath.optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export const hostSchema = z
  .object({
    address: z.string().min(1, 'must be an address or DNS name').regex(/^[A-Za-z0-9.:-]+$/, 'must be an address or DNS name'),
    ssh: sshSettingsSchema.optional(),
    groups: z.array(groupName).default([]),
    vars: variables.default({}),
  })
  .strict();

export const groupSchema = z
  .object({
    hosts: z.array(hostName).default([]),
    vars: variables.default({}),
  })
  .strict();

const persistenceSchema = z.union([
  z.literal(true).transform(() => ({ timeout: 300 })),
  z.number().int().min(1).max(2_678_400).transform((timeout) => ({ timeout })),
  z
    .object({
      timeout: z.number().int().min(1).max(2_678_400).default(300),
      netmask: netmask.optional(),
    })
    .strict(),
]);

export const schedulers = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh'] as const;
export const forwardingMethods = ['dr', 'tun', 'nat'] as const;

const realServerSchema = z
  .object({
    /** The inventory host that serves; its address is the real server address unless `address` is given. */
    host: hostName.optional(),
    address: ipv4.optional(),
    port: z.number().int().min(0).max(65535).optional(),
    weight: z.number().int().min(0).max(65535).default(1),
  })
  .strict()
  .refine((server) => server.host !== undefined || server.address !== undefined, {
    message: 'a real server needs `host` (an inventory host) or `address`',
  });

export const serviceSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'must be a name (letters, digits, _ . -)').optional(),
    vip: z.string().min(1).optional(),
    protocol: z.enum(['tcp', 'udp', 'fwmark']).default('tcp'),
    port: z.number().int().min(0).max(65535).default(0),
    fwmark: z.number().int().min(1).max(4_294_967_295).optional(),
    scheduler: z.enum(schedulers).default('wlc'),
    forwarding: z.enum(forwardingMethods).default('dr'),
    persistence: persistenceSchema.optional(),
    /** Director hosts; defaults to every host of the group `directors`. */
    directors: z.array(hostName).optional(),
    real_servers: z.array(realServerSchema).min(1, 'a virtual service needs at least one real server'),
  })
  .strict()
  .superRefine((service, ctx) => {
    if (service.protocol === 'fwmark' && service.fwmark === undefined)
      ctx.addIssue({ code: 'custom', path: ['fwmark'], message: 'a fwmark service needs `fwmark`' });
    if (service.protocol !== 'fwmark' && service.vip === undefined)
      ctx.addIssue({ code: 'custom', path: ['vip'], message: 'a tcp or udp service needs `vip`' });
    if (service.protocol !== 'fwmark' && service.port === 0 && service.persistence === undefined)
      ctx.addIssue({ code: 'custom', path: ['port'], message: 'port 0 (all ports) needs persistence, as ipvsadm requires' });
  });

const vipSchema = z
  .object({
    address: ipv4,
    /** The director's interface that carries the VIP (label <interface>:<n>). */
    interface: interfaceName.optional(),
  })
  .strict();

export const inventorySchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_.-]+$/).optional(),
    ssh: sshSettingsSchema.default({}),
    vars: variables.default({}),
    groups: z.record(groupName, groupSchema).default({}),
    hosts: z.record(hostName, hostSchema),
    lvs: z
      .object({
        vips: z.record(hostName, vipSchema).default({}),
        services: z.array(serviceSchema).default([]),
      })
      .strict()
      .default({ vips: {}, services: [] }),
  })
  .strict();

export type InventoryInput = z.input<typeof inventorySchema>;
export type Inventory = z.output<typeof inventorySchema>;
export type HostEntry = z.output<typeof hostSchema>;
export type VirtualService = z.output<typeof serviceSchema>;
export type SshSettings = z.output<typeof sshSettingsSchema>;
