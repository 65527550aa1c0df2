import { fieldPath } from './validate.ts';

/**
 * What DynamoDB cannot store must be refused at the door: accepted, it would fail its customer's
 * writes on every retry. DynamoDB numbers range over magnitudes from 1e-130 to below 1e126, and
 * documents nest at most 32 levels, of which rapport's own items take some.
 */
export const maxNesting = 16;
const largest = 1e125;
const smallest = 1e-130;

export function storableProblems(value: unknown, path: PropertyKey[] = [], depth = 0): string[] {
  if (typeof value === 'number') {
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
  return entries.flatMap(([key, item]) => storableProblems(item, [...path, key], depth + 1));
}
