import type { KeepalivedSpec } from './schema.js';

// A director dropped from a VRRP group keeps its keepalived running with its old config until
// something stops it. Once the directors that stay stop advertising to it (their new config
// drops it from unicast_peer), it hears no master: three adverts later it becomes MASTER and
// takes the VIPs too, or, master already, it keeps them. So the dropped director's pruned
// keepalived stops in the prepare wave, before the others reload in balance, and a director whose
// new config drops a peer says which (the engine holds it back while that peer's host failed).

/** The addresses of the `unicast_peer` blocks of a keepalived.conf as lvsprov writes it. */
export function configPeers(text: string): string[] {
  const peers: string[] = [];
  let inside = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === 'unicast_peer {') inside = true;
    else if (inside && line === '}') inside = false;
    else if (inside && line !== '') peers.push(line);
  }
  return [...new Set(peers)];
}

/** The peers of the config on the host (`live`) that `spec` no longer names. */
export function droppedPeers(spec: KeepalivedSpec, live: string | undefined): string[] {
  if (live === undefined) return [];
  const kept = new Set(spec.instances.flatMap((instance) => instance.unicast_peers));
  return configPeers(live).filter((peer) => !kept.has(peer));
}
