import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import type { TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';

/**
 * DynamoDB's conditional writes as the fake tables of the ingest tests answer them: the conditions
 * the ingest code writes with, and TransactWriteItems of Puts, all or nothing.
 */

export interface ConditionalInput {
  ConditionExpression?: string | undefined;
  ExpressionAttributeValues?: Record<string, unknown> | undefined;
}

/** Whether a write's condition holds against the item it would replace (undefined: none yet). */
export function conditionHolds(input: ConditionalInput, old: Record<string, unknown> | undefined): boolean {
  const values = input.ExpressionAttributeValues ?? {};
  switch (input.ConditionExpression) {
    case undefined:
      return true;
    case 'attribute_not_exists(pk)':
      return old === undefined;
    case 'version = :expected':
      return old !== undefined && old.version === values[':expected'];
    case 'version = :version':
      return old !== undefined && old.version === values[':version'];
    case 'atMillis > :at':
      return old !== undefined && Number(old.atMillis) > Number(values[':at']);
    default:
      throw new Error(`unexpected condition ${input.ConditionExpression}`);
  }
}

export function transactionCancelled(codes: readonly string[]): TransactionCanceledException {
  return new TransactionCanceledException({
    message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${codes.join(', ')}]`,
    $metadata: {},
    CancellationReasons: codes.map((Code) =>
      Code === 'None' ? { Code } : { Code, Message: 'The conditional request failed' },
    ),
  });
}

/**
 * Applies a TransactWriteItems request made of Puts and of the Update that clears an outbox: every
 * item's condition is checked against the stored item first, and either all of them land or none
 * does (TransactionCanceledException, with a reason per item, as DynamoDB answers).
 */
export function transactPuts(
  input: TransactWriteCommandInput,
  table: {
    get: (item: Record<string, unknown>) => Record<string, unknown> | undefined;
    set: (item: Record<string, unknown>) => void;
  },
): Record<string, never> {
  const writes = (input.TransactItems ?? []).map((entry) => {
    if (entry.Put)
      return { condition: entry.Put, key: entry.Put.Item ?? {}, item: () => entry.Put?.Item ?? {} };
    const update = entry.Update;
    if (update?.UpdateExpression !== 'SET outbox = :empty') {
      throw new Error('the fake table only knows Puts and outbox clears in a transaction');
    }
    const key = update.Key ?? {};
    return {
      condition: update,
      key,
      item: () => ({ ...table.get(key), outbox: update.ExpressionAttributeValues?.[':empty'] }),
    };
  });
  const keys = writes.map(({ key }) => `${String(key.pk)} ${String(key.sk)}`);
  if (new Set(keys).size !== keys.length) {
    throw Object.assign(new Error('Transaction request cannot include multiple operations on one item'), {
      name: 'ValidationException',
    });
  }
  const codes = writes.map(({ condition, key }) =>
    conditionHolds(condition, table.get(key)) ? 'None' : 'ConditionalCheckFailed',
  );
  if (codes.some((code) => code !== 'None')) throw transactionCancelled(codes);
  for (const write of writes) table.set(write.item());
  return {};
}
