import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type BatchGetCommandInput,
  BatchWriteCommand,
  type BatchWriteCommandInput,
  DynamoDBDocumentClient,
  PutCommand,
  type PutCommandInput,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { replayOrder } from '#shared/engagement/state.ts';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import type { IngestEvent } from '#events/ingest-event.ts';
import { queryProfileEvents, storeTimelineEvents, type TimelineEntry } from '#shared/store/timeline.ts';
import { minutesAfterStart as at, track } from '../engagement/events.ts';
import { useTestRuntime } from '../support/runtime-env.ts';

const dynamo = mockClient(DynamoDBDocumentClient);
useTestRuntime([dynamo]);

/** The timeline as DynamoDB holds it: partition key, then sort key, then the item. */
let table: Map<string, Map<string, Record<string, unknown>>>;

function conditionFailed() {
  return new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
}

function storedItem(key: Record<string, unknown>): Record<string, unknown> | undefined {
  return table.get(String(key.pk))?.get(String(key.sk));
}

function save(item: Record<string, unknown>): void {
  const partition = table.get(String(item.pk)) ?? new Map<string, Record<string, unknown>>();
  partition.set(String(item.sk), item);
  table.set(String(item.pk), partition);
}

beforeEach(() => {
  table = new Map();
  // The existence check returns only the projected attributes, as DynamoDB does.
  dynamo.on(BatchGetCommand).callsFake((input: BatchGetCommandInput) => {
    const request = input.RequestItems?.['rapport-test'];
    const attributes = request?.ProjectionExpression?.split(',').map((name) => name.trim());
    const found = (request?.Keys ?? []).flatMap((key) => {
      const item = storedItem(key);
      if (!item) return [];
      return [attributes ? Object.fromEntries(attributes.map((name) => [name, item[name]])) : item];
    });
    return { Responses: { 'rapport-test': found } };
  });
  dynamo.on(BatchWriteCommand).callsFake((input: BatchWriteCommandInput) => {
    for (const request of input.RequestItems?.['rapport-test'] ?? []) {
      if (request.PutRequest?.Item) save(request.PutRequest.Item);
    }
    return {};
  });
  // The conditional replace, evaluated as DynamoDB would: only over a stored copy that is later.
  dynamo.on(PutCommand).callsFake((input: PutCommandInput) => {
    const item = input.Item ?? {};
    if (input.ConditionExpression !== 'atMillis > :at') throw new Error('unexpected condition');
    const old = storedItem(item);
    if (!old || !(Number(old.atMillis) > Number(input.ExpressionAttributeValues?.[':at']))) {
      throw conditionFailed();
    }
    save(item);
    return {};
  });
  dynamo.on(QueryCommand).callsFake((input: QueryCommandInput) => {
    const partition = table.get(String(input.ExpressionAttributeValues?.[':pk'])) ?? new Map();
    return { Items: [...partition.values()].map((item) => ({ event: item.event })) };
  });
});

function viewed(messageId: string, minutes: number, overrides: Partial<IngestEvent> = {}): IngestEvent {
  return track('Product Viewed', at(minutes), { product_id: 'p1' }, { messageId, ...overrides });
}

function inU1(...events: IngestEvent[]): TimelineEntry[] {
  return events.map((event) => ({ partitionId: 'u1', event }));
}

function storedEvent(partitionId: string, messageId: string): unknown {
  return table.get(`c#${partitionId}`)?.get(`e#${messageId}`)?.event;
}

/** The items sent in BatchWriteItem requests, as "pk sk". */
function batchWritten(): string[] {
  return dynamo
    .commandCalls(BatchWriteCommand)
    .flatMap((call) => call.args[0].input.RequestItems?.['rapport-test'] ?? [])
    .map((request) => `${String(request.PutRequest?.Item?.pk)} ${String(request.PutRequest?.Item?.sk)}`);
}

/** Stores the events as an earlier batch did, then forgets the calls that made it. */
async function alreadyStored(...entries: TimelineEntry[]): Promise<void> {
  await storeTimelineEvents(entries);
  dynamo.resetHistory();
}

describe('storeTimelineEvents', () => {
  it('looks the events up in one batch read, then writes the new ones in a batch write', async () => {
    const event = viewed('m1', 5);
    const outcomes = await storeTimelineEvents(inU1(event));
    expect([...outcomes]).toEqual([['m1', 'stored']]);
    expect(dynamo).toHaveReceivedCommandExactlyOnceWith(BatchGetCommand, {
      RequestItems: {
        'rapport-test': {
          Keys: [{ pk: 'c#u1', sk: 'e#m1' }],
          ConsistentRead: true,
          ProjectionExpression: 'pk, sk, atMillis',
        },
      },
    });
    expect(dynamo).toHaveReceivedCommandExactlyOnceWith(BatchWriteCommand, {
      RequestItems: {
        'rapport-test': [
          { PutRequest: { Item: { pk: 'c#u1', sk: 'e#m1', atMillis: Date.parse(at(5)), event } } },
        ],
      },
    });
    expect(dynamo).not.toHaveReceivedCommand(PutCommand);
  });

  it('reports an event already stored as a duplicate and does not write it again', async () => {
    const first = viewed('m1', 1);
    await alreadyStored(...inU1(first));
    const outcomes = await storeTimelineEvents(inU1(viewed('m1', 1, { receivedAt: at(9) }), viewed('m2', 2)));
    expect(Object.fromEntries(outcomes)).toEqual({ m1: 'duplicate', m2: 'stored' });
    expect(dynamo).toHaveReceivedCommandTimes(BatchGetCommand, 1);
    expect(batchWritten()).toEqual(['c#u1 e#m2']);
    expect(dynamo).not.toHaveReceivedCommand(PutCommand);
    expect(storedEvent('u1', 'm1')).toEqual(first);
  });

  it('leaves a stored copy alone when the incoming one is later', async () => {
    const early = viewed('m1', 1);
    await alreadyStored(...inU1(early));
    await expect(storeTimelineEvents(inU1(viewed('m1', 4)))).resolves.toEqual(new Map([['m1', 'duplicate']]));
    expect(dynamo).not.toHaveReceivedCommand(BatchWriteCommand);
    expect(dynamo).not.toHaveReceivedCommand(PutCommand);
    expect(storedEvent('u1', 'm1')).toEqual(early);
  });

  it('replaces a stored copy with an earlier incoming one, on condition that the stored one is later', async () => {
    const early = viewed('m1', 1);
    await alreadyStored(...inU1(viewed('m1', 4)));
    await expect(storeTimelineEvents(inU1(early))).resolves.toEqual(new Map([['m1', 'duplicate']]));
    const millis = Date.parse(at(1));
    expect(dynamo).toHaveReceivedCommandExactlyOnceWith(PutCommand, {
      TableName: 'rapport-test',
      Item: { pk: 'c#u1', sk: 'e#m1', atMillis: millis, event: early },
      ConditionExpression: 'atMillis > :at',
      ExpressionAttributeValues: { ':at': millis },
    });
    expect(dynamo).not.toHaveReceivedCommand(BatchWriteCommand);
    expect(storedEvent('u1', 'm1')).toEqual(early);
  });

  it('accepts losing the replace to an even earlier copy stored meanwhile', async () => {
    await alreadyStored(...inU1(viewed('m1', 4)));
    dynamo.on(PutCommand).rejects(conditionFailed());
    await expect(storeTimelineEvents(inU1(viewed('m1', 2), viewed('m2', 3)))).resolves.toEqual(
      new Map([
        ['m1', 'duplicate'],
        ['m2', 'stored'],
      ]),
    );
    expect(dynamo).toHaveReceivedCommandTimes(PutCommand, 1);
    expect(batchWritten()).toEqual(['c#u1 e#m2']);
  });

  it('looks up and writes a messageId that occurs twice in the input once, the earliest copy, and calls it a duplicate', async () => {
    const early = viewed('m1', 1);
    const outcomes = await storeTimelineEvents(
      inU1(viewed('m1', 3), viewed('m2', 2), early, viewed('m1', 2)),
    );
    expect(Object.fromEntries(outcomes)).toEqual({ m1: 'duplicate', m2: 'stored' });
    expect(dynamo).toHaveReceivedCommandExactlyOnceWith(BatchGetCommand, {
      RequestItems: {
        'rapport-test': expect.objectContaining({
          Keys: [
            { pk: 'c#u1', sk: 'e#m1' },
            { pk: 'c#u1', sk: 'e#m2' },
          ],
        }),
      },
    });
    expect(batchWritten()).toEqual(['c#u1 e#m1', 'c#u1 e#m2']);
    expect(dynamo).not.toHaveReceivedCommand(PutCommand);
    expect(storedEvent('u1', 'm1')).toEqual(early);
  });

  it('files each event under the id it carries', async () => {
    const visit = viewed('m1', 1, { userId: undefined, anonymousId: 'a1' });
    const view = viewed('m2', 2);
    const outcomes = await storeTimelineEvents([
      { partitionId: 'a1', event: visit },
      { partitionId: 'u1', event: view },
    ]);
    expect(Object.fromEntries(outcomes)).toEqual({ m1: 'stored', m2: 'stored' });
    expect(batchWritten()).toEqual(['c#a1 e#m1', 'c#u1 e#m2']);
    expect(storedEvent('a1', 'm1')).toEqual(visit);
    expect(storedEvent('u1', 'm2')).toEqual(view);
  });

  it('lets an error other than the condition through, so that the records are retried', async () => {
    const throttled = Object.assign(new Error('Throughput exceeds the current capacity of your table'), {
      name: 'ProvisionedThroughputExceededException',
    });
    await alreadyStored(...inU1(viewed('m2', 4)));
    dynamo.on(PutCommand).rejects(throttled);
    await expect(storeTimelineEvents(inU1(viewed('m2', 1)))).rejects.toBe(throttled);

    dynamo.on(BatchWriteCommand).rejects(throttled);
    await expect(storeTimelineEvents(inU1(viewed('m1', 1)))).rejects.toBe(throttled);

    dynamo.on(BatchGetCommand).rejects(throttled);
    await expect(storeTimelineEvents(inU1(viewed('m3', 1)))).rejects.toBe(throttled);
  });
});

describe('queryProfileEvents', () => {
  it('reads every member partition; read in replay order, a messageId found in two is its earliest copy', async () => {
    const early = viewed('m1', 1, { userId: undefined, anonymousId: 'a1' });
    await storeTimelineEvents([
      { partitionId: 'a1', event: early },
      { partitionId: 'u1', event: viewed('m1', 3) },
      { partitionId: 'u1', event: viewed('m2', 2) },
    ]);
    const events = replayOrder(await queryProfileEvents(['a1', 'u1']));
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
