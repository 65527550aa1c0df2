import { fieldPath } from './validate.ts';

/**
 * What DynamoDB cannot store must be refused at the door: accepted, it would fail its customer's
 * writes on every retry. DynamoDB numbers range over magnitudes from 1e-130 to below 1e126, map
 * keys must not be empty, documents nest at most 32 levels (of which rapport's own items take some),
 * and an integer beyond 2^53 would not survive the round trip through JavaScript exactly.
 */
export const maxNesting = 16;
const largest = 1e125;
const smallest = 1e-130;

export function storableProblems(value: unknown, path: PropertyKey[] = [], depth = 0): string[] {
  if (typeof value === 'number') {
    if (Number.isInteger(value) && !Number.isSafeInteger(value) && Math.abs(value) < 1e21) {
      return [`${fieldPath(path)}: integer ${value} is too large to keep exactly: send it as a string`];
    }
    const magnitude = Math.abs(value);
    if (magnitude === 0 || (magnitude >= smallest && magnitude <= largest)) return [];
    return [`${fieldPath(path)}: number ${value} is out of range: send magnitudes from 1e-130 to 1e125`];
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
