import { ConditionalCheckFailedException, type ConsumedCapacity } from '@aws-sdk/client-dynamodb';
import { recordCapacity } from './capacity.ts';

/**
 * Runs a write that has a condition, recording its capacity. Returns false when the condition did
 * not hold (someone got there first, or the item moved on), which callers treat as an answer, not
 * an error.
 */
export async function conditionalWrite(
  write: () => Promise<{ ConsumedCapacity?: ConsumedCapacity | undefined }>,
): Promise<boolean> {
  try {
    recordCapacity('write', (await write()).ConsumedCapacity);
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}
