import type { KeepalivedSpec, KeepalivedVirtualServer } from './schema.js';

// keepalived.conf from the keepalived task's spec: pure, the same spec always gives the same text.
// The schema already holds every value to a plain grammar; `word` checks each one again as it is
// written, so no value can end a line, open or close a block, start a comment or a `$` definition.

export const PLAIN_WORD = /^[A-Za-z0-9._/:%?=&+,~-]+$/;

export function word(value: string | number): string {
  const text = String(value);
  if (!PLAIN_WORD.test(text)) throw new Error(`refusing to write ${JSON.stringify(text)} into keepalived.conf: not a plain word`);
  return text;
}

const line = (depth: number, ...words: Array<string | number>): string => `${'    '.repeat(depth)}${words.map(word).join(' ')}`;
const open = (depth: number, ...words: Array<string | number>): string => `${line(depth, ...words)} {`;
const close = (depth: number): string => `${'    '.repeat(depth)}}`;

const METHODS = { dr: 'DR', tun: 'TUN', nat: 'NAT' } as const;

export function keepalivedConfig(spec: KeepalivedSpec): string {
  const out: string[] = [
    '# Written by lvsprov from the inventory; local edits are overwritten by the next apply.',
    '# Tested with `keepalived -t -f` before it replaced the previous file.',
  ];
  if (spec.router_id !== undefined) out.push('', open(0, 'global_defs'), line(1, 'router_id', spec.router_id), close(0));
  for (const group of spec.sync_groups) {
    out.push('', open(0, 'vrrp_sync_group', group.name), open(1, 'group'), ...group.instances.map((name) => line(2, name)), close(1), close(0));
  }
  for (const instance of spec.instances) out.push('', ...instanceBlock(spec, instance));
  for (const server of spec.virtual_servers) out.push('', ...virtualServerBlock(server));
  return `${out.join('\n')}\n`;
}

function instanceBlock(spec: KeepalivedSpec, instance: KeepalivedSpec['instances'][number]): string[] {
  const garp = spec.garp;
  return [
    open(0, 'vrrp_instance', instance.name),
    line(1, 'state', instance.state),
    line(1, 'interface', instance.interface),
    line(1, 'virtual_router_id', instance.virtual_router_id),
    line(1, 'priority', instance.priority),
    line(1, 'advert_int', spec.advert_interval),
    ...(instance.nopreempt ? [line(1, 'nopreempt')] : []),
    ...(garp.master_delay !== undefined ? [line(1, 'garp_master_delay', garp.master_delay)] : []),
    ...(garp.master_repeat !== undefined ? [line(1, 'garp_master_repeat', garp.master_repeat)] : []),
    ...(garp.master_refresh !== undefined ? [line(1, 'garp_master_refresh', garp.master_refresh)] : []),
    ...(garp.lower_prio_repeat !== undefined ? [line(1, 'garp_lower_prio_repeat', garp.lower_prio_repeat)] : []),
    line(1, 'unicast_src_ip', instance.unicast_src_ip),
    open(1, 'unicast_peer'),
    ...instance.unicast_peers.map((peer) => line(2, peer)),
    close(1),
    open(1, 'virtual_ipaddress'),
    ...instance.vips.map((vip) => line(2, `${vip.address}/${vip.prefix}`, 'dev', vip.device, ...(vip.label !== undefined ? ['label', vip.label] : []))),
    close(1),
    close(0),
  ];
}

/** The words that open a virtual_server block: with its protocol, the service's identity in the config. */
export function virtualServerHead(server: Pick<KeepalivedVirtualServer, 'protocol' | 'fwmark' | 'address' | 'port'>): Array<string | number> {
  return server.protocol === 'fwmark' ? ['virtual_server', 'fwmark', server.fwmark ?? 0] : ['virtual_server', server.address ?? '', server.port];
}

/** The words that open a real_server block. */
export function realServerHead(real: { readonly address: string; readonly port: number }): Array<string | number> {
  return ['real_server', real.address, ...portWords(real.port)];
}

function virtualServerBlock(server: KeepalivedVirtualServer): string[] {
  const check = server.health_check;
  return [
    open(0, ...virtualServerHead(server)),
    ...(check ? [line(1, 'delay_loop', check.interval)] : []),
    line(1, 'lvs_sched', server.scheduler),
    line(1, 'lvs_method', METHODS[server.forwarding]),
    ...(server.protocol === 'fwmark' ? [] : [line(1, 'protocol', server.protocol.toUpperCase())]),
    ...(server.persistence ? [line(1, 'persistence_timeout', server.persistence.timeout)] : []),
    ...(server.persistence?.netmask !== undefined ? [line(1, 'persistence_granularity', server.persistence.netmask)] : []),
    // A real server enters the table only once its first check passed (alpha), and that first
    // check runs at once rather than after a random wait of up to delay_loop (warmup 0).
    ...(check ? [line(1, 'alpha'), line(1, 'warmup', 0)] : []),
    ...(server.quorum !== undefined ? [line(1, 'quorum', server.quorum)] : []),
    ...(server.sorry_server ? [line(1, 'sorry_server', server.sorry_server.address, ...portWords(server.sorry_server.port))] : []),
    ...server.real_servers.flatMap((real) => [
      open(1, ...realServerHead(real)),
      line(2, 'weight', real.weight),
      ...(server.inhibit_on_failure ? [line(2, 'inhibit_on_failure')] : []),
      ...(check ? checkerBlock(check, real.port) : []),
      close(1),
    ]),
    close(0),
  ];
}

/** keepalived takes no port for a real server of a catch-all or fwmark service. */
function portWords(port: number): number[] {
  return port === 0 ? [] : [port];
}

function checkerBlock(check: NonNullable<KeepalivedVirtualServer['health_check']>, realPort: number): string[] {
  const port = check.port ?? realPort;
  // keepalived's `retry` counts the checks after the first failure; the inventory counts them all.
  const common = [
    ...(port !== realPort ? [line(3, 'connect_port', port)] : []),
    line(3, 'connect_timeout', check.timeout),
    line(3, 'retry', check.retries - 1),
    line(3, 'delay_before_retry', check.interval),
  ];
  if (check.type === 'tcp') return [open(2, 'TCP_CHECK'), ...common, close(2)];
  return [
    open(2, 'HTTP_GET'),
    open(3, 'url'),
    line(4, 'path', check.path ?? '/'),
    line(4, 'status_code', check.expect_status ?? 200),
    close(3),
    ...common,
    close(2),
  ];
}

/**
 * What a config says, whatever the order it says it in: each block's lines and blocks sorted
 * (keepalived reads a block's keywords, and the blocks of a file, in any order), comments and
 * blank lines left out. Two configs with one shape need no reload between them.
 */
export function configShape(text: string): string {
  const root: string[] = [];
  const stack: Array<{ head: string; body: string[] }> = [];
  for (const raw of text.split('\n')) {
    const entry = raw.trim();
    if (entry === '' || entry.startsWith('#') || entry.startsWith('!')) continue;
    const body = stack.at(-1)?.body ?? root;
    if (entry.endsWith('{')) stack.push({ head: entry, body: [] });
    else if (entry === '}') {
      const block = stack.pop();
      if (block !== undefined) (stack.at(-1)?.body ?? root).push(`${block.head} ${block.body.sort().join(' ; ')} }`);
    } else body.push(entry);
  }
  return root.sort().join('\n');
}
