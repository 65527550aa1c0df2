import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  PutCommand,
  type PutCommandInput,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { IngestEvent } from '#events/ingest-event.ts';
import { resetClients } from '#shared/clients.ts';
import { resetRuntimeConfig } from '#shared/config.ts';
import { queryProfileEvents, storeTimelineEvents, type TimelineEntry } from '#shared/store/timeline.ts';
import { minutesAfterStart as at, track } from '../engagement/events.ts';

const dynamo = mockClient(DynamoDBDocumentClient);

/** The timeline as DynamoDB holds it: partition key, then sort key, then the item. */
let table: Map<string, Map<string, Record<string, unknown>>>;

beforeEach(() => {
  process.env.RAPPORT_TABLE = 'rapport-test';
  process.env.RAPPORT_INGEST_QUEUE_URL = 'http://sqs.test/000000000000/rapport-ingest';
  process.env.RAPPORT_INGEST_DLQ_URL = 'http://sqs.test/000000000000/rapport-ingest-dlq';
  process.env.RAPPORT_BUS_NAME = 'rapport-test-bus';
  process.env.AWS_REGION = 'us-east-1';
  resetRuntimeConfig();
  resetClients();
  dynamo.reset();
  table = new Map();
  // The conditional put, evaluated as DynamoDB would: write when absent or when the stored copy is later.
  dynamo.on(PutCommand).callsFake((input: PutCommandInput) => {
    const item = input.Item ?? {};
    const partition = table.get(String(item.pk)) ?? new Map<string, Record<string, unknown>>();
    const old = partition.get(String(item.sk));
    const newer = Number(input.ExpressionAttributeValues?.[':at']);
    if (old && !(Number(old.at) > newer)) {
      throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
    }
    partition.set(String(item.sk), item);
    table.set(String(item.pk), partition);
    return old && input.ReturnValues === 'ALL_OLD' ? { Attributes: old } : {};
  });
  dynamo.on(QueryCommand).callsFake((input: QueryCommandInput) => {
    const partition = table.get(String(input.ExpressionAttributeValues?.[':pk'])) ?? new Map();
    return { Items: [...partition.values()].map((item) => ({ event: item.event })) };
  });
});

afterAll(() => dynamo.restore());

function viewed(messageId: string, minutes: number, overrides: Partial<IngestEvent> = {}): IngestEvent {
  return track('Product Viewed', at(minutes), { product_id: 'p1' }, { messageId, ...overrides });
}

function inU1(...events: IngestEvent[]): TimelineEntry[] {
  return events.map((event) => ({ partitionId: 'u1', event }));
}

function storedEvent(partitionId: string, messageId: string): unknown {
  return table.get(`c#${partitionId}`)?.get(`e#${messageId}`)?.event;
}

describe('storeTimelineEvents', () => {
  it('puts a new event into the partition of its id, on condition that no earlier copy is there', async () => {
    const event = viewed('m1', 5);
    const outcomes = await storeTimelineEvents(inU1(event));
    expect([...outcomes]).toEqual([['m1', 'stored']]);
    const millis = Date.parse(at(5));
    expect(dynamo).toHaveReceivedCommandExactlyOnceWith(PutCommand, {
      TableName: 'rapport-test',
      Item: { pk: 'c#u1', sk: 'e#m1', at: millis, event },
      ConditionExpression: 'attribute_not_exists(pk) OR #at > :at',
      ExpressionAttributeNames: { '#at': 'at' },
      ExpressionAttributeValues: { ':at': millis },
      ReturnValues: 'ALL_OLD',
    });
  });

  it('reports an event already stored as a duplicate and keeps the stored copy', async () => {
    const first = viewed('m1', 1);
    await storeTimelineEvents(inU1(first));
    const outcomes = await storeTimelineEvents(inU1(viewed('m1', 1, { receivedAt: at(9) }), viewed('m2', 2)));
    expect(Object.fromEntries(outcomes)).toEqual({ m1: 'duplicate', m2: 'stored' });
    expect(storedEvent('u1', 'm1')).toEqual(first);
  });

  it('keeps the earliest copy of a messageId whichever arrives first, and calls the later one a duplicate', async () => {
    const early = viewed('m1', 1);
    const late = viewed('m1', 4);
    await storeTimelineEvents(inU1(late));
    await expect(storeTimelineEvents(inU1(early))).resolves.toEqual(new Map([['m1', 'duplicate']]));
    expect(storedEvent('u1', 'm1')).toEqual(early);
    await expect(storeTimelineEvents(inU1(late))).resolves.toEqual(new Map([['m1', 'duplicate']]));
    expect(storedEvent('u1', 'm1')).toEqual(early);
  });

  it('puts a messageId that occurs twice in the input once, the earliest copy, and calls it a duplicate', async () => {
    const early = viewed('m1', 1);
    const outcomes = await storeTimelineEvents(
      inU1(viewed('m1', 3), viewed('m2', 2), early, viewed('m1', 2)),
    );
    expect(Object.fromEntries(outcomes)).toEqual({ m1: 'duplicate', m2: 'stored' });
    expect(dynamo).toHaveReceivedCommandTimes(PutCommand, 2);
    expect(storedEvent('u1', 'm1')).toEqual(early);
  });

  it('files each event under the id it carries', async () => {
    const visit = viewed('m1', 1, { userId: undefined, anonymousId: 'a1' });
    const view = viewed('m2', 2);
    await storeTimelineEvents([
      { partitionId: 'a1', event: visit },
      { partitionId: 'u1', event: view },
    ]);
    expect(storedEvent('a1', 'm1')).toEqual(visit);
    expect(storedEvent('u1', 'm2')).toEqual(view);
  });

  it('lets an error other than the condition through, so that the records are retried', async () => {
    const throttled = Object.assign(new Error('Throughput exceeds the current capacity of your table'), {
      name: 'ProvisionedThroughputExceededException',
    });
    dynamo.on(PutCommand).rejects(throttled);
    await expect(storeTimelineEvents(inU1(viewed('m1', 1)))).rejects.toBe(throttled);
  });
});

describe('queryProfileEvents', () => {
  it('reads every member partition and keeps the earliest copy of a messageId found in two', async () => {
    const early = viewed('m1', 1, { userId: undefined, anonymousId: 'a1' });
    await storeTimelineEvents([
      { partitionId: 'a1', event: early },
      { partitionId: 'u1', event: viewed('m1', 3) },
      { partitionId: 'u1', event: viewed('m2', 2) },
    ]);
    const events = await queryProfileEvents(['a1', 'u1']);
    expect(events.map((event) => [event.messageId, event.timestamp]).sort()).toEqual([
      ['m1', at(1)],
      ['m2', at(2)],
    ]);
    expect(dynamo).toHaveReceivedCommandWith(QueryCommand, {
      ExpressionAttributeValues: { ':pk': 'c#a1', ':prefix': 'e#' },
      ConsistentRead: true,
    });
  });

  it('follows LastEvaluatedKey through the pages of a partition', async () => {
    const events = [viewed('m1', 1), viewed('m2', 2), viewed('m3', 3)];
    dynamo
      .on(QueryCommand)
      .resolvesOnce({ Items: [{ event: events[0] }], LastEvaluatedKey: { pk: 'c#u1', sk: 'e#m1' } })
      .resolvesOnce({ Items: [{ event: events[1] }], LastEvaluatedKey: { pk: 'c#u1', sk: 'e#m2' } })
      .resolves({ Items: [{ event: events[2] }] });
    await expect(queryProfileEvents(['u1'])).resolves.toEqual(events);
    expect(dynamo).toHaveReceivedNthCommandWith(QueryCommand, 3, {
      ExclusiveStartKey: { pk: 'c#u1', sk: 'e#m2' },
    });
  });
});
