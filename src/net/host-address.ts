import { blankProblem, ipv4Problem, unicastProblem } from './ipv4.js';

// What an inventory may give as the address SSH connects to: a canonical IPv4 address or an
// RFC 1123 host name (labels of letters, digits and inner hyphens, 1-63 each, 253 in all). A name
// never starts with `-` (ssh would read `-oProxyCommand=...` as an option), never carries a port
// (`host:port`: the port is `ssh.port`), and is never all numbers, which resolvers read as an
// IPv4 address in a legacy form (`203.0.113`, `0x7f.1`, `2130706433`).

const label = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
/** A last label inet_aton would read as a number: decimal, octal or hexadecimal. */
const numericLabel = /^(?:\d+|0x[0-9A-Fa-f]*)$/i;

export function isHostName(text: unknown): text is string {
  return typeof text === 'string' && hostNameProblem(text) === undefined;
}

/** Why `text` is not an RFC 1123 host name; undefined when it is one. */
export function hostNameProblem(text: string): string | undefined {
  if (text === '') return 'is empty';
  if (text.startsWith('-')) return 'starts with "-" (a command would read it as an option)';
  const blank = blankProblem(text);
  if (blank) return blank;
  if (text.includes(':')) return /^[^:]+:\d*$/.test(text) ? 'carries a port (host:port); set ssh.port instead' : 'is an IPv6 address; lvsprov manages IPv4 only';
  if (text.length > 253) return `is ${text.length} characters long; a host name has at most 253`;
  const labels = text.split('.');
  if (labels.some((part) => part === '')) return text.endsWith('.') ? 'ends with a dot' : 'has an empty label (two dots in a row, or a leading dot)';
  const bad = labels.find((part) => !label.test(part));
  if (bad !== undefined) {
    return bad.length > 63
      ? `has a label of ${bad.length} characters; a label has at most 63`
      : `has the label "${bad}"; a label is letters, digits and hyphens, not starting or ending with a hyphen`;
  }
  if (numericLabel.test(labels[labels.length - 1] as string)) return 'is numeric, which resolvers read as an IPv4 address in a legacy form';
  return undefined;
}

export function isHostAddress(text: unknown): text is string {
  return typeof text === 'string' && hostAddressProblem(text) === undefined;
}

/**
 * Why `text` is neither a canonical IPv4 address of a machine (loopback allowed: an SSH tunnel) nor a
 * host name; undefined when it is one of them.
 */
export function hostAddressProblem(text: string): string | undefined {
  if (ipv4Problem(text) === undefined) return unicastProblem(text, true);
  if (hostNameProblem(text) === undefined) return undefined;
  // Something made of digits and dots was meant as an IPv4 address: say what is wrong with it as one.
  const looksNumeric = /^[0-9.]+$/.test(text) || /^(?:0x[0-9a-f]*|\d+)(?:\.(?:0x[0-9a-f]*|\d+))*\.?$/i.test(text);
  return looksNumeric ? ipv4Problem(text) : hostNameProblem(text);
}
