import type { ServerState } from '../status/model.js';
import { liveLinkKey, type LiveLinks } from './live.js';
import { FONT, forwardingColour, forwardingWord, idleDirectorWords, linkWords, palette, persistenceWords, servicePorts, stateColour, stateRank, vrrpWords } from './style.js';
import { cellWidthFor, helveticaWidth, leftCellWidthFor } from './text-width.js';
import { sessionStoreCards, type Topology, type TopologyHost, type TopologyService } from './topology.js';

// The topology in Graphviz DOT, left to right: clients, routers, directors, one box per VIP with
// a card per virtual service, and the real servers, each link labelled with its weight and
// coloured by forwarding method (or, with live states, by what the director's table says); with
// lvs.sessions, memcached on the real servers that run it, and its other hosts after them. Pure.

/** Text for an HTML-like label: Graphviz reads &, <, > and " as markup there. */
export function html(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A quoted DOT identifier. */
export function id(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

interface Card {
  readonly title: string;
  /** Small muted word above the title: what the box is (router, director, ...). */
  readonly kicker?: string;
  readonly lines: readonly string[];
  readonly fill: string;
  readonly line: string;
  /** A filled title bar in this colour (virtual services). */
  readonly head?: string;
  readonly minWidth: number;
}

/** The card's cell padding, in points (cellpadding below). */
const CELL_PADDING = 4;

/** The node font size (node [fontsize=11] below): the title's. */
const TITLE_SIZE = 11;

/** A card as wide as its widest line needs (see text-width.ts), and at least `minWidth`. */
function cardWidth({ title, kicker, lines, minWidth }: Pick<Card, 'title' | 'kicker' | 'lines' | 'minWidth'>): number {
  const widths = [helveticaWidth(title, TITLE_SIZE, true), ...(kicker ? [helveticaWidth(kicker.toUpperCase(), 8)] : []), ...lines.map((text) => helveticaWidth(text, 10))];
  return Math.max(minWidth, cellWidthFor(Math.max(...widths), CELL_PADDING));
}

function card({ title, kicker, lines, fill, line, head, minWidth: least }: Card): string {
  const minWidth = cardWidth({ title, kicker, lines, minWidth: least });
  const kickerCell = kicker ? `<tr><td align="center" width="${minWidth}"><font point-size="8" color="${palette.muted}">${html(kicker.toUpperCase())}</font></td></tr>` : '';
  const titleCell = head
    ? `<tr><td bgcolor="${head}" align="center" width="${minWidth}"><font color="white"><b>${html(title)}</b></font></td></tr>`
    : `<tr><td align="center" width="${minWidth}"><b>${html(title)}</b></td></tr>`;
  const rows = lines.map((text) => `<tr><td align="center"><font point-size="10" color="${palette.ink}">${html(text)}</font></td></tr>`).join('');
  return `<<table border="1" cellborder="0" cellspacing="0" cellpadding="${CELL_PADDING}" style="rounded" bgcolor="${fill}" color="${line}">${kickerCell}${titleCell}${rows}</table>>`;
}

function node(name: string, label: string): string {
  return `  ${id(name)} [label=${label}];`;
}

function hostNode(prefix: string, host: TopologyHost, role: string, colours: { fill: string; line: string }, extra: readonly string[] = []): string {
  return node(`${prefix}:${host.name}`, card({ title: host.name, kicker: role, lines: [...(host.address ? [host.address] : []), ...extra], minWidth: 96, ...colours }));
}

function serviceCard(service: TopologyService): string {
  const lines = [servicePorts(service), `${service.scheduler}, ${service.forwarding.toUpperCase()}`];
  const persistence = persistenceWords(service);
  if (persistence) lines.push(persistence);
  return card({ title: service.name, lines, fill: palette.service.fill, line: palette.service.line, head: palette.service.head, minWidth: 170 });
}

function worst(states: readonly ServerState[]): ServerState | undefined {
  return stateRank.find((state) => states.includes(state));
}

const LEGEND_PADDING = 3;

function legend(live: boolean): string[] {
  const swatch = (colour: string, text: string, dashed = false): string =>
    `<tr><td>${dashed ? `<font color="${colour}"><b>- - -</b></font>` : `<table border="0" cellpadding="0" cellspacing="0"><tr><td bgcolor="${colour}" width="26" height="4" fixedsize="true"></td></tr></table>`}</td><td align="left" width="${leftCellWidthFor(helveticaWidth(text, 10), LEGEND_PADDING)}"><font point-size="10">${html(text)}</font></td></tr>`;
  const rows = live
    ? [
        swatch(stateColour.active.line, 'active: in the live table'),
        swatch(stateColour.quiesced.line, 'quiesced: weight 0, draining'),
        swatch(stateColour.absent.line, 'absent: declared, not in the table', true),
        swatch(stateColour.undeclared.line, 'in the table, not declared'),
      ]
    : [
        ...(['dr', 'tun', 'nat'] as const).map((method) => swatch(forwardingColour[method], forwardingWord[method])),
        swatch(palette.muted, 'weight 0: out of rotation', true),
      ];
  const label = `<<table border="1" cellborder="0" cellspacing="0" cellpadding="${LEGEND_PADDING}" bgcolor="${palette.legend.fill}" color="${palette.legend.line}"><tr><td colspan="2"><b>${live ? 'live state' : 'forwarding'}</b></td></tr>${rows.join('')}<tr><td colspan="2"><font point-size="9" color="${palette.muted}">w N: scheduler weight</font></td></tr></table>>`;
  return [node('legend', label)];
}

export interface DotOptions {
  /** Live state per link (status --graph); without it links are coloured by forwarding method. */
  readonly live?: LiveLinks;
}

export function topologyDot(topology: Topology, options: DotOptions = {}): string {
  const live = options.live;
  const lines: string[] = [
    'digraph lvs {',
    `  graph [rankdir=LR, compound=true, newrank=true, nodesep=0.35, ranksep=0.9, pad=0.3, fontname="${FONT}", fontsize=12, fontcolor="${palette.ink}", labelloc=t, label=<<b>${html(topology.name ?? 'LVS cluster')}</b>${live ? ' (live)' : ''}>];`,
    `  node [shape=plain, fontname="${FONT}", fontsize=${TITLE_SIZE}, fontcolor="${palette.ink}"];`,
    `  edge [fontname="${FONT}", fontsize=10, color="${palette.muted}", fontcolor="${palette.ink}", arrowsize=0.7, penwidth=1.2];`,
  ];
  const clients = topology.clients.length > 0 ? topology.clients : [{ name: 'clients', address: '' }];
  for (const client of clients) lines.push(hostNode('client', client, 'client', palette.client));
  for (const router of topology.routers) lines.push(hostNode('router', router, 'router', palette.router));
  for (const director of topology.directors) lines.push(hostNode('director', director, 'director', palette.director, director.idle ? [idleDirectorWords] : []));
  // VIPs are routed to the directors that hold one.
  const holding = topology.directors.filter((director) => !director.idle);

  const servers = topology.realServers.map((server, index) => {
    const states: ServerState[] = [];
    topology.vips.forEach((vip) => vip.services.forEach((service) => service.links.filter((link) => link.realServer === index).forEach((link) => {
      const found = live?.get(liveLinkKey(service.key, server.address, link.port));
      if (found) states.push(found.state);
    })));
    const state = worst(states);
    return { server, colours: state ? stateColour[state] : palette.realServer, state };
  });

  topology.vips.forEach((vip, v) => {
    const title = vip.address ? `<b>VIP${vip.name ? ` ${html(vip.name)}` : ''}</b><br/>${html(vip.address)}` : '<b>firewall marks</b>';
    lines.push(`  subgraph ${id(`cluster_vip_${v}`)} {`, `    label=<${title}>; style="rounded,filled"; fillcolor="${palette.vip.fill}"; color="${palette.vip.line}"; margin=12;`);
    vip.services.forEach((service, s) => lines.push(`  ${node(`service:${v}:${s}`, serviceCard(service))}`));
    lines.push('  }');
  });
  const sessions = sessionStoreCards(topology);
  servers.forEach(({ server, colours, state }) => {
    const lines_ = [server.address, ...(state ? [state] : []), ...(sessions.runsStore(server.address) ? sessions.line : [])];
    lines.push(node(`rs:${server.address}`, card({ title: server.name, kicker: 'real server', lines: lines_, minWidth: 96, ...colours })));
  });

  // Session stores that serve no VIP, each reached by every real server (one edge from each).
  for (const store of sessions.dedicated) {
    lines.push(node(`store:${store.name}`, card({ title: store.name, kicker: 'session store', lines: [store.address, ...sessions.line], minWidth: 96, ...palette.sessionStore })));
    for (const server of topology.realServers) lines.push(`  ${id(`rs:${server.address}`)} -> ${id(`store:${store.name}`)} [label="sessions", color="${palette.sessionStore.line}", style=dashed];`);
  }

  // Client side -> routers -> directors.
  const entry = topology.routers.length > 0 ? topology.routers.map((router) => `router:${router.name}`) : holding.map((director) => `director:${director.name}`);
  for (const client of clients) for (const target of entry) lines.push(`  ${id(`client:${client.name}`)} -> ${id(target)};`);
  for (const router of topology.routers) for (const director of holding) lines.push(`  ${id(`router:${router.name}`)} -> ${id(`director:${director.name}`)} [label="VIPs routed"];`);
  // Directors -> the VIP boxes they hold (one edge per box, to its border).
  topology.vips.forEach((vip, v) => {
    const holders = [...new Set(vip.services.flatMap((service) => service.directors))];
    for (const director of holders) {
      const vrrp = vip.vrrp?.directors.find((entry) => entry.host === director);
      const label = vip.vrrp && vrrp ? `, label=${id(vrrpWords(vip.vrrp.id, vrrp))}` : '';
      lines.push(`  ${id(`director:${director}`)} -> ${id(`service:${v}:0`)} [lhead=${id(`cluster_vip_${v}`)}, color="${palette.director.line}"${label}];`);
    }
  });
  // Services -> real servers.
  topology.vips.forEach((vip, v) =>
    vip.services.forEach((service, s) =>
      service.links.forEach((link) => {
        const server = topology.realServers[link.realServer];
        if (!server) return;
        const found = live?.get(liveLinkKey(service.key, server.address, link.port));
        const colour = found ? stateColour[found.state].line : link.weight === 0 ? palette.muted : forwardingColour[service.forwarding];
        const dashed = found ? found.state === 'absent' : link.weight === 0;
        lines.push(`  ${id(`service:${v}:${s}`)} -> ${id(`rs:${server.address}`)} [label=${id(linkWords(service, link, found?.activeConns))}, color="${colour}"${dashed ? ', style=dashed' : ''}];`);
      }),
    ),
  );
  // Real servers top to bottom in inventory order, whatever order crossing minimisation prefers.
  if (topology.realServers.length > 1) {
    lines.push(`  { rank=same; ${topology.realServers.map((server) => id(`rs:${server.address}`)).join(' -> ')} [style=invis]; }`);
  }
  // The legend sits in the first column, under the client side.
  lines.push(...legend(live !== undefined), `  { rank=same; ${clients.map((client) => id(`client:${client.name}`)).join('; ')}; "legend"; }`, '}');
  return `${lines.join('\n')}\n`;
}
