// Reads back the ARP checker's output (see arp-script.ts): per VIP the route to the director,
// the device, and every ARP reply, as iputils arping and busybox arping both print them:
//   Unicast reply from 198.51.100.50 [36:A8:4A:CB:59:EA]  0.545ms

export interface ArpReply {
  readonly from: string;
  readonly mac: string;
}

export interface ArpBlock {
  /** `ip route get` to the director's LAN address, as the checker printed it. */
  readonly route?: string;
  /** The device the requests went out of; absent when the director's LAN is not on-link here. */
  readonly device?: string;
  readonly offLink: boolean;
  readonly vipReplies: readonly ArpReply[];
  /** Lines of arping's output that are not replies or its usual banner: errors. */
  readonly errors: readonly string[];
  /** MAC per looked-up real-server address, where it answered. */
  readonly lookups: ReadonlyMap<string, string>;
}

export interface ArpOutput {
  /** `iputils`, `busybox` or `none`. */
  readonly tool?: string;
  readonly blocks: ReadonlyMap<number, ArpBlock>;
  readonly complete: boolean;
}

const replyPattern = /reply from (\d{1,3}(?:\.\d{1,3}){3}) \[([0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5})\]/;
const bannerPattern = /^(ARPING |Sent \d+ probe|Received \d+ (response|reply))/;

interface MutableBlock {
  route?: string;
  device?: string;
  offLink: boolean;
  vipReplies: ArpReply[];
  errors: string[];
  lookups: Map<string, string>;
}

export function parseArpOutput(nonce: string, stdout: string): ArpOutput {
  let tool: string | undefined;
  let complete = false;
  const blocks = new Map<number, MutableBlock>();
  const block = (key: string | undefined): MutableBlock => {
    const index = Number(key);
    let entry = blocks.get(index);
    if (!entry) {
      entry = { offLink: false, vipReplies: [], errors: [], lookups: new Map() };
      blocks.set(index, entry);
    }
    return entry;
  };
  // Which body the plain lines belong to: the VIP's replies, or one real server's lookup.
  let current: { block: MutableBlock; lookup?: string } | undefined;
  for (const raw of stdout.split('\n')) {
    const line = raw.trimEnd();
    const words = line.split(' ');
    if (words[0] === nonce) {
      const [, kind, key, ...rest] = words;
      current = undefined;
      if (kind === 'tool') tool = key;
      else if (kind === 'end') complete = true;
      else if (kind === 'route') block(key).route = rest.join(' ').trim();
      else if (kind === 'offlink') block(key).offLink = true;
      else if (kind === 'dev') block(key).device = rest[0];
      else if (kind === 'vip') current = { block: block(key) };
      else if (kind === 'who' && rest[0]) current = { block: block(key), lookup: rest[0] };
      continue;
    }
    if (!current || line.trim() === '') continue;
    const reply = replyPattern.exec(line);
    if (reply) {
      const found = { from: reply[1] as string, mac: (reply[2] as string).toLowerCase() };
      if (current.lookup === undefined) current.block.vipReplies.push(found);
      else if (found.from === current.lookup) current.block.lookups.set(current.lookup, found.mac);
    } else if (!bannerPattern.test(line.trim()) && current.lookup === undefined) {
      current.block.errors.push(line.trim());
    }
  }
  return { ...(tool !== undefined ? { tool } : {}), blocks, complete };
}
