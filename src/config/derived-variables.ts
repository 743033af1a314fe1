import { schedulers } from '../resources/ipvs/schedulers.js';
import { POOL_STANDINGS } from '../resources/service.js';
import type { VariableType } from './variable-types.js';

// The variables lvsprov derives for each host from the inventory and its LVS model (host-vars.ts),
// with their types. Roles read them without declaring them; a template that reads a name which
// is neither declared by its role nor listed here is refused. A unit test holds host-vars.ts to
// these types on the example inventories.

export interface DerivedVariable {
  readonly kind: VariableType;
  readonly description: string;
  /** Absent on hosts where it does not apply (e.g. nat_gateway on a host without NAT services). */
  readonly optional?: boolean;
}

const ipv4: VariableType = { type: 'ipv4' };
const port: VariableType = { type: 'integer', min: 0, max: 65535 };
const listOf = (fields: Record<string, VariableType>, optional?: string[]): VariableType => ({
  type: 'list',
  items: { type: 'object', fields, ...(optional ? { optional_fields: optional } : {}) },
});
const servedVips = listOf({ address: ipv4, label: { type: 'label' }, rip: ipv4, devices: { type: 'list', items: { type: 'string', pattern: '[A-Za-z0-9_.-]+' } } });

export const derivedVariables: Readonly<Record<string, DerivedVariable>> = {
  inventory_hostname: { kind: { type: 'host-name' }, description: "the host's inventory name" },
  host_address: { kind: { type: 'string', pattern: '[A-Za-z0-9.:-]+' }, description: "the host's address" },
  group_names: { kind: { type: 'list', items: { type: 'host-name' } }, description: 'the groups the host belongs to' },
  vips: { kind: listOf({ name: { type: 'host-name' }, address: ipv4, interface: { type: 'interface' } }, ['interface']), description: 'every VIP of the inventory' },
  all_vip_addresses: { kind: listOf({ address: ipv4 }), description: 'every address a virtual service listens on' },
  director_services: {
    kind: listOf(
      {
        protocol: { type: 'enum', values: ['tcp', 'udp', 'fwmark'] },
        address: ipv4,
        port,
        fwmark: { type: 'integer', min: 1, max: 4294967295 },
        scheduler: { type: 'enum', values: schedulers },
        persistence: { type: 'object', fields: { timeout: { type: 'integer', min: 1, max: 2678400 }, netmask: ipv4 }, optional_fields: ['netmask'] },
        real_servers: listOf({ address: ipv4, port, forwarding: { type: 'enum', values: ['dr', 'tun', 'nat'] }, weight: { type: 'integer', min: 0, max: 65535 } }),
      },
      ['address', 'fwmark', 'persistence'],
    ),
    description: 'the virtual services this host directs, in the shape of the ipvs task',
  },
  director_vips: { kind: listOf({ address: ipv4, device: { type: 'interface' }, label: { type: 'label' } }), description: 'the VIPs this director holds, each with its device and label (eth0:c6336432 for 198.51.100.50: the address in hex)' },
  director_kernel_modules: { kind: listOf({ name: { type: 'string', pattern: 'ip_vs[a-z_]*' } }), description: 'ip_vs and the scheduler modules of its services' },
  director_needs_forwarding: { kind: { type: 'boolean' }, description: 'true when the host directs a NAT service' },
  director_nat_interfaces: {
    kind: listOf({ name: { type: 'interface' }, key: { type: 'string', pattern: '[A-Za-z0-9_/-]{1,15}' } }),
    description: "the interfaces a NAT director's real servers' replies pass (its NAT VIPs', lvs.ha's gateway's), each with its name as a sysctl key's component (key: eth0/100 for eth0.100)",
  },
  director_persistent: { kind: { type: 'boolean' }, description: 'true when the host directs a persistent service' },
  director_fwmarks: {
    kind: listOf({ address: ipv4, mark: { type: 'integer', min: 1, max: 4294967295 }, ports: { type: 'list', items: { type: 'port' } } }),
    description: 'the firewall marks of its fwmark services',
  },
  director_ipvsadm: { kind: { type: 'boolean' }, description: "true when lvsprov's ipvs task holds this host's IPVS table (false where keepalived does)" },
  director_keepalived: { kind: { type: 'boolean' }, description: 'true when keepalived holds this director (lvs.ha, or a service with a health check, sorry server, quorum or inhibit_on_failure: true)' },
  director_keepalived_config: { kind: keepalivedConfig(), description: 'what keepalived holds on this director, in the shape of the keepalived task (empty lists when it holds nothing)' },
  dr_vips: { kind: servedVips, description: 'the VIPs this real server serves by direct routing, labelled lo:N, with its own address (rip) and the devices its roles put the VIP on (devices)' },
  tun_vips: { kind: servedVips, description: 'the VIPs this real server serves through an IPIP tunnel, labelled tunl0:N' },
  nat_vips: { kind: servedVips, description: 'the VIPs this real server serves behind a NAT director' },
  nat_reply_sources: {
    kind: listOf({ address: ipv4 }),
    description: 'the addresses its NAT services list this real server by (host_address or another of its addresses): the sources of the replies that go back through the director',
  },
  nat_default_route: {
    kind: { type: 'boolean' },
    description: 'true when this real server serves NAT and no DR or TUN VIP: its main default route then goes via the director too (a DR or TUN reply leaves from the VIP and must not)',
  },
  real_server_pool: {
    kind: { type: 'enum', values: POOL_STANDINGS },
    description: "the host's standing in the pool: weighted (some service sends it new connections, weight above 0), quiesced (listed only at weight 0) or none",
  },
  web_extra_ports: {
    kind: listOf({ port: { type: 'port' } }),
    description: "the ports its services send this real server requests on (a port-0 or fwmark service's test port: 80 if it takes it, else its first port), other than 80, web_port and the port lvsprov reaches the host's sshd on (ssh_config's `Port` included; a service there balances SSH): the webpage role serves the test page on each",
  },
  nat_gateway: { kind: ipv4, optional: true, description: "the NAT director's address (its dip variable, or its address)" },
  session_store: { kind: { type: 'boolean' }, description: 'true when this host runs memcached for the real servers\' sessions (lvs.sessions)' },
  session_store_config: {
    kind: {
      type: 'object',
      fields: {
        address: ipv4,
        port: { type: 'port' },
        memory_mb: { type: 'integer', min: 8, max: 1048576 },
        max_connections: { type: 'integer', min: 16, max: 1000000 },
        clients: { type: 'list', items: ipv4 },
        peers: { type: 'string', pattern: '-|[0-9.,]+' },
      },
    },
    optional: true,
    description:
      'on a session store: the address memcached binds to, its port, memory and connections, the addresses allowed to connect (the real servers and the other stores) and the other stores (comma-separated, - for none: it copies their sessions as it starts)',
  },
  session_servers: { kind: listOf({ address: ipv4, port: { type: 'port' } }), description: 'on a real server, with lvs.sessions: the memcached hosts that keep its sessions' },
  session_save_path: {
    kind: { type: 'string', pattern: '[0-9.:,]*' },
    description: "on a real server, with lvs.sessions: session_servers as PHP's session.save_path (address:port,address:port); empty otherwise",
  },
  session_replicas: { kind: { type: 'integer', min: 0, max: 1000 }, description: 'on a real server: further copies of each session on other stores (0 without lvs.sessions)' },
};

/** The keepalived task's spec as a variable type: VRRP instances and virtual servers. */
function keepalivedConfig(): VariableType {
  const integer = (min: number, max: number): VariableType => ({ type: 'integer', min, max });
  const word: VariableType = { type: 'string', pattern: '[A-Za-z][A-Za-z0-9_]*' };
  const instance = listOf(
    {
      name: word,
      virtual_router_id: integer(1, 255),
      interface: { type: 'interface' },
      state: { type: 'enum', values: ['MASTER', 'BACKUP'] },
      priority: integer(1, 254),
      nopreempt: { type: 'boolean' },
      unicast_src_ip: ipv4,
      unicast_peers: { type: 'list', items: ipv4 },
      vips: listOf({ address: ipv4, prefix: integer(1, 32), device: { type: 'interface' }, label: { type: 'label' } }, ['label']),
    },
  );
  const check: VariableType = {
    type: 'object',
    fields: {
      type: { type: 'enum', values: ['http', 'tcp'] },
      path: { type: 'string', pattern: '/[A-Za-z0-9._~/%?=&+,:-]*' },
      expect_status: integer(100, 599),
      port: integer(1, 65535),
      interval: integer(1, 3600),
      timeout: integer(1, 600),
      retries: integer(1, 100),
    },
    optional_fields: ['path', 'expect_status', 'port'],
  };
  const virtualServer = listOf(
    {
      protocol: { type: 'enum', values: ['tcp', 'udp', 'fwmark'] },
      address: ipv4,
      port,
      fwmark: integer(1, 4294967295),
      scheduler: { type: 'enum', values: schedulers },
      forwarding: { type: 'enum', values: ['dr', 'tun', 'nat'] },
      persistence: { type: 'object', fields: { timeout: integer(1, 2678400), netmask: ipv4 }, optional_fields: ['netmask'] },
      real_servers: listOf({ address: ipv4, port, weight: integer(0, 65535) }),
      health_check: check,
      inhibit_on_failure: { type: 'boolean' },
      sorry_server: { type: 'object', fields: { address: ipv4, port } },
      quorum: integer(1, 2147483647),
    },
    ['address', 'fwmark', 'persistence', 'health_check', 'sorry_server', 'quorum'],
  );
  const garp: VariableType = {
    type: 'object',
    fields: { master_delay: integer(0, 255), master_repeat: integer(1, 255), master_refresh: integer(0, 86400), lower_prio_repeat: integer(0, 255) },
    optional_fields: ['master_delay', 'master_repeat', 'master_refresh', 'lower_prio_repeat'],
  };
  return {
    type: 'object',
    fields: {
      router_id: { type: 'host-name' },
      advert_interval: integer(1, 255),
      garp,
      instances: instance,
      sync_groups: listOf({ name: word, instances: { type: 'list', items: word } }),
      virtual_servers: virtualServer,
    },
  };
}

/** Names a looped task sees besides the role's variables: the current item and its 1-based index. */
export const LOOP_ITEM = 'item';
export const LOOP_INDEX = 'loop_index';
