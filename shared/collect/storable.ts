import { fieldPath } from './validate.ts';

/**
 * What DynamoDB cannot store must be refused at the door: accepted, it would fail its customer's
 * writes on every retry. Numbers must survive the round trip through JavaScript exactly (at most
 * 2^53) and DynamoDB (at least 1e-130), map keys must not be empty, and documents nest at most 32
 * levels, of which rapport's own items take some.
 */
export const maxNesting = 16;
const smallest = 1e-130;

export function storableProblems(value: unknown, path: PropertyKey[] = [], depth = 0): string[] {
  if (typeof value === 'number') {
    const magnitude = Math.abs(value);
    if (magnitude > Number.MAX_SAFE_INTEGER) {
      return [`${fieldPath(path)}: number ${value} is too large to keep exactly: send it as a string`];
    }
    if (magnitude === 0 || magnitude >= smallest) return [];
    return [`${fieldPath(path)}: number ${value} is too small: send magnitudes of at least 1e-130 (or 0)`];
  }
  if (value === null || typeof value !== 'object') return [];
  if (depth > maxNesting) {
    return [`${fieldPath(path)}: nested more than ${maxNesting} levels deep: flatten it`];
  }
  const entries: [PropertyKey, unknown][] = Array.isArray(value)
    ? value.map((item, index) => [index, item])
    : Object.entries(value);
  return entries.flatMap(([key, item]) =>
    key === ''
      ? [`${fieldPath(path) || 'event'}: has an empty key: name every field`]
      : storableProblems(item, [...path, key], depth + 1),
  );
}

/**
 * Whether the value nests deeper than `limit`, found without recursion, so that a hostile document
 * thousands of levels deep is refused instead of overflowing the stack.
 */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  const pending: [unknown, number][] = [[value, 0]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [item, depth] = next;
    if (item === null || typeof item !== 'object') continue;
    if (depth > limit) return true;
    for (const child of Array.isArray(item) ? item : Object.values(item)) pending.push([child, depth + 1]);
  }
  return false;
}
