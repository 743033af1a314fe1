import { Option } from 'commander';
import { UsageError } from '../errors.js';
import { graphFormats, type GraphFormat } from '../graph/format-names.js';

// The picture options graph and status --graph share; declaring them loads no renderer.

export const formatOption = (): Option =>
  new Option('--format <format>', "picture format (default: from -o's extension: .dot or .gv, .mmd or .mermaid, else svg)").choices(graphFormats);

/** Extensions of picture formats lvsprov does not draw (Graphviz and mermaid-cli write them from -o). */
const rasterOrPrint = new Set(['png', 'jpg', 'jpeg', 'gif', 'webp', 'pdf', 'bmp', 'tif', 'tiff', 'eps', 'ps', 'svgz']);

/**
 * The format asked for, else the one -o's file name says (as Graphviz and mermaid-cli read it), else
 * SVG. A name that says another picture format (`-o cluster.png`) is refused unless --format is
 * given: SVG text in a .png file is a picture no viewer opens.
 */
export function graphFormatFor(format: GraphFormat | undefined, output: string | undefined): GraphFormat {
  if (output === '') throw new UsageError('-o needs a file name (or - for standard output)');
  if (format !== undefined) return format;
  const extension = /\.([A-Za-z]+)$/.exec(output ?? '')?.[1]?.toLowerCase();
  if (extension === 'dot' || extension === 'gv') return 'dot';
  if (extension === 'mmd' || extension === 'mermaid') return 'mermaid';
  if (extension !== undefined && rasterOrPrint.has(extension)) {
    throw new UsageError(`-o ${output}: lvsprov draws svg, dot or mermaid, not ${extension}; name the file .svg and convert it (rsvg-convert, inkscape), or say --format svg to write SVG there anyway`);
  }
  return 'svg';
}
export const outputOption = (): Option => new Option('-o, --output <file>', 'write the picture to this file (replaced atomically; - for stdout) instead of stdout');
