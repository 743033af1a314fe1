import { z } from 'zod';
import { addressLabel, hostName, interfaceName, ipv4, netmask, writtenFilePath } from '../../config/values.js';
import { healthCheckSchema } from '../../config/ha-schema.js';
import { schedulers } from '../ipvs/schedulers.js';
import { PLAIN_WORD } from './config-text.js';

// The keepalived task: what one director's keepalived holds, VRRP instances and virtual servers,
// as data. The director role fills it from the LVS model (director_keepalived); config-text.ts
// turns it into keepalived.conf. Every field has a grammar keepalived's parser reads as one word.

/** A word keepalived's parser takes as is: no space, quote, brace, comment sign, `$` or `@`. */
const vrrpName = z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,31}$/, 'must be a keepalived name (letters, digits, _)');
const port = z.number().int().min(0).max(65535);

const vipSchema = z
  .object({
    address: ipv4,
    prefix: z.number().int().min(1).max(32).default(32),
    device: interfaceName,
    // The kernel keeps a label in 15 bytes; keepalived -t drops a longer one and its address.
    label: addressLabel.max(15).optional(),
  })
  .strict();

const instanceSchema = z
  .object({
    name: vrrpName,
    virtual_router_id: z.number().int().min(1).max(255),
    interface: interfaceName,
    state: z.enum(['MASTER', 'BACKUP']),
    priority: z.number().int().min(1).max(254),
    nopreempt: z.boolean().default(false),
    unicast_src_ip: ipv4,
    unicast_peers: z.array(ipv4).min(1),
    vips: z.array(vipSchema).min(1),
  })
  .strict()
  .refine((instance) => !(instance.nopreempt && instance.state === 'MASTER'), { message: 'nopreempt needs state BACKUP', path: ['nopreempt'] });

const realServerSchema = z
  .object({
    address: ipv4,
    port,
    weight: z.number().int().min(0).max(65535),
  })
  .strict();

export const virtualServerSchema = z
  .object({
    protocol: z.enum(['tcp', 'udp', 'fwmark']),
    address: ipv4.optional(),
    port,
    fwmark: z.number().int().min(1).max(4294967295).optional(),
    scheduler: z.enum(schedulers),
    forwarding: z.enum(['dr', 'tun', 'nat']),
    persistence: z.object({ timeout: z.number().int().min(1).max(2678400), netmask: netmask.optional() }).strict().optional(),
    real_servers: z.array(realServerSchema),
    health_check: healthCheckSchema.optional(),
    inhibit_on_failure: z.boolean().default(false),
    sorry_server: z.object({ address: ipv4, port }).strict().optional(),
    quorum: z.number().int().min(1).max(2147483647).optional(),
  })
  .strict()
  .superRefine((server, ctx) => {
    if (server.protocol === 'fwmark' ? server.fwmark === undefined : server.address === undefined)
      ctx.addIssue({ code: 'custom', message: server.protocol === 'fwmark' ? 'a fwmark virtual server needs fwmark' : 'a tcp or udp virtual server needs address' });
    if (server.health_check && server.protocol === 'udp') ctx.addIssue({ code: 'custom', path: ['health_check'], message: 'health checks need a TCP service' });
  });

export const keepalivedSchema = z
  .object({
    // Written into the config itself too (the leave flag's track_file): a plain word there.
    path: writtenFilePath.pipe(z.string().regex(PLAIN_WORD, 'must be a path keepalived reads as one word: letters, digits and . _ / : % ? = & + , ~ -')).default('/etc/keepalived/keepalived.conf'),
    /**
     * The director's name in keepalived's logs and adverts' notifications (global_defs router_id).
     * Without it every keepalived process, `keepalived -t` included, looks its host name up
     * (getaddrinfo) to name itself: on a host whose name no resolver answers, a 5 s DNS timeout on
     * every config test and start.
     */
    router_id: hostName.optional(),
    advert_interval: z.number().int().min(1).max(255).default(1),
    garp: z
      .object({
        master_delay: z.number().int().min(0).max(255).optional(),
        master_repeat: z.number().int().min(1).max(255).optional(),
        master_refresh: z.number().int().min(0).max(86400).optional(),
        lower_prio_repeat: z.number().int().min(0).max(255).optional(),
      })
      .strict()
      .default({}),
    instances: z.array(instanceSchema).default([]),
    /** Instances that fail over together (a NAT VIP and its gateway), by name. */
    sync_groups: z.array(z.object({ name: vrrpName, instances: z.array(vrrpName).min(2) }).strict()).default([]),
    virtual_servers: z.array(virtualServerSchema).default([]),
  })
  .strict()
  .superRefine((spec, ctx) => {
    const names = new Set(spec.instances.map((instance) => instance.name));
    spec.sync_groups.forEach((group, index) => {
      group.instances.forEach((name, i) => {
        if (!names.has(name)) ctx.addIssue({ code: 'custom', path: ['sync_groups', index, 'instances', i], message: `no instance named ${name}` });
      });
    });
  });

export type KeepalivedSpec = z.output<typeof keepalivedSchema>;
export type KeepalivedVirtualServer = KeepalivedSpec['virtual_servers'][number];
