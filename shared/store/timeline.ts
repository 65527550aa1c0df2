import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { type IngestEvent, ingestEvent } from '#events/ingest-event.ts';
import { dynamoClient } from '../clients/dynamodb.ts';
import { runtimeConfig } from '../config.ts';
import { batchGetItems, batchPutItems, type ItemKey } from './batch.ts';
import { recordCapacity } from './capacity.ts';
import { customerPartition, eventSortKey, eventSortPrefix } from './table.ts';

/**
 * Timeline events, one item per messageId in the partition of the id the event carries (its userId,
 * else its anonymousId), whichever profile that id belongs to now. A resent event therefore always
 * meets its first copy, even after its visitor was merged into a customer.
 *
 * New events are written in batches. Of two copies of a messageId (a redelivery, or a client's retry
 * that was stamped a little later) the earlier one is kept, as the engagement fold does. Two copies
 * that arrive at the same moment in different batches both look new and the last write wins; the
 * state stays exact all the same (see ingest/apply-events.ts).
 *
 * `stored` means the event was not on the timeline before; `duplicate` means a copy was, whether or
 * not this one replaced it.
 */
export type PutOutcome = 'stored' | 'duplicate';

export interface TimelineEntry {
  partitionId: string;
  event: IngestEvent;
}

export async function storeTimelineEvents(
  entries: readonly TimelineEntry[],
): Promise<Map<string, PutOutcome>> {
  const outcomes = new Map<string, PutOutcome>();
  const earliest = new Map<string, TimelineEntry>();
  for (const entry of entries) {
    const key = itemKeyOf(entry);
    const known = earliest.get(`${key.pk} ${key.sk}`);
    if (known) outcomes.set(entry.event.messageId, 'duplicate');
    if (!known || eventMillis(entry.event) < eventMillis(known.event))
      earliest.set(`${key.pk} ${key.sk}`, entry);
  }
  const unique = [...earliest.values()];
  const stored = await batchGetItems(unique.map(itemKeyOf), 'pk, sk, atMillis');
  const storedAt = new Map(stored.map((item) => [`${item.pk} ${item.sk}`, Number(item.atMillis)]));

  const fresh: TimelineEntry[] = [];
  const earlier: TimelineEntry[] = [];
  for (const entry of unique) {
    const key = itemKeyOf(entry);
    const at = storedAt.get(`${key.pk} ${key.sk}`);
    if (at === undefined) fresh.push(entry);
    else if (eventMillis(entry.event) < at) earlier.push(entry);
    if (!outcomes.has(entry.event.messageId)) {
      outcomes.set(entry.event.messageId, at === undefined ? 'stored' : 'duplicate');
    }
  }
  await Promise.all([
    batchPutItems(fresh.map(timelineItem)),
    ...earlier.map((entry) => replaceWithEarlierCopy(entry)),
  ]);
  return outcomes;
}

function itemKeyOf({ partitionId, event }: TimelineEntry): ItemKey {
  return { pk: customerPartition(partitionId), sk: eventSortKey(event.messageId) };
}

function timelineItem(entry: TimelineEntry): Record<string, unknown> {
  return { ...itemKeyOf(entry), atMillis: eventMillis(entry.event), event: entry.event };
}

/** Replaces a stored copy with this earlier one, unless an even earlier copy got there first. */
async function replaceWithEarlierCopy(entry: TimelineEntry): Promise<void> {
  try {
    const result = await dynamoClient().send(
      new PutCommand({
        TableName: runtimeConfig().RAPPORT_TABLE,
        Item: timelineItem(entry),
        ConditionExpression: 'atMillis > :at',
        ExpressionAttributeValues: { ':at': eventMillis(entry.event) },
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    recordCapacity('write', result.ConsumedCapacity);
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
}

function eventMillis(event: IngestEvent): number {
  return Date.parse(event.timestamp);
}

/** Every event stored in one profile's partition (strongly consistent, for replays). */
export async function queryPartitionEvents(profileId: string): Promise<IngestEvent[]> {
  const events: IngestEvent[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await dynamoClient().send(
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

/** Whether any event is stored in the id's own partition. */
export async function partitionHasEvents(id: string): Promise<boolean> {
  const page = await dynamoClient().send(
    new QueryCommand({
      TableName: runtimeConfig().RAPPORT_TABLE,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': customerPartition(id), ':prefix': eventSortPrefix },
      ProjectionExpression: 'pk',
      ConsistentRead: true,
      Limit: 1,
      ReturnConsumedCapacity: 'TOTAL',
    }),
  );
  recordCapacity('read', page.ConsumedCapacity);
  return (page.Items ?? []).length > 0;
}

/** The events of every partition a profile spans (its own and those merged into it). */
export async function queryProfileEvents(memberIds: readonly string[]): Promise<IngestEvent[]> {
  const partitions = await Promise.all(memberIds.map((id) => queryPartitionEvents(id)));
  return partitions.flat();
}
