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
