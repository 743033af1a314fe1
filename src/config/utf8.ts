// Why a byte sequence is not UTF-8, for a message a person can act on. The fatal TextDecoder says
// only that the input is invalid; this finds the first offending sequence and names its kind.

export interface Utf8Fault {
  /** Offset of the first byte of the ill-formed sequence. */
  readonly offset: number;
  readonly reason: string;
}

const hex = (byte: number): string => `0x${byte.toString(16).toUpperCase().padStart(2, '0')}`;

/** Allowed range of the second byte after a given lead byte (Unicode Table 3-7), and the sequence length. */
function shapeOf(lead: number): { length: number; low: number; high: number } | null {
  if (lead >= 0xc2 && lead <= 0xdf) return { length: 2, low: 0x80, high: 0xbf };
  if (lead === 0xe0) return { length: 3, low: 0xa0, high: 0xbf };
  if (lead === 0xed) return { length: 3, low: 0x80, high: 0x9f };
  if (lead >= 0xe1 && lead <= 0xef) return { length: 3, low: 0x80, high: 0xbf };
  if (lead === 0xf0) return { length: 4, low: 0x90, high: 0xbf };
  if (lead >= 0xf1 && lead <= 0xf3) return { length: 4, low: 0x80, high: 0xbf };
  if (lead === 0xf4) return { length: 4, low: 0x80, high: 0x8f };
  return null;
}

function badLeadReason(lead: number): string {
  if (lead >= 0x80 && lead <= 0xbf) return `byte ${hex(lead)} continues a character that never started`;
  if (lead === 0xc0 || lead === 0xc1) return `byte ${hex(lead)} starts an overlong encoding`;
  return `byte ${hex(lead)} never occurs in UTF-8`;
}

function badSecondReason(lead: number, second: number): string {
  if (second < 0x80 || second > 0xbf) return `byte ${hex(lead)} starts a character that byte ${hex(second)} does not continue`;
  if (lead === 0xe0 || lead === 0xf0) return `bytes ${hex(lead)} ${hex(second)} are an overlong encoding`;
  if (lead === 0xed) return `bytes ${hex(lead)} ${hex(second)} encode a UTF-16 surrogate, which UTF-8 never holds`;
  return `bytes ${hex(lead)} ${hex(second)} would encode beyond U+10FFFF`;
}

/** The first ill-formed sequence in `bytes`, or null when it is all well-formed UTF-8. */
export function findUtf8Fault(bytes: Uint8Array): Utf8Fault | null {
  let index = 0;
  while (index < bytes.length) {
    const lead = bytes[index]!;
    if (lead < 0x80) {
      index += 1;
      continue;
    }
    const shape = shapeOf(lead);
    if (!shape) return { offset: index, reason: badLeadReason(lead) };
    const second = bytes[index + 1];
    if (second !== undefined && (second < shape.low || second > shape.high)) return { offset: index, reason: badSecondReason(lead, second) };
    for (let next = 2; next < shape.length && index + next < bytes.length; next += 1) {
      const byte = bytes[index + next]!;
      if (byte < 0x80 || byte > 0xbf) {
        return { offset: index, reason: `byte ${hex(lead)} starts a character that byte ${hex(byte)} does not continue` };
      }
    }
    if (index + shape.length > bytes.length) {
      return { offset: index, reason: `byte ${hex(lead)} starts a ${shape.length}-byte character that the file cuts short` };
    }
    index += shape.length;
  }
  return null;
}
