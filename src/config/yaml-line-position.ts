// The line and column of an offset, from the offsets at which lines start: what the YAML library's
// LineCounter answers, for the files the quick reader read without the library. 1-based; line 0
// before the first line start, as the library says it.

export interface LinePosition {
  readonly line: number;
  readonly col: number;
}

export function linePosition(lineStarts: readonly number[], offset: number): LinePosition {
  let low = 0;
  let high = lineStarts.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if ((lineStarts[mid] ?? 0) < offset) low = mid + 1;
    else high = mid;
  }
  if (lineStarts[low] === offset) return { line: low + 1, col: 1 };
  if (low === 0) return { line: 0, col: offset };
  return { line: low, col: offset - (lineStarts[low - 1] ?? 0) + 1 };
}
