import { liveLinkKey, type LiveLinks } from './live.js';
import { forwardingColour, idleDirectorWords, linkWords, palette, persistenceWords, servicePorts, stateColour, vrrpWords } from './style.js';
import { sessionStoreCards, type Topology } from './topology.js';

// The same picture as Mermaid flowchart text, for places that render Mermaid (GitHub, GitLab,
// wikis) but not SVG files. Node ids are positional; names only appear in quoted labels. Pure.

/** A quoted Mermaid label: `"` and markup-significant characters as Mermaid entity codes. */
function label(lines: readonly string[]): string {
  const escaped = lines.map((line) => line.replace(/[#"<>&]/g, (char) => `#${char.charCodeAt(0)};`));
  return `"${escaped.join('<br/>')}"`;
}

export function topologyMermaid(topology: Topology, options: { readonly live?: LiveLinks } = {}): string {
  const lines = ['flowchart LR'];
  const links: Array<{ from: string; to: string; text?: string; style?: string }> = [];
  const clients = topology.clients.length > 0 ? topology.clients : [{ name: 'clients', address: '' }];
  clients.forEach((client, i) => lines.push(`  client${i}([${label([client.name, ...(client.address ? [client.address] : [])])}]):::client`));
  topology.routers.forEach((router, i) => lines.push(`  router${i}[${label(['router', router.name, router.address])}]:::router`));
  topology.directors.forEach((director, i) => lines.push(`  director${i}[${label(['director', director.name, director.address, ...(director.idle ? [idleDirectorWords] : [])])}]:::director`));
  // VIPs are routed to the directors that hold one (an idle director is last, so indexes stay).
  const holding = topology.directors.filter((director) => !director.idle);
  topology.vips.forEach((vip, v) => {
    const title = vip.address ? `VIP ${vip.name ? `${vip.name} ` : ''}${vip.address}` : 'firewall marks';
    lines.push(`  subgraph vip${v}[${label([title])}]`);
    vip.services.forEach((service, s) => {
      const persistence = persistenceWords(service);
      lines.push(`    service${v}_${s}[${label([service.name, servicePorts(service), `${service.scheduler}, ${service.forwarding.toUpperCase()}`, ...(persistence ? [persistence] : [])])}]:::service`);
    });
    lines.push('  end');
  });
  const sessions = sessionStoreCards(topology);
  topology.realServers.forEach((server, i) =>
    lines.push(`  rs${i}[${label(['real server', server.name, server.address, ...(sessions.runsStore(server.address) ? sessions.line : [])])}]:::realServer`),
  );
  sessions.dedicated.forEach((store, i) => lines.push(`  store${i}[${label(['session store', store.name, store.address, ...sessions.line])}]:::sessionStore`));

  const entries = topology.routers.length > 0 ? topology.routers.map((_, i) => `router${i}`) : holding.map((_, i) => `director${i}`);
  clients.forEach((_, c) => entries.forEach((entry) => links.push({ from: `client${c}`, to: entry })));
  topology.routers.forEach((_, r) => holding.forEach((_, d) => links.push({ from: `router${r}`, to: `director${d}`, text: 'VIPs routed' })));
  topology.vips.forEach((vip, v) => {
    const holders = new Set(vip.services.flatMap((service) => service.directors));
    topology.directors.forEach((director, d) => {
      const vrrp = vip.vrrp?.directors.find((entry) => entry.host === director.name);
      if (holders.has(director.name)) links.push({ from: `director${d}`, to: `vip${v}`, ...(vip.vrrp && vrrp ? { text: vrrpWords(vip.vrrp.id, vrrp) } : {}) });
    });
    vip.services.forEach((service, s) =>
      service.links.forEach((link) => {
        const server = topology.realServers[link.realServer];
        if (!server) return;
        const found = options.live?.get(liveLinkKey(service.key, server.address, link.port));
        const colour = found ? stateColour[found.state].line : link.weight === 0 ? palette.muted : forwardingColour[service.forwarding];
        const dashed = found ? found.state === 'absent' : link.weight === 0;
        links.push({ from: `service${v}_${s}`, to: `rs${link.realServer}`, text: linkWords(service, link, found?.activeConns), style: `stroke:${colour},stroke-width:2px${dashed ? ',stroke-dasharray:5 4' : ''}` });
      }),
    );
  });
  sessions.dedicated.forEach((_, i) =>
    topology.realServers.forEach((_server, r) => links.push({ from: `rs${r}`, to: `store${i}`, text: 'sessions', style: `stroke:${palette.sessionStore.line},stroke-dasharray:5 4` })),
  );
  for (const link of links) lines.push(`  ${link.from} -->${link.text ? `|${label([link.text])}|` : ''} ${link.to}`);
  links.forEach((link, index) => {
    if (link.style) lines.push(`  linkStyle ${index} ${link.style}`);
  });
  const classes = { client: palette.client, router: palette.router, director: palette.director, realServer: palette.realServer, sessionStore: palette.sessionStore } as const;
  for (const [name, colours] of Object.entries(classes)) lines.push(`  classDef ${name} fill:${colours.fill},stroke:${colours.line},color:${palette.ink}`);
  lines.push(`  classDef service fill:${palette.service.fill},stroke:${palette.service.head},color:${palette.ink}`);
  return `${lines.join('\n')}\n`;
}
