import { describe, expect, it } from 'vitest';
import { parseAnswers, parseIpvsStats, tally } from '../support/cluster-lab.js';

// The e2e tests judge DR, TUN and NAT by what curl and ipvsadm print inside the lab; these are
// those outputs as recorded in the lab (curl 7.88, ipvsadm 1.31 on Debian's 6.1 kernel).

const page = (host: string, address: string): string =>
  `<!doctype html>\n<html>\n<head><title>lvsprov test page: ${host}</title></head>\n<body>\n<h1>${host}</h1>\n<p>served by ${host} (${address})</p>\n</body>\n</html>\n`;

describe('curl answers', () => {
  it('one answer per transfer: the host its page names, and the peer curl talked to', () => {
    const text = `${page('rs2', '192.0.2.12')}lvsprov-answer 198.51.100.50:80 200\n${page('rs1', '192.0.2.11')}lvsprov-answer 198.51.100.50:80 200\n`;
    const answers = parseAnswers(text);
    expect(answers).toEqual([
      { server: 'rs2', peer: '198.51.100.50:80' },
      { server: 'rs1', peer: '198.51.100.50:80' },
    ]);
    expect(tally(answers)).toEqual({ rs1: 1, rs2: 1 });
  });

  it('an error page names no server, and no output means no answers', () => {
    expect(parseAnswers('<h1>rs1</h1>lvsprov-answer 198.51.100.50:80 404\n')).toEqual([{ server: '', peer: '198.51.100.50:80' }]);
    expect(parseAnswers('')).toEqual([]);
  });
});

describe('ipvsadm -L -n --stats --exact', () => {
  const recorded = `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes
  -> RemoteAddress:Port
TCP  198.51.100.50:80                    7       42        0     2874        0
  -> 192.0.2.11:80                       2       12        0      832        0
  -> 192.0.2.12:80                       5       30        0     2042        0
TCP  198.51.100.51:0                     0        0        0        0        0
  -> 192.0.2.11:0                        0        0        0        0        0
`;

  it('counters per service and per real server', () => {
    const stats = parseIpvsStats(recorded);
    expect([...stats.services.keys()]).toEqual(['TCP 198.51.100.50:80', 'TCP 198.51.100.51:0']);
    const web = stats.services.get('TCP 198.51.100.50:80');
    expect(web).toMatchObject({ conns: 7, inPkts: 42, outPkts: 0, inBytes: 2874, outBytes: 0 });
    expect(web?.servers.get('192.0.2.12:80')).toEqual({ conns: 5, inPkts: 30, outPkts: 0, inBytes: 2042, outBytes: 0 });
  });
});
