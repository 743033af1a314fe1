import { describe, expect, it } from 'vitest';
import { hostAddressProblem, hostNameProblem, isHostAddress, isHostName } from '../../src/net/host-address.js';
import {
  formatNetwork,
  hasNoHostBits,
  intToIpv4,
  ipv4Problem,
  ipv4ToInt,
  isIpv4,
  isUsableHost,
  netmaskPrefix,
  netmaskProblem,
  networkContains,
  networkOf,
  networksOverlap,
  parseCidr,
  parseNetwork,
  prefixToNetmask,
  sameNetwork,
} from '../../src/net/ipv4.js';

// The one address grammar of the project, as tables: what is an address, and why not.

describe('IPv4: canonical dotted quads only', () => {
  it.each(['0.0.0.0', '192.0.2.10', '255.255.255.255', '10.0.0.1', '198.51.100.50'])('%s is an address', (text) => {
    expect(isIpv4(text)).toBe(true);
    expect(ipv4Problem(text)).toBeUndefined();
  });

  it.each([
    ['203.0.113', /3 parts, not 4/],
    ['203.0.113.010', /leading zero/],
    ['01.2.3.4', /leading zero/],
    ['0x7f.1', /hexadecimal/],
    ['0x7f.0.0.1', /hexadecimal/],
    ['2130706433', /bare number/],
    ['192.0.2.10.', /ends with a dot/],
    ['192.0.2..10', /empty part/],
    [' 192.0.2.10', /spaces/],
    ['192.0.2.10 ', /spaces/],
    ['192.0.2.1 0', /spaces/],
    ['::1', /IPv6/],
    ['2001:db8::1', /IPv6/],
    ['::ffff:192.0.2.1', /IPv6/],
    ['192.0.2.10:22', /carries a port/],
    ['192.0.2.256', /above 255/],
    ['1.2.3.4.5', /5 parts/],
    ['a.b.c.d', /not four decimal numbers/],
    ['-1.2.3.4', /not four decimal numbers/],
    ['', /empty part/],
  ])('%j is refused: %s', (text, why) => {
    expect(isIpv4(text)).toBe(false);
    expect(ipv4Problem(text)).toMatch(why);
  });

  it('converts to and from 32-bit integers', () => {
    expect(ipv4ToInt('0.0.0.0')).toBe(0);
    expect(ipv4ToInt('255.255.255.255')).toBe(0xffffffff);
    expect(ipv4ToInt('192.0.2.10')).toBe(0xc000020a);
    expect(intToIpv4(0xc000020a)).toBe('192.0.2.10');
    expect(intToIpv4(0xffffffff)).toBe('255.255.255.255');
    expect(() => ipv4ToInt('203.0.113')).toThrow(/not an IPv4 address/);
    expect(() => intToIpv4(2 ** 32)).toThrow(/not a 32-bit address/);
    expect(() => intToIpv4(-1)).toThrow();
  });
});

describe('netmasks: contiguous ones, checked before any arithmetic', () => {
  it.each([
    ['255.255.255.0', 24],
    ['255.255.255.255', 32],
    ['0.0.0.0', 0],
    ['255.255.254.0', 23],
    ['128.0.0.0', 1],
  ])('%s is /%i', (mask, prefix) => {
    expect(netmaskPrefix(mask)).toBe(prefix);
    expect(netmaskProblem(mask)).toBeUndefined();
    expect(prefixToNetmask(prefix)).toBe(mask);
  });

  it.each([
    ['/24', /prefix length; write it as the netmask 255.255.255.0/],
    ['24', /prefix length; write it as the netmask 255.255.255.0/],
    ['/0', /prefix length; write it as the netmask 0.0.0.0/],
    ['/33', /not four decimal numbers/],
    ['255.0.255.0', /contiguous ones/],
    ['255.255.255.1', /contiguous ones/],
    ['255.255.255', /3 parts/],
    ['0xffffff00', /hexadecimal/],
    ['', /empty part/],
  ])('%j is refused: %s', (mask, why) => {
    expect(netmaskPrefix(mask)).toBeUndefined();
    expect(netmaskProblem(mask)).toMatch(why);
  });
});

describe('CIDR networks', () => {
  it('parses address/prefix, refusing non-canonical forms', () => {
    expect(parseCidr('192.0.2.0/24')).toEqual({ address: '192.0.2.0', prefixLength: 24 });
    expect(parseCidr('192.0.2.7/0')).toEqual({ address: '192.0.2.7', prefixLength: 0 });
    for (const bad of ['192.0.2.0/33', '192.0.2.0/024', '192.0.2/24', '192.0.2.0/', '192.0.2.0', '192.0.2.0/24/1', '192.0.2.0/-1', '192.0.2.0/ 24']) {
      expect(parseCidr(bad), bad).toBeUndefined();
    }
  });

  it('refuses host bits in a network, naming the network meant', () => {
    expect(parseNetwork('198.16.0.0/14')).toEqual({ base: ipv4ToInt('198.16.0.0'), prefixLength: 14 });
    expect(() => parseNetwork('198.18.0.0/14')).toThrow(/host bits set; the network is 198.16.0.0\/14/);
    expect(() => parseNetwork('203.0.113/24')).toThrow(/not an IPv4 network/);
    expect(hasNoHostBits({ address: '192.0.2.0', prefixLength: 24 })).toBe(true);
    expect(hasNoHostBits({ address: '192.0.2.1', prefixLength: 24 })).toBe(false);
  });

  it('answers containment, same network, overlap and usable hosts', () => {
    const lan = parseNetwork('192.0.2.0/24');
    expect(networkContains(lan, '192.0.2.200')).toBe(true);
    expect(networkContains(lan, '192.0.3.1')).toBe(false);
    expect(networkContains(parseNetwork('0.0.0.0/0'), '203.0.113.9')).toBe(true);
    expect(sameNetwork('192.0.2.10', '192.0.2.250', 24)).toBe(true);
    expect(sameNetwork('192.0.2.10', '192.0.2.250', 25)).toBe(false);
    expect(sameNetwork('10.1.2.3', '10.200.0.1', 8)).toBe(true);
    expect(formatNetwork(networkOf('192.0.2.77', 26))).toBe('192.0.2.64/26');
    expect(networksOverlap(parseNetwork('198.18.0.0/15'), parseNetwork('198.19.4.0/24'))).toBe(true);
    expect(networksOverlap(parseNetwork('192.0.2.0/25'), parseNetwork('192.0.2.128/25'))).toBe(false);
    expect(isUsableHost(lan, '192.0.2.0')).toBe(false);
    expect(isUsableHost(lan, '192.0.2.255')).toBe(false);
    expect(isUsableHost(lan, '192.0.2.1')).toBe(true);
    expect(isUsableHost(parseNetwork('192.0.2.4/31'), '192.0.2.4')).toBe(true);
  });
});

describe('host addresses: an IPv4 address or an RFC 1123 host name', () => {
  it.each(['rs1', 'web-1.example.org', 'a', '1host', 'lb01.dc2.example.com', 'x'.repeat(63), `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`])(
    '%s is a host name',
    (text) => {
      expect(isHostName(text)).toBe(true);
      expect(isHostAddress(text)).toBe(true);
    },
  );

  it.each([
    ['-oProxyCommand=touch /tmp/x', /starts with "-"/],
    ['-rs1', /starts with "-"/],
    ['rs1:2222', /carries a port/],
    ['rs1.', /ends with a dot/],
    ['a..b', /empty label/],
    ['.rs1', /empty label/],
    ['rs1-', /label "rs1-"/],
    ['rs_1', /label "rs_1"/],
    ['rs 1', /spaces/],
    ['x'.repeat(64), /label of 64 characters/],
    [`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}`, /at most 253/],
    ['127', /numeric/],
    ['0x7f', /numeric/],
    ['host.123', /numeric/],
    ['', /empty/],
  ])('%j is not a host name: %s', (text, why) => {
    expect(isHostName(text)).toBe(false);
    expect(hostNameProblem(text)).toMatch(why);
  });

  it.each([
    ['192.0.2.10', undefined],
    ['rs1.example', undefined],
    ['203.0.113', /3 parts, not 4/],
    ['203.0.113.010', /leading zero/],
    ['0x7f.1', /hexadecimal/],
    ['2130706433', /bare number/],
    ['192.0.2.10.', /ends with a dot/],
    ['-oProxyCommand=x', /starts with "-"/],
    ['rs1:22', /carries a port/],
    ['fe80::1', /IPv6/],
    ['a..b', /empty label/],
  ])('host address %j: %s', (text, why) => {
    const problem = hostAddressProblem(text);
    if (why === undefined) expect(problem).toBeUndefined();
    else expect(problem).toMatch(why);
  });
});
