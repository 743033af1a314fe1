/** Where writeJson writes: a line at a time, and, where the reader can fall behind, a wait for it. */
export interface JsonSink {
  /** Writes one line (the CLI's `io.out`, which adds the newline). */
  readonly out: (line: string) => void;
  /** Resolves once the reader has taken what was written (at once when nothing waits). */
  readonly outDrained?: () => Promise<void>;
}

/**
 * Writes `document` exactly as `JSON.stringify(document, null, 2)` and a newline would, a line
 * group at a time, the array under `streamed` one element at a time. An apply's report on a
 * thousand hosts is tens of megabytes of JSON (every change with its diff and commands); built as
 * one string, and copied once more on its way to stdout, it was the largest thing the process
 * ever held, at its very end. Written in pieces, the peak is one host's report, provided the
 * pieces do not pile up in front of a reader slower than the process: a pipe takes what it has
 * room for and node queues the rest in memory, so after each element the writer waits for the
 * reader (`outDrained`).
 */
export async function writeJson(sink: JsonSink, document: object, streamed: string): Promise<void> {
  const { out } = sink;
  const entries = Object.entries(document).filter(([, value]) => serialisable(value));
  if (entries.length === 0) return out('{}');
  out('{');
  for (const [index, [key, value]] of entries.entries()) {
    const comma = index < entries.length - 1 ? ',' : '';
    const name = `  ${JSON.stringify(key)}: `;
    if (key === streamed && Array.isArray(value) && value.length > 0) {
      out(`${name}[`);
      for (const [at, element] of value.entries()) {
        out(`    ${nested(serialisable(element) ? element : null, 2)}${at < value.length - 1 ? ',' : ''}`);
        await sink.outDrained?.();
      }
      out(`  ]${comma}`);
    } else {
      out(`${name}${nested(value, 1)}${comma}`);
    }
  }
  out('}');
}

/** What JSON.stringify leaves out of an object (and writes as null in an array). */
function serialisable(value: unknown): boolean {
  return value !== undefined && typeof value !== 'function' && typeof value !== 'symbol';
}

/** A value's pretty JSON at `depth` levels in: a string in JSON never holds a raw newline, so every newline is a line break to indent. */
function nested(value: unknown, depth: number): string {
  return JSON.stringify(value, null, 2).replaceAll('\n', `\n${'  '.repeat(depth)}`);
}
