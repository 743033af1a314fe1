import { z } from 'zod';
import { hostName, networkInterfaceName, serverIpv4, unicastIpv4, vipInterfaceName } from './values.js';

// The inventory's high-availability keys: `lvs.ha` (director pairs that hand VIPs over by VRRP,
// through keepalived) and, per virtual service, keepalived's health checks, sorry server and
// quorum. Every value here ends up in keepalived.conf, so each one is held to a grammar that
// keepalived's parser reads as one plain word (no quote, brace, comment or `$` character).

const vrid = z.number().int().min(1).max(255);
const seconds = (max: number): z.ZodNumber => z.number().int().min(1).max(max);

const haDirectorSchema = z
  .object({
    priority: z.number().int().min(1).max(254).optional().describe('VRRP priority 1-254, highest holds the VIPs (default 150, 140, 130 ... in director order)'),
    state: z.enum(['master', 'backup']).optional().describe('initial VRRP state (default: master for the director of a VIP with the highest priority, unless another is set to master; backup for the others)'),
    nopreempt: z.boolean().optional().describe('do not take the VIPs back from a lower-priority master (needs state backup)'),
  })
  .strict();

export const haSchema = z
  .object({
    virtual_router_id: vrid.describe('VRRP virtual router id 1-255 of the VIPs (one instance per set of VIPs with the same directors, at most 255 VIPs each: a VRRP advert lists no more, and keepalived refuses the config); unique on the LAN'),
    // VRRP version 2 (keepalived's default) counts adverts in whole seconds.
    advert_interval: z.number().int().min(1).max(255).default(1).describe('seconds between VRRP adverts; the backup takes over after about 3 of them'),
    interface: vipInterfaceName.optional().describe("VRRP interface, and the device of the VIPs without their own `interface` (default: the director's vip_interface, else eth0; VRRP then runs on it unless every VIP of the instance names another). The device must hold the director's inventory address, VRRP's unicast source: an apply refuses an instance on another device, whose adverts its peers would never hear"),
    directors: z.record(hostName, haDirectorSchema).default({}).describe('per director: priority, state, nopreempt'),
    garp: z
      .object({
        master_delay: z.number().int().min(0).max(255).optional().describe('seconds after becoming master before the second burst of gratuitous ARPs (keepalived default 5)'),
        master_repeat: z.number().int().min(1).max(255).optional().describe('gratuitous ARPs per burst (keepalived default 5)'),
        master_refresh: z.number().int().min(0).max(86400).optional().describe('seconds between gratuitous ARPs while master; 0 = off (default)'),
        lower_prio_repeat: z.number().int().min(0).max(255).optional().describe('gratuitous ARPs sent when a lower-priority advert is seen'),
      })
      .strict()
      .optional()
      .describe('gratuitous ARP settings, so the router learns the new master fast'),
    gateway: z
      .object({
        address: unicastIpv4.describe('the inside address NAT real servers route through; it moves with the VIPs'),
        interface: networkInterfaceName.describe("the directors' inside interface"),
        virtual_router_id: vrid.describe('VRRP id of the gateway instance (synced with the VIPs)'),
        prefix: z.number().int().min(1).max(32).default(24).describe('prefix length of the gateway address on the inside network'),
      })
      .strict()
      .optional()
      .describe('NAT: the floating inside gateway (DIP) of the real servers, in a vrrp_sync_group with the VIPs'),
  })
  .strict();

/** A URL path keepalived's parser reads as one word and an HTTP request line carries as is. */
const httpPath = z
  .string()
  .regex(/^\/[A-Za-z0-9._~/%?=&+,:-]*$/, 'must be a URL path starting with / (letters, digits and . _ ~ / % ? = & + , : -)')
  .max(512);

export const healthCheckSchema = z
  .object({
    type: z.enum(['http', 'tcp']).describe('http: HTTP_GET of `path`; tcp: a TCP connect'),
    path: httpPath.optional().describe('http: the URL path requested (default /)'),
    expect_status: z.number().int().min(100).max(599).optional().describe('http: the status code that means healthy (default 200)'),
    port: z.number().int().min(1).max(65535).optional().describe("port checked (default: the real server's port); needed for fwmark and port-0 services"),
    interval: seconds(3600).default(5).describe('seconds between checks (delay_loop)'),
    timeout: seconds(600).default(3).describe('seconds a check may take (connect_timeout)'),
    retries: z.number().int().min(1).max(100).default(2).describe('failed checks in a row before the real server leaves the table'),
  })
  .strict()
  .superRefine((check, ctx) => {
    if (check.type === 'tcp' && check.path !== undefined) ctx.addIssue({ code: 'custom', path: ['path'], message: 'a tcp check has no path; use type: http' });
    if (check.type === 'tcp' && check.expect_status !== undefined)
      ctx.addIssue({ code: 'custom', path: ['expect_status'], message: 'a tcp check has no status; use type: http' });
  });

export const sorryServerSchema = z
  .object({
    address: serverIpv4.describe('where requests go when no real server is up'),
    port: z.number().int().min(1).max(65535).optional().describe('its port (default: the service port)'),
  })
  .strict();

/** The per-service keys; merged into the service schema. */
export const serviceHaFields = {
  health_check: healthCheckSchema.optional().describe('keepalived checks each real server and takes a failing one out of the table'),
  inhibit_on_failure: z.boolean().optional().describe('a failing real server stays in the table at weight 0 instead of leaving it'),
  sorry_server: sorryServerSchema.optional().describe('keepalived sends requests here while no real server is up'),
  quorum: z.number().int().min(1).max(2_147_483_647).optional().describe('least total weight of live real servers; below it the sorry server takes over'),
};

export type HaSettings = z.output<typeof haSchema>;
export type HealthCheck = z.output<typeof healthCheckSchema>;
