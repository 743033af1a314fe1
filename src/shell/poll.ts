// Waiting on a host for something another process does (keepalived's reload or start, its
// inotify watch): the condition is tried every 0.1 s until it holds or the limit is reached.
// The caller says what a condition still false afterwards means; the loop itself never fails.

/** Shell: try `condition` (a shell command list) every 0.1 s, at most `seconds` seconds. */
export function pollUntil(condition: string, seconds: number): string {
  const tries = Math.round(seconds * 10);
  return `i=0; until ${condition} || [ "$i" -ge ${tries} ]; do i=$((i+1)); sleep 0.1; done`;
}
