import { Command } from 'commander';
import type { GraphFormat } from '../graph/format-names.js';
import { formatOption, graphFormatFor, outputOption } from './graph-options.js';
import type { CliIo } from './io.js';
import { oneInventory } from './option-values.js';

interface GraphFlags {
  inventory: string;
  format?: GraphFormat;
  output?: string;
}

export function graphCommand(io: CliIo): Command {
  return new Command('graph')
    .description('draw the cluster: client side, routers, directors, VIPs with their services, real servers with weights; contacts no host')
    .requiredOption('-i, --inventory <file>', 'inventory YAML (- for standard input)', oneInventory)
    .addOption(formatOption())
    .addOption(outputOption())
    .action(async (flags: GraphFlags) => {
      // The topology and its renderers load only for this command.
      const [{ loadInventory }, { topology }, { emitGraph }] = await Promise.all([import('../config/inventory.js'), import('../graph/topology.js'), import('./graph-output.js')]);
      await emitGraph(io, topology(loadInventory(flags.inventory)), graphFormatFor(flags.format, flags.output), flags.output);
    });
}
