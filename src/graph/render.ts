import { instance } from '@viz-js/viz';

// SVG from DOT, in-process: Graphviz compiled to WebAssembly (@viz-js/viz), so no system
// Graphviz is needed. Graphviz's own warnings are returned, errors thrown.

export async function dotToSvg(dot: string): Promise<{ svg: string; warnings: string[] }> {
  const viz = await instance();
  const result = viz.render(dot, { format: 'svg', engine: 'dot' });
  if (result.status !== 'success') throw new Error(`graphviz could not render the graph: ${result.errors.map((error) => error.message).join('; ')}`);
  return { svg: result.output, warnings: result.errors.map((error) => error.message) };
}
