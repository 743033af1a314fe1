/**
 * Writes `document` exactly as `JSON.stringify(document, null, 2)` and a newline would, a line
 * group at a time, the array under `streamed` one element at a time. An apply's report on a
 * thousand hosts is tens of megabytes of JSON (every change with its diff); built as one string,
 * and copied once more on its way to stdout, it was the largest thing the process ever held, at
 * its very end. Written in pieces, the peak is one host's report. `out` takes a line (the CLI's
 * `io.out`, which adds the newline).
 */
export function writeJson(out: (line: string) => void, document: object, streamed: string): void {
  const entries = Object.entries(document).filter(([, value]) => serialisable(value));
  if (entries.length === 0) return out('{}');
  out('{');
  entries.forEach(([key, value], index) => {
    const comma = index < entries.length - 1 ? ',' : '';
    const name = `  ${JSON.stringify(key)}: `;
    if (key === streamed && Array.isArray(value) && value.length > 0) {
      out(`${name}[`);
      value.forEach((element, at) => out(`    ${nested(serialisable(element) ? element : null, 2)}${at < value.length - 1 ? ',' : ''}`));
      out(`  ]${comma}`);
    } else {
      out(`${name}${nested(value, 1)}${comma}`);
    }
  });
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
