import type { EngagementState } from '#shared/engagement/state.ts';

/** What a state looks like after a write to and a read from DynamoDB, which keeps no map's key order. */
export function stored(state: EngagementState): EngagementState {
  return reversedKeys(JSON.parse(JSON.stringify(state))) as EngagementState;
}

function reversedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversedKeys);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .reverse()
      .map(([key, item]) => [key, reversedKeys(item)]),
  );
}
