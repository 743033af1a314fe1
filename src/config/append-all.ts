// `target.push(...items)` passes every item as an argument, and V8 throws "Maximum call stack size
// exceeded" past about 130,000 of them: a loop over a list that long, or a problem on each host of
// a large inventory, would end in an internal error instead of the run or the list of problems.

/** Append `items` to `target` one by one: any number of them. */
export function appendAll<T>(target: T[], items: Iterable<T>): void {
  for (const item of items) target.push(item);
}
