import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  BatchWriteCommand,
  type BatchWriteCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import { dynamoClient } from '../clients/dynamodb.ts';
import { runtimeConfig } from '../config.ts';
import { recordCapacity } from './capacity.ts';

/**
 * BatchGetItem and BatchWriteItem over any number of items: split into requests of DynamoDB's
 * maximum size, sent in parallel, with unprocessed items retried after a short backoff.
 */
const getLimit = 100;
const writeLimit = 25;
const maxRounds = 8;

export type ItemKey = { pk: string; sk: string };

/**
 * Reads of the items with these keys, strongly consistent unless `consistent` is false (half the
 * read units); absent items are left out.
 */
export async function batchGetItems(
  keys: readonly ItemKey[],
  projection?: string,
  consistent = true,
): Promise<Record<string, unknown>[]> {
  const pages = await Promise.all(
    chunks(keys, getLimit).map((chunk) => getChunk(chunk, projection, consistent)),
  );
  return pages.flat();
}

export async function batchPutItems(items: readonly Record<string, unknown>[]): Promise<void> {
  await Promise.all(chunks(items, writeLimit).map((chunk) => putChunk(chunk)));
}

async function getChunk(
  keys: ItemKey[],
  projection: string | undefined,
  consistent: boolean,
): Promise<Record<string, unknown>[]> {
  const table = runtimeConfig().RAPPORT_TABLE;
  const found: Record<string, unknown>[] = [];
  let pending: Record<string, unknown>[] | undefined = keys;
  for (let round = 0; pending && pending.length > 0; round++) {
    if (round === maxRounds)
      throw new Error(`DynamoDB left ${pending.length} reads unprocessed ${maxRounds} times`);
    if (round > 0) await backoff(round);
    const result: BatchGetCommandOutput = await dynamoClient().send(
      new BatchGetCommand({
        RequestItems: {
          [table]: {
            Keys: pending,
            ConsistentRead: consistent,
            ...(projection ? { ProjectionExpression: projection } : {}),
          },
        },
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    recordCapacity('read', result.ConsumedCapacity);
    found.push(...(result.Responses?.[table] ?? []));
    pending = result.UnprocessedKeys?.[table]?.Keys;
  }
  return found;
}

async function putChunk(items: Record<string, unknown>[]): Promise<void> {
  const table = runtimeConfig().RAPPORT_TABLE;
  let pending = items.map((Item) => ({ PutRequest: { Item } }));
  for (let round = 0; pending.length > 0; round++) {
    if (round === maxRounds)
      throw new Error(`DynamoDB left ${pending.length} writes unprocessed ${maxRounds} times`);
    if (round > 0) await backoff(round);
    const result: BatchWriteCommandOutput = await dynamoClient().send(
      new BatchWriteCommand({ RequestItems: { [table]: pending }, ReturnConsumedCapacity: 'TOTAL' }),
    );
    recordCapacity('write', result.ConsumedCapacity);
    pending = (result.UnprocessedItems?.[table] ?? []).flatMap((request) =>
      request.PutRequest?.Item ? [{ PutRequest: { Item: request.PutRequest.Item } }] : [],
    );
  }
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += size) result.push(items.slice(start, start + size));
  return result;
}

function backoff(round: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.min(1000, 25 * 2 ** round)));
}
