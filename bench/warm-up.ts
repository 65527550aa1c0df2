import { CreateTableCommand, DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { tableDefinition } from '#shared/store/schema.ts';
import type { TimelineItem } from './ceiling.ts';
import { fmt, log } from './format.ts';
import { inPool } from './pool.ts';

/**
 * Warms DynamoDB Local up on a throw-away table with every kind of request ingest makes: timeline
 * items written and read back in batches, profile-sized items put in conditional transactions, alone
 * and updated, partitions queried. The JVM compiles each request's path the first times it serves
 * it; without this the measured ingest would pay for that alone, while the ceiling, measured after
 * it, runs warm.
 */
const warmUpItems = 2_500;
const profiles = 500;
const transactionSize = 25;

export async function warmUp(
  dynamo: DynamoDBDocumentClient,
  items: readonly TimelineItem[],
  concurrency: number,
): Promise<void> {
  const timeline = items.slice(0, warmUpItems);
  log(`warming DynamoDB Local up with ${fmt(timeline.length)} timeline items and ${fmt(profiles)} profiles`);
  const table = `bench-warmup-${process.pid}`;
  await dynamo.send(new CreateTableCommand({ TableName: table, ...tableDefinition }));
  try {
    const keys = timeline.map(({ pk, sk }) => ({ pk, sk }));
    await inPool(chunks(timeline, 25), concurrency, async (chunk) => {
      await dynamo.send(
        new BatchWriteCommand({ RequestItems: { [table]: chunk.map((Item) => ({ PutRequest: { Item } })) } }),
      );
    });
    await inPool(chunks(keys, 100), concurrency, async (chunk) => {
      await dynamo.send(
        new BatchGetCommand({ RequestItems: { [table]: { Keys: chunk, ProjectionExpression: 'pk, sk' } } }),
      );
    });
    const state = { padding: 'x'.repeat(1_000) };
    const profileKeys = Array.from({ length: profiles }, (_, index) => ({
      pk: `c#warm-${index}`,
      sk: 'state',
    }));
    await inPool(chunks(profileKeys, transactionSize), concurrency, async (chunk) => {
      await dynamo.send(
        new TransactWriteCommand({
          TransactItems: chunk.map((key) => ({
            Put: {
              TableName: table,
              Item: { ...key, version: 1, state },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          })),
        }),
      );
    });
    await inPool(profileKeys, concurrency, async (key) => {
      await dynamo.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }));
      await dynamo.send(
        new PutCommand({
          TableName: table,
          Item: { ...key, version: 2, state },
          ConditionExpression: 'version = :expected',
          ExpressionAttributeValues: { ':expected': 1 },
        }),
      );
      await dynamo.send(
        new UpdateCommand({
          TableName: table,
          Key: key,
          UpdateExpression: 'SET outbox = :empty',
          ConditionExpression: 'version = :version',
          ExpressionAttributeValues: { ':empty': { events: [] }, ':version': 2 },
        }),
      );
    });
    const partitions = [...new Set(timeline.map(({ pk }) => pk))].slice(0, profiles);
    await inPool(partitions, concurrency, async (pk) => {
      await dynamo.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': pk, ':prefix': 'e#' },
          ConsistentRead: true,
        }),
      );
    });
  } finally {
    await dynamo.send(new DeleteTableCommand({ TableName: table }));
  }
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += size) result.push(items.slice(start, start + size));
  return result;
}
