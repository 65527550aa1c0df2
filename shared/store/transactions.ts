import { TransactionCanceledException, TransactionConflictException } from '@aws-sdk/client-dynamodb';
import { TransactWriteCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { dynamoClient } from '../clients/dynamodb.ts';
import { recordCapacity } from './capacity.ts';

/**
 * Many conditional writes in shared transactions. Each write is one or more items that must land
 * together; a transaction carries several writes, so that many profiles cost a few requests instead
 * of one each. A transaction is all or nothing: when one write's condition fails, the others are
 * tried again without it.
 */
export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

export interface TransactedWrites<Write> {
  landed: Set<Write>;
  /** Writes DynamoDB refused, with its reason: ConditionalCheckFailed when an item was not as expected. */
  refused: Map<Write, string>;
}

/** DynamoDB takes up to 100 items in one transaction; smaller ones are refused less often. */
const transactionLimit = 25;
const transactionRounds = 3;

/**
 * Writes in transactions of up to 25 items. A write neither landed nor refused (its transaction was
 * tried three times, or `worthATransaction` said no to what was left of it) is the caller's to write.
 */
export async function transactWrites<Write>(
  writes: readonly Write[],
  itemsOf: (write: Write) => TransactItem[],
  worthATransaction: (pending: readonly Write[]) => boolean = () => true,
): Promise<TransactedWrites<Write>> {
  const result: TransactedWrites<Write> = { landed: new Set(), refused: new Map() };
  await Promise.all(
    chunks(writes, itemsOf).map(async (chunk) => {
      let pending = chunk;
      for (
        let round = 0;
        round < transactionRounds && pending.length > 0 && worthATransaction(pending);
        round++
      ) {
        const refused = await transact(pending, itemsOf);
        if (refused.size === 0) {
          for (const write of pending) result.landed.add(write);
          return;
        }
        for (const [index, reason] of refused) {
          const write = pending[index];
          if (write !== undefined && reason !== 'unknown') result.refused.set(write, reason);
        }
        pending = pending.filter((_, index) => !refused.has(index));
      }
    }),
  );
  return result;
}

/** Writes grouped so that no transaction holds more than 25 items. */
function chunks<Write>(writes: readonly Write[], itemsOf: (write: Write) => TransactItem[]): Write[][] {
  const grouped: Write[][] = [];
  let current: Write[] = [];
  let size = 0;
  for (const write of writes) {
    const items = itemsOf(write).length;
    if (current.length > 0 && size + items > transactionLimit) {
      grouped.push(current);
      current = [];
      size = 0;
    }
    current.push(write);
    size += items;
  }
  if (current.length > 0) grouped.push(current);
  return grouped;
}

/**
 * One transaction. Returns the writes that made it fail, by index, with DynamoDB's reason; all of
 * them, reason 'unknown', when it does not say which.
 */
async function transact<Write>(
  writes: readonly Write[],
  itemsOf: (write: Write) => TransactItem[],
): Promise<Map<number, string>> {
  const items = writes.map(itemsOf);
  const owners = items.flatMap((own, index) => own.map(() => index));
  try {
    const result = await dynamoClient().send(
      new TransactWriteCommand({ TransactItems: items.flat(), ReturnConsumedCapacity: 'TOTAL' }),
    );
    recordCapacity('write', result.ConsumedCapacity);
    return new Map();
  } catch (error) {
    if (error instanceof TransactionCanceledException && error.CancellationReasons) {
      const refused = new Map<number, string>();
      error.CancellationReasons.forEach((reason, index) => {
        const owner = owners[index] ?? 0;
        if (reason.Code && reason.Code !== 'None' && !refused.has(owner)) refused.set(owner, reason.Code);
      });
      if (refused.size > 0) return refused;
    }
    if (error instanceof TransactionCanceledException || error instanceof TransactionConflictException) {
      return new Map(writes.map((_, index) => [index, 'unknown']));
    }
    throw error;
  }
}
