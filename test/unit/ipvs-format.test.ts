import { describe, expect, it } from 'vitest';
import { sortTable, type RealServer, type VirtualService } from '../../src/resources/ipvs/model.js';
import { parseRules, renderRules, RulesFormatError } from '../../src/resources/ipvs/rules-format.js';
import { ipvsSchema } from '../../src/resources/ipvs/schema.js';

// The rule format of `ipvsadm -S -n` both ways, and the spec's validation. Expected texts are
// written out as ipvsadm 1.31 prints them (print_service_entry with FMT_RULE).

const server = (address: string, port: number, extra: Partial<RealServer> = {}): RealServer => ({
  address,
  port,
  forwarding: 'dr',
  weight: 1,
  options: [],
  ...extra,
});

const service = (extra: Partial<VirtualService>): VirtualService => ({
  protocol: 'tcp',
  address: '198.51.100.50',
  port: 80,
  fwmark: 0,
  scheduler: 'wlc',
  options: [],
  realServers: [],
  ...extra,
});

describe('ipvsadm rule format', () => {
  it('prints each service option the way ipvsadm -S -n does', () => {
    const table = [
      service({ persistence: { timeout: 300, netmask: '255.255.255.0' }, scheduler: 'wrr', realServers: [server('192.0.2.11', 80, { weight: 2 })] }),
      service({ port: 0, persistence: { timeout: 3600, netmask: '255.255.255.255' }, realServers: [server('192.0.2.11', 0)] }),
      service({ protocol: 'udp', port: 53, scheduler: 'rr', realServers: [server('192.0.2.12', 5353, { forwarding: 'nat' })] }),
      service({ protocol: 'fwmark', address: '', port: 0, fwmark: 3, realServers: [server('192.0.2.13', 0, { forwarding: 'tun', weight: 0 })] }),
    ];
    expect(renderRules(table)).toBe(
      [
        '-A -t 198.51.100.50:0 -s wlc -p 3600',
        '-a -t 198.51.100.50:0 -r 192.0.2.11:0 -g -w 1',
        '-A -t 198.51.100.50:80 -s wrr -p 300 -M 255.255.255.0',
        '-a -t 198.51.100.50:80 -r 192.0.2.11:80 -g -w 2',
        '-A -u 198.51.100.50:53 -s rr',
        '-a -u 198.51.100.50:53 -r 192.0.2.12:5353 -m -w 1',
        '-A -f 3 -s wlc',
        '-a -f 3 -r 192.0.2.13:0 -i -w 0 --tun-type ipip',
        '',
      ].join('\n'),
    );
  });

  it('renders an empty table as nothing, as ipvsadm -S prints no header', () => {
    expect(renderRules([])).toBe('');
  });

  it('sorts like libipvs: fwmark, family, protocol, address, port; servers by address, port', () => {
    const text = [
      '-A -f 10 -s rr',
      '-A -f 2 -s rr',
      '-A -t [2001:db8::1]:80 -s rr',
      '-A -u 192.0.2.1:53 -s rr',
      '-A -t 198.51.100.9:80 -s rr',
      '-a -t 198.51.100.9:80 -r 192.0.2.100:80 -g -w 1',
      '-a -t 198.51.100.9:80 -r 192.0.2.20:80 -g -w 1',
      '-A -t 198.51.100.10:80 -s rr',
      '-A -t 198.51.100.9:443 -s rr',
      '',
    ].join('\n');
    expect(renderRules(parseRules(text))).toBe(
      [
        '-A -t 198.51.100.9:80 -s rr',
        '-a -t 198.51.100.9:80 -r 192.0.2.20:80 -g -w 1',
        '-a -t 198.51.100.9:80 -r 192.0.2.100:80 -g -w 1',
        '-A -t 198.51.100.9:443 -s rr',
        '-A -t 198.51.100.10:80 -s rr',
        '-A -u 192.0.2.1:53 -s rr',
        '-A -t [2001:db8::1]:80 -s rr',
        '-A -f 2 -s rr',
        '-A -f 10 -s rr',
        '',
      ].join('\n'),
    );
  });

  it('reads what ipvsadm prints and prints it back unchanged', () => {
    const text = [
      '-A -t 198.51.100.50:80 -s sh -p 60 -M 255.255.0.0 -b sh-fallback,sh-port',
      '-a -t 198.51.100.50:80 -r 192.0.2.11:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum',
      '-a -t 198.51.100.50:80 -r 192.0.2.12:80 -i -w 1 --tun-type ipip',
      '-A -u 198.51.100.50:5060 -s rr -p 300 --pe sip -o',
      '-A --sctp-service 198.51.100.50:3868 -s rr',
      '-A -t [2001:db8::50]:443 -s mh -p 300 -M 64',
      '-a -t [2001:db8::50]:443 -r [2001:db8::11]:443 -m -w 65535',
      '-A -f 1 -6 -s wlc',
      '',
    ].join('\n');
    expect(renderRules(parseRules(text))).toBe(text);
  });

  it('reads the tunnel lines of ipvsadm before 1.30, which had no --tun-type, as ipip', () => {
    const [legacy] = parseRules('-A -t 198.51.100.50:80 -s rr\n-a -t 198.51.100.50:80 -r 192.0.2.11:80 -i -w 3\n');
    expect(legacy?.realServers).toEqual([{ address: '192.0.2.11', port: 80, forwarding: 'tun', weight: 3, options: [] }]);
  });

  it('skips comments and blank lines, as the distro restore scripts filter them', () => {
    expect(parseRules('# ipvsadm.rules\n\n-A -t 198.51.100.50:80 -s rr\n')).toHaveLength(1);
  });

  it('round-trips generated tables: parse(render(table)) is the table in ipvsadm order', () => {
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let round = 0; round < 200; round++) {
      const services = new Map<string, VirtualService>();
      for (let i = random(6); i > 0; i--) {
        const fwmark = random(3) === 0 ? 1 + random(5) : 0;
        const port = random(3) === 0 ? 0 : 1 + random(65535);
        const candidate = service({
          protocol: fwmark ? 'fwmark' : (['tcp', 'udp', 'sctp'] as const)[random(3)],
          address: fwmark ? '' : `198.51.100.${random(256)}`,
          port: fwmark ? 0 : port,
          fwmark,
          scheduler: ['rr', 'wrr', 'sh', 'mh'][random(4)] ?? 'rr',
          ...(random(2) || (!fwmark && port === 0)
            ? { persistence: { timeout: 1 + random(86400), netmask: ['255.255.255.255', '255.255.255.0', '255.255.0.0'][random(3)] ?? '' } }
            : {}),
          realServers: [...new Set(Array.from({ length: random(5) }, () => `192.0.2.${random(256)}`))].map((address) =>
            server(address, fwmark ? random(2) * 8080 : port, {
              forwarding: (['dr', 'tun', 'nat'] as const)[random(3)],
              weight: random(65536),
            }),
          ),
        });
        services.set(`${candidate.protocol} ${candidate.address} ${candidate.port} ${candidate.fwmark}`, candidate);
      }
      const table = [...services.values()];
      expect(parseRules(renderRules(table))).toEqual(sortTable(table));
    }
  });

  it.each([
    ['-L -n', /expected -A or -a/],
    ['-a -t 198.51.100.50:80 -r 192.0.2.11:80 -g -w 1', /before its service/],
    ['-A -t 198.51.100.50:80 -s rr\n-A -t 198.51.100.50:80 -s wlc', /appears twice/],
    ['-A -t 198.51.100.50:80 -s rr\n-a -t 198.51.100.50:80 -r 192.0.2.11:80 -g -w 1\n-a -t 198.51.100.50:80 -r 192.0.2.11:80 -m -w 2', /appears twice/],
    ['-A -t 198.51.100.500:80 -s rr', /not a service address/],
    ['-A -t 198.51.100.50:70000 -s rr', /not a service address/],
    ['-A -t 198.51.100.50:80', /expected -s at the end/],
    ['-A -t 198.51.100.50:80 -s rr -p 300 -M 255.255.255.999', /not a netmask/],
    ['-A -t 198.51.100.50:80 -s rr --ops', /unexpected --ops/],
    ['-A -f 0 -s rr', /firewall mark must be 1-4294967295/],
    ['-A -t 198.51.100.50:80 -s rr\n-a -t 198.51.100.50:80 -r 192.0.2.11:80 -g -w x', /weight must be/],
    ['-A -t 198.51.100.50:80 -s rr\n-a -t 198.51.100.50:80 -r 192.0.2.11:80 -g -w 1 --tun-type ipip', /unexpected --tun-type/],
    ["-A -t 198.51.100.50:80 -s 'rr;reboot'", /not a scheduler name/],
  ])('rejects %j', (text, message) => {
    expect(() => parseRules(text)).toThrow(RulesFormatError);
    expect(() => parseRules(text)).toThrow(message);
  });
});

describe('ipvs spec schema', () => {
  const tcp = { protocol: 'tcp', address: '198.51.100.50', port: 80 };
  const issues = (services: unknown[], extra: Record<string, unknown> = {}): string[] => {
    const result = ipvsSchema.safeParse({ services, ...extra });
    return result.success ? [] : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  };

  it('fills the defaults', () => {
    expect(ipvsSchema.parse({ services: [{ ...tcp, persistence: {}, real_servers: [{ address: '192.0.2.11', forwarding: 'dr' }] }] })).toEqual({
      services: [
        {
          ...tcp,
          scheduler: 'wlc',
          state: 'present',
          persistence: { timeout: 300 },
          real_servers: [{ address: '192.0.2.11', forwarding: 'dr', weight: 1 }],
        },
      ],
      save_file: 'auto',
      purge: false,
    });
  });

  it('accepts the shapes the director role sends, such as port 0 on a fwmark service', () => {
    expect(issues([{ protocol: 'fwmark', fwmark: 1, port: 0, real_servers: [{ address: '192.0.2.11', port: undefined, forwarding: 'tun' }] }])).toEqual([]);
    expect(issues([{ ...tcp, port: 0, persistence: { timeout: 600 } }])).toEqual([]);
    expect(issues([{ ...tcp, real_servers: [{ address: '192.0.2.11', port: 8080, forwarding: 'nat' }] }])).toEqual([]);
  });

  it.each([
    [[{ ...tcp, port: 0 }], 'services.0.port: port 0 (all ports) needs persistence'],
    [[{ protocol: 'fwmark' }], 'services.0.fwmark: a fwmark service needs fwmark'],
    [[{ protocol: 'fwmark', fwmark: 1, address: '198.51.100.50' }], 'services.0.address: a fwmark service has no address'],
    [[{ protocol: 'fwmark', fwmark: 1, port: 80 }], 'services.0.port: a fwmark service matches every port'],
    [[{ protocol: 'fwmark', fwmark: 0 }], 'services.0.fwmark: Too small'],
    [[{ protocol: 'udp', port: 53 }], 'services.0.address: a udp service needs address'],
    [[{ protocol: 'tcp', address: '198.51.100.50' }], 'services.0.port: a tcp service needs port'],
    [[{ ...tcp, fwmark: 3 }], 'services.0.fwmark: fwmark belongs to protocol: fwmark only'],
    [[tcp, { ...tcp, scheduler: 'rr' }], 'services.1: duplicate service TCP 198.51.100.50:80'],
    [
      [{ ...tcp, real_servers: [{ address: '192.0.2.11', forwarding: 'nat' }, { address: '192.0.2.11', port: 80, forwarding: 'nat' }] }],
      'services.0.real_servers.1: duplicate real server 192.0.2.11:80',
    ],
    [[{ ...tcp, real_servers: [{ address: '192.0.2.11', port: 8080, forwarding: 'dr' }] }], 'services.0.real_servers.0.port: dr keeps the destination port'],
    [[{ ...tcp, real_servers: [{ address: '192.0.2.11' }] }], 'services.0.real_servers.0.forwarding:'],
    [[{ ...tcp, real_servers: [{ address: '192.0.2.11', forwarding: 'dr', weight: 65536 }] }], 'services.0.real_servers.0.weight: Too big'],
    [[{ ...tcp, real_servers: [{ address: 'rs1.example', forwarding: 'dr' }] }], 'services.0.real_servers.0.address: must be an IPv4 address'],
    [[{ ...tcp, scheduler: 'twos' }], 'services.0.scheduler:'],
    [[{ ...tcp, persistence: { timeout: 2678401 } }], 'services.0.persistence.timeout: Too big'],
    [[{ ...tcp, persistence: { netmask: '255.0.255.0' } }], 'services.0.persistence.netmask: must be a netmask'],
    [[{ ...tcp, weight: 2 }], 'services.0: Unrecognized key: "weight"'],
  ])('rejects %j', (services, message) => {
    expect(issues(services).join('\n')).toContain(message);
  });

  it('rejects a relative save file', () => {
    expect(issues([], { save_file: 'ipvsadm.rules' }).join('\n')).toContain('save_file');
  });
});
