// SVG from DOT, in-process: Graphviz compiled to WebAssembly (@viz-js/viz), so no system
// Graphviz is needed. Graphviz's own warnings are returned, errors thrown. The module (a
// megabyte of wasm) loads on the first picture, not with every command.

export async function dotToSvg(dot: string): Promise<{ svg: string; warnings: string[] }> {
  const { instance } = await import('@viz-js/viz');
  const viz = await instance();
  const result = viz.render(dot, { format: 'svg', engine: 'dot' });
  if (result.status !== 'success') throw new Error(`graphviz could not render the graph: ${result.errors.map((error) => error.message).join('; ')}`);
  return { svg: result.output, warnings: result.errors.map((error) => error.message) };
}
