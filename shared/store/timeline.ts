import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  BatchWriteCommand,
  type BatchWriteCommandOutput,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import { type IngestEvent, ingestEvent } from '#events/ingest-event.ts';
import { clients } from '../clients.ts';
import { runtimeConfig } from '../config.ts';
import { recordCapacity } from './capacity.ts';
import { customerPartition, eventSortKey, eventSortPrefix } from './table.ts';

/**
 * Timeline events, one item per messageId in the partition of the profile the event was ingested
 * under. The first write of a messageId wins: events already stored are reported as duplicates and
 * not written again, so a resent event never changes what was stored.
 */
export type PutOutcome = 'stored' | 'duplicate';

const batchGetLimit = 100;
const batchWriteLimit = 25;
const maxUnprocessedRounds = 8;

export async function storeTimelineEvents(
  profileId: string,
  events: readonly IngestEvent[],
): Promise<Map<string, PutOutcome>> {
  const unique = [...new Map(events.map((event) => [event.messageId, event])).values()];
  const existing = await existingMessageIds(profileId, unique);
  const fresh = unique.filter((event) => !existing.has(event.messageId));
  const items = fresh.map((event) => ({
    pk: customerPartition(profileId),
    sk: eventSortKey(event.messageId),
    ts: event.timestamp,
    event,
  }));
  for (let start = 0; start < items.length; start += batchWriteLimit) {
    await batchWrite(items.slice(start, start + batchWriteLimit));
  }
  return new Map(
    unique.map((event) => [event.messageId, existing.has(event.messageId) ? 'duplicate' : 'stored']),
  );
}

async function existingMessageIds(profileId: string, events: readonly IngestEvent[]): Promise<Set<string>> {
  const table = runtimeConfig().RAPPORT_TABLE;
  const found = new Set<string>();
  for (let start = 0; start < events.length; start += batchGetLimit) {
    let keys: Record<string, unknown>[] | undefined = events
      .slice(start, start + batchGetLimit)
      .map((event) => ({ pk: customerPartition(profileId), sk: eventSortKey(event.messageId) }));
    for (let round = 0; keys && keys.length > 0; round++) {
      if (round === maxUnprocessedRounds) throw new Error('DynamoDB kept returning unprocessed keys');
      if (round > 0) await backoff(round);
      const result: BatchGetCommandOutput = await clients().dynamo.send(
        new BatchGetCommand({
          RequestItems: { [table]: { Keys: keys, ProjectionExpression: 'sk', ConsistentRead: true } },
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      recordCapacity('read', result.ConsumedCapacity);
      for (const item of result.Responses?.[table] ?? []) {
        found.add(String(item.sk).slice(eventSortPrefix.length));
      }
      keys = result.UnprocessedKeys?.[table]?.Keys;
    }
  }
  return found;
}

async function batchWrite(items: Record<string, unknown>[]): Promise<void> {
  const table = runtimeConfig().RAPPORT_TABLE;
  let requests = items.map((Item) => ({ PutRequest: { Item } }));
  for (let round = 0; requests.length > 0; round++) {
    if (round === maxUnprocessedRounds) throw new Error('DynamoDB kept returning unprocessed writes');
    if (round > 0) await backoff(round);
    const result: BatchWriteCommandOutput = await clients().dynamo.send(
      new BatchWriteCommand({ RequestItems: { [table]: requests }, ReturnConsumedCapacity: 'TOTAL' }),
    );
    recordCapacity('write', result.ConsumedCapacity);
    requests = (result.UnprocessedItems?.[table] ?? []).flatMap((request) =>
      request.PutRequest?.Item ? [{ PutRequest: { Item: request.PutRequest.Item } }] : [],
    );
  }
}

function backoff(round: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.min(1000, 25 * 2 ** round)));
}

/** Every event stored in one profile's partition (strongly consistent, for replays). */
export async function queryPartitionEvents(profileId: string): Promise<IngestEvent[]> {
  const events: IngestEvent[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await clients().dynamo.send(
      new QueryCommand({
        TableName: runtimeConfig().RAPPORT_TABLE,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': customerPartition(profileId), ':prefix': eventSortPrefix },
        ProjectionExpression: 'event',
        ConsistentRead: true,
        ExclusiveStartKey: start,
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    recordCapacity('read', page.ConsumedCapacity);
    for (const item of page.Items ?? []) events.push(ingestEvent.parse(item.event));
    start = page.LastEvaluatedKey;
  } while (start);
  return events;
}

/** The events of every partition a profile spans (its own and those merged into it). */
export async function queryProfileEvents(memberIds: readonly string[]): Promise<IngestEvent[]> {
  const partitions = await Promise.all(memberIds.map((id) => queryPartitionEvents(id)));
  return partitions.flat();
}
