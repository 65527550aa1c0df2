import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { type IngestEvent, ingestEvent } from '#events/ingest-event.ts';
import { clients } from '../clients.ts';
import { runtimeConfig } from '../config.ts';
import { recordCapacity } from './capacity.ts';
import { customerPartition, eventSortKey, eventSortPrefix } from './table.ts';

/**
 * Timeline events, one item per messageId in the partition of the id the event carries (its userId,
 * else its anonymousId), whichever profile that id belongs to now. A resent event therefore always
 * meets its first copy, even after its visitor was merged into a customer. Of two copies of a messageId (a redelivery, or a client's retry that was stamped a little
 * later) the timeline keeps the one with the earliest time, as the engagement fold does, so the
 * result does not depend on which copy arrived first.
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
    const key = `${entry.partitionId}\u0000${entry.event.messageId}`;
    const known = earliest.get(key);
    if (known) outcomes.set(entry.event.messageId, 'duplicate');
    if (!known || eventMillis(entry.event) < eventMillis(known.event)) earliest.set(key, entry);
  }
  await Promise.all(
    [...earliest.values()].map(async ({ partitionId, event }) => {
      const outcome = await putTimelineEvent(partitionId, event);
      if (!outcomes.has(event.messageId)) outcomes.set(event.messageId, outcome);
    }),
  );
  return outcomes;
}

async function putTimelineEvent(partitionId: string, event: IngestEvent): Promise<PutOutcome> {
  try {
    const result = await clients().dynamo.send(
      new PutCommand({
        TableName: runtimeConfig().RAPPORT_TABLE,
        Item: {
          pk: customerPartition(partitionId),
          sk: eventSortKey(event.messageId),
          at: eventMillis(event),
          event,
        },
        ConditionExpression: 'attribute_not_exists(pk) OR #at > :at',
        ExpressionAttributeNames: { '#at': 'at' },
        ExpressionAttributeValues: { ':at': eventMillis(event) },
        ReturnValues: 'ALL_OLD',
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    recordCapacity('write', result.ConsumedCapacity);
    return result.Attributes ? 'duplicate' : 'stored';
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return 'duplicate';
    throw error;
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

/**
 * The events of every partition a profile spans (its own and those merged into it), each messageId
 * once: the earliest copy, as everywhere else.
 */
export async function queryProfileEvents(memberIds: readonly string[]): Promise<IngestEvent[]> {
  const partitions = await Promise.all(memberIds.map((id) => queryPartitionEvents(id)));
  const earliest = new Map<string, IngestEvent>();
  for (const event of partitions.flat()) {
    const known = earliest.get(event.messageId);
    if (!known || eventMillis(event) < eventMillis(known)) earliest.set(event.messageId, event);
  }
  return [...earliest.values()];
}
