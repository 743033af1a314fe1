import { z } from 'zod';
import { command, quote } from '../shell/quote.js';
import { interfaceName } from '../config/values.js';
import { throwIfToolMissing, withTool } from './missing-tool.js';
import type { Change, ProbeOutput, ResourceType } from './types.js';

// The administrative state and MTU of a network device, e.g. `tunl0` up on a TUN real server.
// A missing device is a fact: tunl0 appears only after an earlier task loaded ipip, so the plan
// still brings it up and the apply fails loudly if nothing created it by then.

export const linkSchema = z
  .object({
    device: interfaceName,
    state: z.enum(['up', 'down']).default('up'),
    // 68 is the smallest MTU IPv4 works with; 65536 is the loopback default.
    mtu: z.number().int().min(68).max(65536).optional(),
    /** Also set the link at boot: see src/config/boot-tasks.ts. */
    at_boot: z.boolean().optional(),
  })
  .strict();

export type LinkSpec = z.output<typeof linkSchema>;

export interface LinkFacts {
  readonly exists: boolean;
  /** Administrative state: the UP flag, not the carrier (`state UNKNOWN` on lo and tunl0). */
  readonly up: boolean;
  readonly mtu: number | null;
}

const NO_DEVICE = 'no-device';
const ABSENT: LinkFacts = { exists: false, up: false, mtu: null };

/** `3: eth0@peer0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc ... \    link/ether ...` */
function parseLine(line: string): LinkFacts {
  const flags = /<([^>]*)>/.exec(line)?.[1];
  const mtu = /\smtu (\d+)\s/.exec(line)?.[1];
  if (flags === undefined || mtu === undefined) throw new Error(`unexpected link line: ${line.slice(0, 120)}`);
  return { exists: true, up: flags.split(',').includes('UP'), mtu: Number(mtu) };
}

export const link: ResourceType<LinkSpec, LinkFacts> = {
  name: 'link',
  schema: linkSchema,

  key: (spec) => `link ${spec.device}`,

  probe(spec) {
    return withTool('ip', `if [ -e /sys/class/net/${quote(spec.device)} ]; then ${command('ip', '-o', 'link', 'show', 'dev', spec.device)}; else printf '${NO_DEVICE}\\n'; fi`);
  },

  parse(output: ProbeOutput, spec): LinkFacts {
    throwIfToolMissing(output, 'ip');
    if (output.status !== 0) throw new Error(`reading link ${spec.device} failed with status ${output.status}`);
    const line = output.stdout.trim();
    return line === NO_DEVICE ? ABSENT : parseLine(line);
  },

  plan(spec, facts) {
    const changes: Change[] = [];
    const missing = facts.exists ? '' : ` (${spec.device} does not exist yet)`;
    // MTU first: a device brought up already carries the right MTU.
    if (spec.mtu !== undefined && facts.mtu !== spec.mtu) {
      const before = facts.mtu === null ? '(absent)' : String(facts.mtu);
      changes.push({
        resource: `link ${spec.device}`,
        summary: `set ${spec.device} mtu ${before} -> ${spec.mtu}${missing}`,
        diff: { kind: 'value', before, after: String(spec.mtu) },
        commands: [command('ip', 'link', 'set', 'dev', spec.device, 'mtu', spec.mtu)],
      });
    }
    // A device that does not exist is not up, so `down` already holds for it.
    const wantUp = spec.state === 'up';
    if (facts.up !== wantUp) {
      const before = facts.exists ? (facts.up ? 'up' : 'down') : '(absent)';
      changes.push({
        resource: `link ${spec.device}`,
        summary: `set ${spec.device} ${before} -> ${spec.state}${missing}`,
        diff: { kind: 'value', before, after: spec.state },
        commands: [command('ip', 'link', 'set', 'dev', spec.device, spec.state)],
      });
    }
    return changes;
  },

  after(spec, facts) {
    const changesSomething = spec.state === 'up' || spec.mtu !== undefined;
    return {
      exists: facts.exists || changesSomething,
      up: spec.state === 'up',
      mtu: spec.mtu ?? facts.mtu,
    };
  },
};
