import type { ConsumedCapacity } from '@aws-sdk/client-dynamodb';

/**
 * Capacity units consumed by this process, as DynamoDB reports them per request
 * (ReturnConsumedCapacity TOTAL). The ingest benchmark reads it to report write units per event.
 */
const totals = { writeUnits: 0, readUnits: 0 };

export function recordCapacity(
  kind: 'read' | 'write',
  consumed: ConsumedCapacity | ConsumedCapacity[] | undefined,
): void {
  const entries = Array.isArray(consumed) ? consumed : consumed ? [consumed] : [];
  const units = entries.reduce((sum, entry) => sum + (entry.CapacityUnits ?? 0), 0);
  if (kind === 'write') totals.writeUnits += units;
  else totals.readUnits += units;
}

export function capacityTotals(): { writeUnits: number; readUnits: number } {
  return { ...totals };
}

export function resetCapacityTotals(): void {
  totals.writeUnits = 0;
  totals.readUnits = 0;
}
