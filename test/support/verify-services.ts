import type { ResolvedService } from '../../src/config/lvs-model.js';

// A resolved virtual service in short form for verify's calculator tests: servers as
// [host or null, weight, address?], addresses 192.0.2.11, .12 ... by default.

export interface ShortService {
  scheduler: string;
  servers: Array<[string | null, number, string?]>;
  persistence?: { timeout: number; netmask?: string };
  port?: number;
}

export function service(short: ShortService, overrides: Partial<ResolvedService> = {}): ResolvedService {
  return {
    name: 'web',
    protocol: 'tcp',
    address: '198.51.100.50',
    port: short.port ?? 80,
    scheduler: short.scheduler,
    forwarding: 'dr',
    ...(short.persistence ? { persistence: short.persistence } : {}),
    directors: ['director'],
    realServers: short.servers.map(([host, weight, address], index) => ({
      ...(host !== null ? { host } : {}),
      address: address ?? `192.0.2.${11 + index}`,
      port: short.port ?? 80,
      weight,
    })),
    ...overrides,
  };
}
