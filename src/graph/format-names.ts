// The picture formats, apart from their renderers: the CLI lists them in its options at start.
export const graphFormats = ['svg', 'dot', 'mermaid'] as const;
export type GraphFormat = (typeof graphFormats)[number];
