// Three real servers that are the session stores too (lvs.sessions' default), for the harnesses
// that run Debian's memcached and php-cgi in private network namespaces.

export const STORES = ['192.0.2.11', '192.0.2.12', '192.0.2.13'] as const;

export const threeStoresInventory = `networks: [192.0.2.0/24]
hosts:
  dir1: { address: 192.0.2.10, groups: [directors] }
  rs1: { address: ${STORES[0]}, groups: [realservers] }
  rs2: { address: ${STORES[1]}, groups: [realservers] }
  rs3: { address: ${STORES[2]}, groups: [realservers] }
lvs:
  sessions: {}
  vips: { web: { address: 198.51.100.50 } }
  services:
    - { name: web, vip: web, port: 80, real_servers: [{ host: rs1 }, { host: rs2 }, { host: rs3 }] }
`;
