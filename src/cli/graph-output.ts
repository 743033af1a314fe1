import { rename, writeFile } from 'node:fs/promises';
import type { GraphFormat } from '../graph/format-names.js';
import { renderGraph } from '../graph/formats.js';
import type { LiveLinks } from '../graph/live.js';
import type { Topology } from '../graph/topology.js';
import type { CliIo } from './io.js';

// graph and status --graph write the picture the same way: to stdout, or atomically to a file
// (so a browser or editor watching it never reads half a picture during status --watch).

export async function emitGraph(io: CliIo, topology: Topology, format: GraphFormat, output: string | undefined, live?: LiveLinks): Promise<void> {
  const { text, warnings } = await renderGraph(topology, format, live);
  for (const warning of warnings) io.err(`graphviz: ${warning}`);
  if (output === undefined) {
    io.out(text.replace(/\n$/, ''));
    return;
  }
  await writeFile(`${output}.tmp`, text);
  await rename(`${output}.tmp`, output);
}
