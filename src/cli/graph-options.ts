import { Option } from 'commander';
import { graphFormats, type GraphFormat } from '../graph/format-names.js';

// The picture options graph and status --graph share; declaring them loads no renderer.

export const formatOption = (): Option =>
  new Option('--format <format>', "picture format (default: from -o's extension: .dot or .gv, .mmd or .mermaid, else svg)").choices(graphFormats);

/** The format asked for, else the one -o's file name says (as Graphviz and mermaid-cli read it), else SVG. */
export function graphFormatFor(format: GraphFormat | undefined, output: string | undefined): GraphFormat {
  if (format !== undefined) return format;
  const extension = /\.([A-Za-z]+)$/.exec(output ?? '')?.[1]?.toLowerCase();
  if (extension === 'dot' || extension === 'gv') return 'dot';
  if (extension === 'mmd' || extension === 'mermaid') return 'mermaid';
  return 'svg';
}
export const outputOption = (): Option => new Option('-o, --output <file>', 'write the picture to this file (replaced atomically) instead of stdout');
