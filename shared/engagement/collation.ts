/**
 * Ordering of ids and codes kept in state: code-unit order, the same on every machine whatever its
 * locale, so that a replay anywhere gives the same state.
 */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function sortedUnique(values: Iterable<string>): string[] {
  return [...new Set(values)].sort(compareText);
}

/**
 * `held` with each of `seen` moved to the end, once, and only the last `max` kept: a list from least
 * to most recently seen that drops the least recent. It depends on the order the values are seen in,
 * and the state is folded in event order (see foldEvents), so it is the same for a replay and for
 * incremental folding: a function of the set of events, however they were delivered.
 */
export function recentUnique(held: readonly string[], seen: Iterable<string>, max: number): string[] {
  const fresh = new Set(seen);
  const list = [...held.filter((value) => !fresh.has(value)), ...fresh];
  return list.length > max ? list.slice(list.length - max) : list;
}
