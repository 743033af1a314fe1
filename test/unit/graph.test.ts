import { execFileSync, spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadInventory } from '../../src/config/inventory.js';
import { html, topologyDot } from '../../src/graph/dot.js';
import { renderGraph } from '../../src/graph/formats.js';
import { liveLinks, withLiveVrrp } from '../../src/graph/live.js';
import { topologyMermaid } from '../../src/graph/mermaid.js';
import { graphFormatFor } from '../../src/cli/graph-options.js';
import { topology } from '../../src/graph/topology.js';
import type { StatusReport } from '../../src/status/report.js';
import { runCli } from '../support/cli.js';
import { fontconfigWith, inkWidth, svgNodes } from '../support/svg-ink.js';

// lvsprov graph: the topology model from an inventory, its DOT and Mermaid text, and the SVG that
// Graphviz-in-wasm draws from it, rasterised by rsvg-convert (librsvg2-bin, see scripts/setup.sh)
// to prove it is a picture and not only markup. docs/cluster.svg must be exactly what the
// generator makes of inventories/prod.yaml.

const root = join(import.meta.dirname, '../..');
const inventory = (name: string) => loadInventory(join(root, 'inventories', name));
const work = mkdtempSync(join(tmpdir(), 'lvsprov-graph-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Every text element of an SVG, entities decoded, in document order. */
function svgTexts(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((match) =>
    (match[1] as string).replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#45;/g, '-').replace(/&amp;/g, '&').trim(),
  );
}

describe('the topology model', () => {
  it.each([
    ['prod.yaml', { clients: [], routers: ['edge1'], directors: ['lvs1'], vips: [['www', '198.51.100.80', ['TCP 198.51.100.80:443', 'TCP 198.51.100.80:80']]], realServers: ['web1', 'web2', 'web3'] }],
    [
      'lab-dr.yaml',
      {
        clients: [],
        routers: ['router'],
        directors: ['director'],
        vips: [
          ['web', '198.51.100.50', ['TCP 198.51.100.50:80']],
          ['sticky', '198.51.100.51', ['TCP 198.51.100.51:0']],
          ['subnet', '198.51.100.52', ['TCP 198.51.100.52:80']],
          ['marked', '198.51.100.53', ['FWM 1']],
        ],
        realServers: ['rs1', 'rs2'],
      },
    ],
  ])('%s: client side, routers, directors, VIPs with their services, real servers', (file, expected) => {
    const model = topology(inventory(file));
    expect({
      clients: model.clients.map((host) => host.name),
      routers: model.routers.map((host) => host.name),
      directors: model.directors.map((host) => host.name),
      vips: model.vips.map((vip) => [vip.name, vip.address, vip.services.map((service) => service.key)]),
      realServers: model.realServers.map((server) => server.name),
    }).toEqual(expected);
  });

  it('keeps each service\'s scheduler, method, persistence and weighted links', () => {
    const [https, http] = topology(inventory('prod.yaml')).vips[0]?.services ?? [];
    expect(https).toMatchObject({ name: 'www-https', port: 443, scheduler: 'wlc', forwarding: 'dr', persistence: { timeout: 600, netmask: '255.255.255.0' }, directors: ['lvs1'] });
    expect(https?.links).toEqual([
      { realServer: 0, port: 443, weight: 3 },
      { realServer: 1, port: 443, weight: 3 },
      { realServer: 2, port: 443, weight: 1 },
    ]);
    expect(http?.links.map((link) => link.weight)).toEqual([1, 1, 1]);
  });
});

describe('DOT', () => {
  const dot = topologyDot(topology(inventory('lab-dr.yaml')));

  it('draws a box per VIP holding a card per service, and weighted links coloured by method', () => {
    expect(dot.match(/subgraph "cluster_vip_\d+"/g)).toHaveLength(4);
    expect(dot).toContain('<b>VIP marked</b><br/>198.51.100.53');
    expect(dot).toContain('FWM 1 (TCP 80, 8080)');
    expect(dot).toContain('persistent 300 s per /24');
    expect(dot).toContain('TCP all ports');
    expect(dot).toContain('"service:0:0" -> "rs:192.0.2.12" [label="w 3", color="#2f6db5"];');
    expect(dot).toContain('"director:director" -> "service:3:0" [lhead="cluster_vip_3"');
    expect(dot).toContain('"client:clients" -> "router:router";');
    expect(dot).toContain('"router:router" -> "director:director" [label="VIPs routed"];');
    expect(dot).toContain('<b>forwarding</b>');
  });

  it('dashes a weight-0 link, and with live states colours links and servers by what the table says', () => {
    const model = topology(inventory('lab-dr.yaml'));
    const quiet = { ...model, vips: model.vips.map((vip, v) => (v === 0 ? { ...vip, services: vip.services.map((service) => ({ ...service, links: service.links.map((link) => ({ ...link, weight: 0 })) })) } : vip)) };
    expect(topologyDot(quiet)).toContain('"service:0:0" -> "rs:192.0.2.11" [label="w 0", color="#6b7280", style=dashed];');
    const report: StatusReport = {
      at: '2026-11-30T00:00:00.000Z',
      hosts: [
        {
          host: 'director',
          address: '192.0.2.10',
          reachable: true,
          stats: { connections: 1, channels: 1, execs: 1 },
          director: {
            table: 'ok',
            vips: [],
            services: [
              {
                key: 'TCP 198.51.100.50:80',
                state: 'live',
                servers: [
                  { endpoint: '192.0.2.11:80', state: 'quiesced', weight: 0, activeConns: 2 },
                  { endpoint: '192.0.2.12:80', state: 'active', weight: 3, activeConns: 6 },
                ],
              },
              { key: 'TCP 198.51.100.51:0', state: 'absent', servers: [{ endpoint: '192.0.2.11:0', state: 'absent' }] },
            ],
          },
        },
      ],
    };
    const live = topologyDot(model, { live: liveLinks(report) });
    expect(live).toContain('"service:0:0" -> "rs:192.0.2.11" [label="w 1, 2 active", color="#d99a0b"];');
    expect(live).toContain('"service:0:0" -> "rs:192.0.2.12" [label="w 3, 6 active", color="#2f9e55"];');
    expect(live).toContain('"service:1:0" -> "rs:192.0.2.11" [label="w 1", color="#d03b3b", style=dashed];');
    // rs1 is absent from one service: the worst state colours the server.
    expect(live).toMatch(/"rs:192\.0\.2\.11" \[label=<<table [^>]*bgcolor="#fbdcdc" color="#d03b3b">.*REAL SERVER.*rs1.*absent/);
    expect(live).toContain('<b>live state</b>');
  });

  it('with lvs.sessions, marks the real servers that run memcached, and draws a store that serves no VIP with an edge from each real server', () => {
    const lab = topologyDot(topology(inventory('lab-dr.yaml')));
    expect(lab).toContain('<b>rs1</b></td></tr><tr><td align="center"><font point-size="10" color="#2b2f36">192.0.2.11</font></td></tr><tr><td align="center"><font point-size="10" color="#2b2f36">memcached :11211</font>');
    expect(topologyDot(topology(inventory('prod.yaml')))).not.toContain('memcached');

    const file = join(work, 'dedicated-store.yaml');
    writeFileSync(
      file,
      readFileSync(join(root, 'inventories/prod.yaml'), 'utf8')
        .replace('  web3:\n', '  cache1: { address: 192.0.2.30 }\n  web3:\n')
        .concat('  sessions:\n    hosts: [cache1, web1]\n    port: 11300\n'),
    );
    const model = topology(loadInventory(file));
    expect(model.sessions).toEqual({ port: 11300, stores: [{ name: 'cache1', address: '192.0.2.30' }, { name: 'web1', address: '192.0.2.21' }] });
    const dot = topologyDot(model);
    expect(dot).toContain('"store:cache1" [label=<<table');
    expect(dot).toContain('SESSION STORE');
    for (const rs of ['192.0.2.21', '192.0.2.22', '192.0.2.23']) expect(dot).toContain(`"rs:${rs}" -> "store:cache1" [label="sessions", color="#9a7cc4", style=dashed];`);
    expect(dot.match(/memcached :11300/g)).toHaveLength(2);
    const mermaid = topologyMermaid(model);
    expect(mermaid).toContain('  store0["session store<br/>cache1<br/>192.0.2.30<br/>memcached :11300"]:::sessionStore');
    expect(mermaid).toContain('  rs0["real server<br/>web1<br/>192.0.2.21<br/>memcached :11300"]:::realServer');
    expect(mermaid).toContain('  rs2 -->|"sessions"| store0');
  });

  it('escapes names for HTML labels and identifiers', () => {
    expect(html('a<b>&"c"')).toBe('a&lt;b&gt;&amp;&quot;c&quot;');
  });
});

describe('Mermaid', () => {
  it('draws the same nodes, subgraphs per VIP and weighted links', () => {
    const text = topologyMermaid(topology(inventory('prod.yaml')));
    expect(text.split('\n')[0]).toBe('flowchart LR');
    expect(text).toContain('  subgraph vip0["VIP www 198.51.100.80"]');
    expect(text).toContain('    service0_0["www-https<br/>TCP :443<br/>wlc, DR<br/>persistent 600 s per /24"]:::service');
    expect(text).toContain('  service0_0 -->|"w 3"| rs0');
    expect(text).toContain('  router0 -->|"VIPs routed"| director0');
    expect(text).toMatch(/^  linkStyle \d+ stroke:#2f6db5,stroke-width:2px$/m);
  });
});

describe('SVG', () => {
  it('renders in-process and rasterises, with every name, address and service in its text', async () => {
    const { text: svg, warnings } = await renderGraph(topology(inventory('prod.yaml')), 'svg');
    expect(warnings).toEqual([]);
    const texts = svgTexts(svg);
    for (const expected of ['prod', 'CLIENT', 'clients', 'ROUTER', 'edge1', '192.0.2.1', 'DIRECTOR', 'lvs1', '192.0.2.10', 'VIP www', '198.51.100.80', 'www-https', 'TCP :443', 'wlc, DR', 'persistent 600 s per /24', 'www-http', 'TCP :80', 'wrr, DR', 'web1', '192.0.2.21', 'web2', 'web3', '192.0.2.23', 'w 3', 'w 1', 'VIPs routed', 'forwarding', 'DR (direct routing)']) {
      expect(texts, expected).toContain(expected);
    }
    const svgFile = join(work, 'prod.svg');
    const png = join(work, 'prod.png');
    writeFileSync(svgFile, svg);
    execFileSync('rsvg-convert', ['-o', png, svgFile]);
    const image = readFileSync(png);
    expect(image.subarray(1, 4).toString('latin1')).toBe('PNG');
    const [width, height] = [image.readUInt32BE(16), image.readUInt32BE(20)];
    expect(width).toBeGreaterThan(600);
    expect(height).toBeGreaterThan(250);
  }, 60_000);

  // Graphviz lays text out at Helvetica's widths; rsvg draws it in the font Pango finds for
  // "Helvetica,sans-Serif": DejaVu Sans (wider) on this Debian even with Liberation Sans
  // (Helvetica's widths) installed, Liberation Sans where it is the only sans. Every line of every
  // card must end inside its card in each.
  it('sizes each card from its text: every line rsvg draws ends inside its card, in DejaVu Sans, Liberation Sans and the machine default', async () => {
    const dejavu = fontconfigWith(join(work, 'dejavu'), ['/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf', '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf']);
    const liberation = fontconfigWith(join(work, 'liberation'), ['/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf', '/usr/share/fonts/truetype/liberation2/LiberationSans-Bold.ttf']);
    const measured = new Map<string, number>();
    const overflows: string[] = [];
    for (const name of ['lab-dr.yaml', 'prod.yaml', 'lab-ha.yaml']) {
      const { text: svg } = await renderGraph(topology(inventory(name)), 'svg');
      expect(svgNodes(svg).map((node) => node.title)).toContain('legend');
      const nodes = svgNodes(svg);
      expect(nodes.some((node) => node.texts.length > 0)).toBe(true);
      for (const node of nodes) {
        for (const line of node.texts) {
          for (const [font, config] of [['default', undefined], ['DejaVu Sans', dejavu], ['Liberation Sans', liberation]] as const) {
            const key = `${font} ${line.size} ${line.bold} ${line.text}`;
            const width = measured.get(key) ?? inkWidth(line.text, line.size, line.bold, config);
            measured.set(key, width);
            if (line.x + width > node.right - 1 || line.x < node.left) overflows.push(`${name} ${node.title}: "${line.text}" in ${font} ends at ${(line.x + width).toFixed(1)}, the card at ${node.right.toFixed(1)}`);
          }
        }
      }
    }
    expect(measured.get('DejaVu Sans 10 false memcached :11211')).toBeGreaterThan((measured.get('Liberation Sans 10 false memcached :11211') ?? Infinity) + 5);
    expect(overflows).toEqual([]);
  }, 120_000);

  it('-o where no file can be written is the operator\'s input (exit 4, said), leaving no temp file', async () => {
    const missingFolder = await runCli(['graph', '-i', join(root, 'inventories/prod.yaml'), '-o', join(work, 'no-such-folder', 'cluster.svg')]);
    expect(missingFolder.code).toBe(4);
    expect(missingFolder.stderr).toMatch(/^-o \S+no-such-folder\/cluster\.svg: cannot write the picture there: ENOENT/m);
    expect(missingFolder.stderr).not.toMatch(/internal error|\n +at /);
    const folder = join(work, 'a-folder');
    mkdirSync(folder);
    const onFolder = await runCli(['graph', '-i', join(root, 'inventories/prod.yaml'), '-o', folder]);
    expect(onFolder.code).toBe(4);
    expect(onFolder.stderr).toMatch(/cannot write the picture there: EISDIR/);
    expect(existsSync(`${folder}.tmp`)).toBe(false);
  }, 60_000);

  it('-o writes what it names as a shell redirect would: through a symbolic link (kept), into a FIFO (kept), never replacing either', async () => {
    const prod = join(root, 'inventories/prod.yaml');
    const target = join(work, 'linked.dot');
    writeFileSync(target, 'old\n');
    const link = join(work, 'link.dot');
    symlinkSync(target, link);
    const viaLink = await runCli(['graph', '-i', prod, '-o', link]);
    expect(viaLink.code, viaLink.stderr).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(target, 'utf8')).toMatch(/^digraph lvs \{/);
    // A link whose target is not there yet: `>` creates the target, and the link stays.
    mkdirSync(join(work, 'later'));
    const dangling = join(work, 'dangling.dot');
    symlinkSync('later/made.dot', dangling);
    const viaDangling = await runCli(['graph', '-i', prod, '-o', dangling]);
    expect(viaDangling.code, viaDangling.stderr).toBe(0);
    expect(lstatSync(dangling).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(work, 'later/made.dot'), 'utf8')).toMatch(/^digraph lvs \{/);
    // `-o -` is standard output, as `-i -` is standard input; `-o ''` names no file.
    const dash = await runCli(['graph', '-i', prod, '-o', '-', '--format', 'dot'], { cwd: work });
    expect(dash.code, dash.stderr).toBe(0);
    expect(dash.stdout).toMatch(/^digraph lvs \{/);
    expect(existsSync(join(work, '-'))).toBe(false);
    const empty = await runCli(['graph', '-i', prod, '-o', '']);
    expect([empty.code, empty.stderr.trim()]).toEqual([4, '-o needs a file name (or - for standard output)']);
    const fifo = join(work, 'picture.fifo');
    execFileSync('mkfifo', [fifo]);
    const reader = spawn('cat', [fifo]);
    let read = '';
    reader.stdout.on('data', (chunk: Buffer) => (read += chunk.toString()));
    const closed = new Promise((resolve) => reader.on('close', resolve));
    const intoFifo = await runCli(['graph', '-i', prod, '-o', fifo, '--format', 'dot']);
    await closed;
    expect(intoFifo.code, intoFifo.stderr).toBe(0);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    expect(read).toMatch(/^digraph lvs \{/);
    expect(readdirSync(work).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  }, 60_000);

  it("-o without --format takes the format from the file's extension (.dot .gv, .mmd .mermaid, else SVG); --format wins", async () => {
    const prod = join(root, 'inventories/prod.yaml');
    const cases: Array<[string, string[], RegExp]> = [
      ['cluster.dot', [], /^digraph lvs \{/],
      ['cluster.gv', [], /^digraph lvs \{/],
      ['cluster.mmd', [], /^flowchart LR\n/],
      ['cluster.mermaid', [], /^flowchart LR\n/],
      ['cluster.svg', [], /^<\?xml/],
      ['cluster.picture', [], /^<\?xml/],
      ['forced.dot', ['--format', 'svg'], /^<\?xml/],
    ];
    for (const [name, extra, expected] of cases) {
      const file = join(work, name);
      const result = await runCli(['graph', '-i', prod, '-o', file, ...extra]);
      expect(result.code, result.stderr).toBe(0);
      expect(readFileSync(file, 'utf8'), name).toMatch(expected);
    }
  }, 60_000);

  it('docs/cluster.svg is what lvsprov graph draws from inventories/prod.yaml', async () => {
    const { text } = await renderGraph(topology(inventory('prod.yaml')), 'svg');
    expect(readFileSync(join(root, 'docs/cluster.svg'), 'utf8'), 'regenerate it: lvsprov graph -i inventories/prod.yaml -o docs/cluster.svg').toBe(text);
  }, 60_000);
});

describe('a NAT director pair in both pictures', () => {
  // Two directors under lvs.ha, the second the master by priority, real servers on another port.
  const file = join(work, 'ha-nat.yaml');
  writeFileSync(
    file,
    [
      'hosts:',
      '  one: { address: 198.18.50.5, vars: { dip: 198.18.51.5 } }',
      '  two: { address: 198.18.50.6, vars: { dip: 198.18.51.6 } }',
      '  a: { address: 198.18.51.31 }',
      'groups:',
      '  directors: { hosts: [one, two] }',
      '  realservers: { hosts: [a] }',
      'lvs:',
      '  ha:',
      '    virtual_router_id: 91',
      '    directors: { one: { priority: 120 }, two: { priority: 200, state: backup, nopreempt: true } }',
      '    gateway: { address: 198.18.51.1, interface: eth1, virtual_router_id: 92 }',
      '  vips: { front: { address: 198.51.100.90 } }',
      '  services:',
      '    - { name: front, vip: front, port: 80, scheduler: wrr, forwarding: nat, real_servers: [{ host: a, port: 8081, weight: 4 }] }',
      '',
    ].join('\n'),
  );

  it.each([
    ['DOT', () => topologyDot(topology(loadInventory(file)))],
    ['Mermaid', () => topologyMermaid(topology(loadInventory(file)))],
  ])("%s: the real server's own port on its link, and each director's VRRP part on its edge to the VIP", (_format, draw) => {
    const text = draw();
    expect(text).toContain('w 4 to :8081');
    expect(text).toContain('VRRP 91 master, prio 120');
    expect(text).toContain('VRRP 91 backup, prio 200, nopreempt');
  });

  // After a failover the configured backup holds the VIP: status --graph says who holds it now.
  const vrrpRead = (host: string, state: 'master' | 'backup', priority: number): StatusReport['hosts'][number] => ({
    host,
    address: '',
    reachable: true,
    stats: { connections: 1, channels: 1, execs: 1 },
    director: {
      table: 'ok',
      vips: [],
      services: [],
      vrrp: [{ instance: 'VI_91', virtualRouterId: 91, priority, state, held: state === 'master' ? ['198.51.100.90'] : [], notHeld: state === 'master' ? [] : ['198.51.100.90'] }],
    },
  });
  it.each([
    ['DOT', (model: ReturnType<typeof topology>) => topologyDot(model)],
    ['Mermaid', (model: ReturnType<typeof topology>) => topologyMermaid(model)],
  ])('%s with the live state: the director that holds the VIP now is the master, the inventory\'s part beside it', (_format, draw) => {
    const failedOver: StatusReport = { at: '2026-11-30T00:00:00.000Z', hosts: [vrrpRead('one', 'backup', 120), vrrpRead('two', 'master', 200)] };
    const text = draw(withLiveVrrp(topology(loadInventory(file)), failedOver));
    expect(text).toContain('VRRP 91 master, prio 200, nopreempt (configured backup)');
    expect(text).toContain('VRRP 91 backup, prio 120 (configured master)');
    const oneUnread: StatusReport = { at: '2026-11-30T00:00:00.000Z', hosts: [{ host: 'one', address: '', reachable: false, stats: { connections: 0, channels: 0, execs: 0 } }, vrrpRead('two', 'backup', 200)] };
    const unread = draw(withLiveVrrp(topology(loadInventory(file)), oneUnread));
    expect(unread).toContain('VRRP 91 not read, prio 120 (configured master)');
    expect(unread).toContain('VRRP 91 backup, prio 200, nopreempt');
    expect(unread).not.toContain('(configured backup)');
  });
});

describe('a director that holds no VIP', () => {
  // In the directors group but named by no service (a spare, or one whose services moved): it is
  // part of the cluster and drawn as such, with no edge a VIP would take.
  const file = join(work, 'idle-director.yaml');
  writeFileSync(
    file,
    [
      'hosts:',
      '  gw: { address: 203.0.113.1 }',
      '  busy: { address: 192.0.2.10 }',
      '  spare: { address: 192.0.2.20 }',
      '  a: { address: 192.0.2.31 }',
      'groups:',
      '  routers: { hosts: [gw] }',
      '  directors: { hosts: [busy, spare] }',
      '  realservers: { hosts: [a] }',
      'lvs:',
      '  vips: { front: { address: 198.51.100.90 } }',
      '  services:',
      '    - { name: front, vip: front, port: 80, scheduler: rr, forwarding: dr, directors: [busy], real_servers: [{ host: a }] }',
      '',
    ].join('\n'),
  );

  it('is in the model, marked as holding none', () => {
    expect(topology(loadInventory(file)).directors).toEqual([
      { name: 'busy', address: '192.0.2.10' },
      { name: 'spare', address: '192.0.2.20', idle: true },
    ]);
  });

  it('is drawn in DOT, Mermaid and SVG, with no "VIPs routed" edge to it', async () => {
    const dot = topologyDot(topology(loadInventory(file)));
    expect(dot).toContain('"director:spare" [label=');
    expect(dot).toContain('holds no VIP');
    expect(dot).toContain('"router:gw" -> "director:busy" [label="VIPs routed"]');
    expect(dot).not.toMatch(/-> "director:spare"/);
    const mermaid = topologyMermaid(topology(loadInventory(file)));
    expect(mermaid).toContain('  director1["director<br/>spare<br/>192.0.2.20<br/>holds no VIP"]:::director');
    expect(mermaid).toContain('  router0 -->|"VIPs routed"| director0');
    expect(mermaid).not.toMatch(/--> .*director1$/m);
    const { text: svg } = await renderGraph(topology(loadInventory(file)), 'svg');
    expect(svgTexts(svg)).toEqual(expect.arrayContaining(['spare', '192.0.2.20', 'holds no VIP']));
  });
});

describe('the picture format of -o', () => {
  // `graph -o cluster.png` wrote SVG text into cluster.png, exit 0: a picture no viewer opens.
  it.each([
    [undefined, 'cluster.svg', 'svg'],
    [undefined, 'cluster.dot', 'dot'],
    [undefined, 'cluster.GV', 'dot'],
    [undefined, 'cluster.mmd', 'mermaid'],
    [undefined, undefined, 'svg'],
    [undefined, 'cluster', 'svg'],
    ['svg', 'cluster.png', 'svg'],
    ['dot', 'cluster.txt', 'dot'],
  ] as const)('--format %s, -o %s: %s', (format, output, expected) => {
    expect(graphFormatFor(format, output)).toBe(expected);
  });

  it.each(['cluster.png', 'cluster.PDF', 'out/cluster.jpg', 'cluster.jpeg', 'cluster.gif', 'cluster.webp', 'cluster.svgz'])('-o %s without --format is refused, naming the formats lvsprov draws', (output) => {
    expect(() => graphFormatFor(undefined, output)).toThrow(new RegExp(`^-o ${output.replace('.', '\\.')}: lvsprov draws svg, dot or mermaid, not .*; name the file \\.svg`));
  });
});
