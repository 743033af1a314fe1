import { command, quote } from '../../shell/quote.js';
import type { RealServerRef } from '../types.js';

// The connections a director made to a real server before it changed that server's forwarding
// method. IPVS binds a connection's method when the connection is made (ip_vs_bind_dest copies
// the destination's flags into it, and ip_vs_bind_xmit picks the sender from them), and
// `ipvsadm -e` changes only the destination's flags: the connections already there go on by the
// old method for the rest of their life, new ones take the new one. A switched real server keeps
// the old method's setup (VIP on lo, or tunl0 and its rp_filter, or its NAT source route) until
// the retire wave, and the engine drains these connections before that (while they drain, a switch
// between DR and NAT or TUN pins the server's next hop: next-hop-pin.ts). The table does not show
// a connection's method, so the edit lists the server's open connections right after it runs:
// every one made before is there (a few made right after it may be too, which only makes the
// drain longer), each as `bound CLIENT VIRTUAL DESTINATION`, as `ipvsadm -L -n -c` prints them.
//
// A UDP flow is bound the same way: its entry keeps the old method while datagrams keep coming
// (each one restarts its timeout), and nothing expires it, for its server is still there. Left
// off the list, the drain let the switch's retire take the old method's VIP off the server at
// once, and every later datagram of the flow went to a host that drops it.

const PREFIX = 'bound';

/**
 * The entries of `ipvsadm -L -n -c` a switch leaves on the old method, by protocol, as awk
 * conditions on such a line (`PROTO EXPIRE STATE CLIENT VIRTUAL DESTINATION`): TCP's while
 * opening or established (a closing one asks nothing more of its server), and every UDP one (its
 * state is always UDP). The drain counts them by the same conditions (drain-script.ts).
 */
export const BOUND_ENTRIES = {
  tcp: '$1 == "TCP" && ($3 == "SYN_RECV" || $3 == "ESTABLISHED")',
  udp: '$1 == "UDP"',
} as const;

/** One awk condition: the line is an entry of BOUND_ENTRIES. */
export const boundEntry = `(${Object.values(BOUND_ENTRIES).map((condition) => `(${condition})`).join(' || ')})`;

/** One address and port as `ipvsadm -L -n -c` prints it: `192.0.2.11:80` or `[2001:db8::1]:80`. */
const ENDPOINT = /^(?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:.]+\]):\d{1,5}$/;

/**
 * The command, run right after the edit, that prints the server's SYN_RECV and ESTABLISHED TCP
 * connections and its UDP ones (BOUND_ENTRIES). Matched by addresses, not ports: a port-0 service lists its servers with port 0
 * while each entry carries the port the client came to; and by VIP where the service names one
 * (a fwmark service's entries are matched by the server alone).
 */
export function listBoundCommand(server: RealServerRef): string {
  const strip = 'sub(/:[0-9]+$/, "", v); gsub(/[][]/, "", v); sub(/:[0-9]+$/, "", d); gsub(/[][]/, "", d)';
  const vip = server.vip !== undefined ? ` -v vip=${quote(server.vip)}` : '';
  const program = `${boundEntry} { v = $5; d = $6; ${strip}; if (d == rs${vip ? ' && v == vip' : ''}) print "${PREFIX}", $4, $5, $6 }`;
  return `${command('ipvsadm', '-L', '-n', '-c')} | awk -v rs=${quote(server.address)}${vip} '${program}'`;
}

/** The connections a change's output lists (`CLIENT VIRTUAL DESTINATION` each); other lines are ignored, malformed ones too. */
export function parseBound(output: string): string[] {
  return output.split('\n').flatMap((line) => {
    const words = line.trim().split(/\s+/);
    if (words.length !== 4 || words[0] !== PREFIX) return [];
    const endpoints = words.slice(1);
    return endpoints.every((word) => ENDPOINT.test(word)) ? [endpoints.join(' ')] : [];
  });
}
