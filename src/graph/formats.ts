import { topologyDot } from './dot.js';
import type { GraphFormat } from './format-names.js';
import type { LiveLinks } from './live.js';
import { topologyMermaid } from './mermaid.js';
import { dotToSvg } from './render.js';
import type { Topology } from './topology.js';

/** The picture in one of the formats; `warnings` are Graphviz's, for stderr. */
export async function renderGraph(topology: Topology, format: GraphFormat, live?: LiveLinks): Promise<{ text: string; warnings: readonly string[] }> {
  const options = live ? { live } : {};
  if (format === 'mermaid') return { text: topologyMermaid(topology, options), warnings: [] };
  const dot = topologyDot(topology, options);
  if (format === 'dot') return { text: dot, warnings: [] };
  const { svg, warnings } = await dotToSvg(dot);
  return { text: svg, warnings };
}
