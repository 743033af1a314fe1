import { isIPv6 } from 'node:net';
import { own } from '../../config/own.js';
import { isIpv4 } from '../../net/ipv4.js';
import {
  defaultNetmask,
  isIpv6Service,
  realServerName,
  selector,
  serviceName,
  sortTable,
  type Forwarding,
  type Persistence,
  type RealServer,
  type Table,
  type VirtualService,
} from './model.js';

// The rule format of `ipvsadm -S -n` (and of the save files restored with `ipvsadm -R`), as
// ipvsadm 1.31 prints it in print_service_entry() with FMT_RULE | FMT_NUMERIC:
//   -A <svc> -s <sched>[ -p <timeout>[ -M <netmask>]][ --pe <engine>][ -o][ -b <flag,...>]
//   -a <svc> -r <addr>:<port> -g|-i|-m -w <weight>[ --tun-type ipip|gue|gre ...]
// where <svc> is `-t|-u|--sctp-service <addr>:<port>` (IPv6 as [addr]:port, port 0 printed as
// :0) or `-f <mark>[ -6]`. -M is printed only when persistent and the mask is not the default
// 255.255.255.255 (128 for IPv6). Thresholds (-x/-y) are never printed, so no save file keeps
// them. Since ipvsadm 1.30 (the GUE patch) a tunnel server always carries --tun-type, plain ipip
// included; older ipvsadm prints bare `-i -w N`, and both read back to the same table here.

export class RulesFormatError extends Error {}

export const FORWARDING_FLAG: Record<Forwarding, string> = { dr: '-g', tun: '-i', nat: '-m' };
const FLAG_FORWARDING: Record<string, Forwarding> = { '-g': 'dr', '-i': 'tun', '-m': 'nat' };
const SERVICE_FLAG: Record<string, VirtualService['protocol']> = { '-t': 'tcp', '-u': 'udp', '--sctp-service': 'sctp' };

/** The words after the service selector that set scheduler, persistence and the rest, as ipvsadm prints them. */
export function serviceOptions(service: VirtualService): string[] {
  const words = ['-s', service.scheduler];
  if (service.persistence) {
    words.push('-p', String(service.persistence.timeout));
    if (service.persistence.netmask !== defaultNetmask(service)) words.push('-M', service.persistence.netmask);
  }
  return [...words, ...service.options];
}

/**
 * The words after the service selector that add or edit a real server. Commands leave
 * `--tun-type ipip` out: it is the default, and ipvsadm before 1.30 rejects the option. `save`
 * adds it back where -S prints it.
 */
export function realServerOptions(server: RealServer, save = false): string[] {
  const words = ['-r', realServerName(server), FORWARDING_FLAG[server.forwarding], '-w', String(server.weight)];
  const tunnel = server.forwarding === 'tun' && save && server.options.length === 0 ? ['--tun-type', 'ipip'] : [];
  return [...words, ...tunnel, ...server.options];
}

export function serviceRule(service: VirtualService): string {
  return ['-A', ...selector(service), ...serviceOptions(service)].join(' ');
}

export function realServerRule(service: VirtualService, server: RealServer): string {
  return ['-a', ...selector(service), ...realServerOptions(server, true)].join(' ');
}

/** The table exactly as `ipvsadm -S -n` prints it: sorted, one rule per line. */
export function renderRules(table: Table): string {
  return sortTable(table)
    .flatMap((service) => [serviceRule(service), ...service.realServers.map((server) => realServerRule(service, server))])
    .map((line) => `${line}\n`)
    .join('');
}

/** Reads ipvsadm's rule format; `#` lines and blank lines are skipped, as the distros' restore scripts do. */
export function parseRules(text: string): VirtualService[] {
  const services: Array<VirtualService & { realServers: RealServer[] }> = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const words = new Words(line.split(/\s+/), index + 1, line);
    const command = words.next();
    if (command === '-A') {
      const service = readService(words);
      if (services.some((other) => serviceName(other) === serviceName(service)))
        words.fail(`service ${serviceName(service)} appears twice`);
      services.push({ ...service, realServers: [] });
    } else if (command === '-a') {
      const name = serviceName(readService(words, false));
      const service = services.find((candidate) => serviceName(candidate) === name);
      if (!service) return words.fail(`real server for ${name} before its service`);
      const server = readRealServer(words);
      if (service.realServers.some((other) => realServerName(other) === realServerName(server)))
        words.fail(`real server ${realServerName(server)} appears twice in ${name}`);
      service.realServers.push(server);
    } else {
      words.fail(`expected -A or -a, found ${command}`);
    }
    words.end();
  });
  return services;
}

class Words {
  private index = 0;
  constructor(
    private readonly words: readonly string[],
    private readonly lineNumber: number,
    private readonly line: string,
  ) {}

  fail(message: string): never {
    throw new RulesFormatError(`line ${this.lineNumber} (${this.line.slice(0, 120)}): ${message}`);
  }

  peek(): string | undefined {
    return this.words[this.index];
  }

  next(what = 'a word'): string {
    const word = this.words[this.index++];
    return word ?? this.fail(`expected ${what} at the end of the line`);
  }

  expect(word: string): void {
    const found = this.next(word);
    if (found !== word) this.fail(`expected ${word}, found ${found}`);
  }

  number(what: string, max: number, min = 0): number {
    const word = this.next(what);
    const value = /^\d{1,10}$/.test(word) ? Number(word) : NaN;
    return value >= min && value <= max ? value : this.fail(`${what} must be ${min}-${max}, found ${word}`);
  }

  matching(what: string, pattern: RegExp): string {
    const word = this.next(what);
    return pattern.test(word) ? word : this.fail(`not ${what}: ${word}`);
  }

  end(): void {
    if (this.index < this.words.length) this.fail(`unexpected ${this.words[this.index]}`);
  }
}

function readAddressPort(words: Words, what: string): { address: string; port: number } {
  const word = words.next(what);
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|(\d+\.\d+\.\d+\.\d+)):(\d{1,5})$/.exec(word);
  const address = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  const valid = match?.[1] !== undefined ? isIPv6(match[1]) : address !== undefined && isIpv4(address);
  if (!valid || port > 65535) words.fail(`not ${what}: ${word}`);
  return { address: address ?? '', port };
}

function readService(words: Words, withOptions = true): VirtualService {
  const flag = words.next('a service');
  let service: VirtualService;
  if (flag === '-f') {
    const fwmark = words.number('a firewall mark', 4294967295, 1);
    const ipv6 = words.peek() === '-6';
    if (ipv6) words.next();
    service = { protocol: 'fwmark', address: '', port: 0, fwmark, ...(ipv6 ? { ipv6 } : {}), scheduler: '', options: [], realServers: [] };
  } else {
    const protocol = own(SERVICE_FLAG, flag) ?? words.fail(`expected -t, -u, --sctp-service or -f, found ${flag}`);
    service = { protocol, ...readAddressPort(words, 'a service address:port'), fwmark: 0, scheduler: '', options: [], realServers: [] };
  }
  if (!withOptions) return service;
  words.expect('-s');
  const scheduler = words.matching('a scheduler name', /^[a-z0-9_]{1,15}$/);
  let persistence: Persistence | undefined;
  if (words.peek() === '-p') {
    words.next();
    const timeout = words.number('a persistence timeout', 4294967295, 1);
    let netmask = defaultNetmask(service);
    if (words.peek() === '-M') {
      words.next();
      netmask = isIpv6Service(service) ? String(words.number('a prefix length', 128, 1)) : words.matching('a netmask', /^\d+\.\d+\.\d+\.\d+$/);
      if (!isIpv6Service(service) && !isIpv4(netmask)) words.fail(`not a netmask: ${netmask}`);
    }
    persistence = { timeout, netmask };
  }
  const options: string[] = [];
  if (words.peek() === '--pe') options.push(words.next(), words.matching('a persistence engine', /^[a-z0-9_]{1,16}$/));
  if (words.peek() === '-o') options.push(words.next());
  if (words.peek() === '-b') options.push(words.next(), words.matching('scheduler flags', /^[a-z0-9-]+(,[a-z0-9-]+)*$/));
  return { ...service, scheduler, ...(persistence ? { persistence } : {}), options };
}

function readRealServer(words: Words): RealServer {
  words.expect('-r');
  const { address, port } = readAddressPort(words, 'a real server address:port');
  const flag = words.next('-g, -i or -m');
  const forwarding = own(FLAG_FORWARDING, flag) ?? words.fail(`expected -g, -i or -m, found ${flag}`);
  words.expect('-w');
  const weight = words.number('a weight', 2147483647);
  const options: string[] = [];
  if (forwarding === 'tun' && words.peek() === '--tun-type') {
    words.next();
    const type = words.matching('a tunnel type', /^(ipip|gue|gre)$/);
    if (type !== 'ipip') options.push('--tun-type', type);
    if (words.peek() === '--tun-port') options.push(words.next(), String(words.number('a tunnel port', 65535, 1)));
    const checksum = words.peek();
    if (checksum === '--tun-nocsum' || checksum === '--tun-csum' || checksum === '--tun-remcsum') options.push(words.next());
  }
  return { address, port, forwarding, weight, options };
}
