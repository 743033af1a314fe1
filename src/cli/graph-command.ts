import { Command } from 'commander';
import { loadInventory } from '../config/inventory.js';
import type { GraphFormat } from '../graph/formats.js';
import { topology } from '../graph/topology.js';
import { emitGraph, formatOption, outputOption } from './graph-output.js';
import type { CliIo } from './io.js';

interface GraphFlags {
  inventory: string;
  format: GraphFormat;
  output?: string;
}

export function graphCommand(io: CliIo): Command {
  return new Command('graph')
    .description('draw the cluster: client side, routers, directors, VIPs with their services, real servers with weights; contacts no host')
    .requiredOption('-i, --inventory <file>', 'inventory YAML')
    .addOption(formatOption())
    .addOption(outputOption())
    .action(async (flags: GraphFlags) => {
      await emitGraph(io, topology(loadInventory(flags.inventory)), flags.format, flags.output);
    });
}
