import { rename, rm, writeFile } from 'node:fs/promises';
import { UsageError } from '../errors.js';
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
  const temporary = `${output}.tmp`;
  try {
    await writeFile(temporary, text);
    await rename(temporary, output);
  } catch (error) {
    // A folder that is not there, a folder in place of the file, no permission: the operator's
    // -o, said as such (exit 4), never an internal error; no temp file left behind.
    await rm(temporary, { force: true }).catch(() => undefined);
    throw new UsageError(`-o ${output}: cannot write the picture there: ${(error as Error).message}`);
  }
}
