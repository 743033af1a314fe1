import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSections } from '../../src/engine/batch-script.js';
import { parseArpOutput } from '../../src/verify/arp-output.js';
import { parseClientOutput } from '../../src/verify/client-output.js';
import { parseDeviceFacts } from '../../src/verify/director-probe.js';

// Table-driven from output captured on netns lab hosts (test/fixtures/verify/<kind>/*.json): the
// client's request loop with curl, GNU wget and busybox wget, and the ARP check with iputils and
// busybox arping. Each file holds the real stdout and, written by hand, what it must parse to.

const root = join(import.meta.dirname, '../fixtures/verify');
const cases = <T>(kind: string): Array<[string, T]> =>
  readdirSync(join(root, kind))
    .filter((file) => file.endsWith('.json'))
    .map((file) => [file.replace(/\.json$/, ''), JSON.parse(readFileSync(join(root, kind, file), 'utf8')) as T]);

type Outcome = [number, string | null];
interface ClientCase {
  nonce: string;
  stdout: string;
  expected: { fetcher: string; complete: boolean; pages: Record<string, Outcome>; requests: Record<string, Outcome[]>; stopped: Record<string, number> };
}

const pair = (outcome: { rc: number; name?: string }): Outcome => [outcome.rc, outcome.name ?? null];

describe('client request loop output', () => {
  it.each(cases<ClientCase>('client'))('%s', (_, fixture) => {
    const parsed = parseClientOutput(fixture.nonce, fixture.stdout);
    expect({
      fetcher: parsed.fetcher,
      complete: parsed.complete,
      pages: Object.fromEntries([...parsed.pages].map(([index, outcome]) => [String(index), pair(outcome)])),
      requests: Object.fromEntries([...parsed.requests].map(([index, list]) => [String(index), list.map(pair)])),
      stopped: Object.fromEntries([...parsed.stopped].map(([index, at]) => [String(index), at])),
    }).toEqual(fixture.expected);
  });

  it('ignores lines without this run nonce and notices a loop that never ended', () => {
    const fixture = cases<ClientCase>('client').find(([name]) => name === 'split-curl')?.[1] as ClientCase;
    const cut = fixture.stdout.split('\n').slice(0, 5);
    const noisy = ['Welcome to lab host', `${fixture.nonce.slice(1)} r 0 1 0 rs9`, ...cut, `${fixture.nonce} r 0 9 0 <b>x</b>`].join('\n');
    const parsed = parseClientOutput(fixture.nonce, noisy);
    expect(parsed.complete).toBe(false);
    // The last line names no valid host: a request without an answer, never a host called "<b>x</b>".
    expect(parsed.requests.get(0)?.map(pair)).toEqual([[0, 'rs2'], [0, 'rs1'], [0, null]]);
  });
});

interface ArpCase {
  nonce: string;
  stdout: string;
  expected: {
    tool: string;
    complete: boolean;
    blocks: Record<string, { device?: string; offLink: boolean; vipReplies: Array<[string, string]>; lookups: Record<string, string>; errors: string[] }>;
  };
}

describe('ARP check output', () => {
  it.each(cases<ArpCase>('arp'))('%s', (_, fixture) => {
    const parsed = parseArpOutput(fixture.nonce, fixture.stdout);
    expect({
      tool: parsed.tool,
      complete: parsed.complete,
      blocks: Object.fromEntries(
        [...parsed.blocks].map(([index, block]) => [
          String(index),
          {
            ...(block.device !== undefined ? { device: block.device } : {}),
            offLink: block.offLink,
            vipReplies: block.vipReplies.map((reply) => [reply.from, reply.mac]),
            lookups: Object.fromEntries(block.lookups),
            errors: block.errors,
          },
        ]),
      ),
    }).toEqual(fixture.expected);
  });

  it('keeps arping error lines as errors', () => {
    const output = ['n1 tool iputils', 'n1 dev 0 eth7', 'n1 vip 0', 'arping: Device eth7 not available.', 'n1 end'].join('\n');
    expect(parseArpOutput('n1', output).blocks.get(0)?.errors).toEqual(['arping: Device eth7 not available.']);
  });
});

describe('director device facts', () => {
  const fixture = JSON.parse(readFileSync(join(root, 'director-devices.json'), 'utf8')) as { nonce: string; devices: string[]; stdout: string; expected: unknown[] };
  it('reads MAC and addresses per device, and says when a device is missing', () => {
    const sections = parseSections(fixture.nonce, fixture.stdout);
    expect(fixture.devices.map((device, index) => parseDeviceFacts(device, sections.get(index)))).toEqual(fixture.expected);
  });
  it('reports a section the script never reached', () => {
    expect(parseDeviceFacts('eth0', undefined)).toEqual({ device: 'eth0', addresses: [], error: 'the read script ended early' });
  });
});
