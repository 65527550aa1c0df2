import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  BatchGetCommand,
  type BatchGetCommandInput,
  BatchWriteCommand,
  type BatchWriteCommandInput,
  DynamoDBDocumentClient,
  GetCommand,
  type GetCommandInput,
  PutCommand,
  type PutCommandInput,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import type { IngestEvent } from '#events/ingest-event.ts';
import { handler } from '#functions/ingest.ts';
import { resetRuntimeConfig } from '#shared/config.ts';
import { defaultEngagementSettings as settings } from '#shared/engagement/settings.ts';
import { emptyState, foldEvents } from '#shared/engagement/state.ts';
import { ingestMessageBody } from '#shared/ingest-queue.ts';
import { minutesAfterStart as at, identify, page, track } from '../engagement/events.ts';
import { testRuntimeEnv, useTestRuntime } from '../support/runtime-env.ts';
import { conditionHolds, transactPuts } from './fake-conditions.ts';

const table = testRuntimeEnv.RAPPORT_TABLE;
const dlqUrl = testRuntimeEnv.RAPPORT_INGEST_DLQ_URL;

const dynamo = mockClient(DynamoDBDocumentClient);
const sqs = mockClient(SQSClient);
const eventBridge = mockClient(EventBridgeClient);
useTestRuntime([dynamo, sqs, eventBridge], { RAPPORT_MAX_RECEIVE_COUNT: undefined });

let warnLog: MockInstance<typeof console.warn>;
let errorLog: MockInstance<typeof console.error>;

/** The table as DynamoDB holds it, by "pk sk". */
let items: Map<string, Record<string, unknown>>;

function keyOf(item: Record<string, unknown>): string {
  return `${String(item.pk)} ${String(item.sk)}`;
}

function conditionFailed() {
  return new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
}

beforeEach(() => {
  // Every customer is new unless a test stores something: no profile, nothing on the timeline yet.
  items = new Map();
  dynamo.on(BatchGetCommand).callsFake((input: BatchGetCommandInput) => {
    const keys = input.RequestItems?.[table]?.Keys ?? [];
    return { Responses: { [table]: keys.flatMap((key) => items.get(keyOf(key)) ?? []) } };
  });
  dynamo.on(BatchWriteCommand).callsFake((input: BatchWriteCommandInput) => {
    for (const request of input.RequestItems?.[table] ?? []) {
      if (request.PutRequest?.Item) items.set(keyOf(request.PutRequest.Item), request.PutRequest.Item);
    }
    return {};
  });
  dynamo.on(GetCommand).callsFake((input: GetCommandInput) => ({ Item: items.get(keyOf(input.Key ?? {})) }));
  dynamo.on(PutCommand).callsFake((input: PutCommandInput) => {
    const item = input.Item ?? {};
    if (!conditionHolds(input, items.get(keyOf(item)))) throw conditionFailed();
    items.set(keyOf(item), item);
    return {};
  });
  dynamo.on(TransactWriteCommand).callsFake((input: TransactWriteCommandInput) =>
    transactPuts(input, {
      get: (item) => items.get(keyOf(item)),
      set: (item) => items.set(keyOf(item), item),
    }),
  );
  dynamo.on(UpdateCommand).resolves({});
  dynamo.on(QueryCommand).callsFake((input: QueryCommandInput) => {
    const partition = String(input.ExpressionAttributeValues?.[':pk']);
    const events = [...items.values()].filter(
      (item) => item.pk === partition && String(item.sk).startsWith('e#'),
    );
    return { Items: events.map((item) => ({ event: item.event })) };
  });
  sqs.on(SendMessageCommand).resolves({ MessageId: 'dlq-1' });
  eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [] });
  warnLog = vi.spyOn(console, 'warn').mockImplementation(() => {});
  errorLog = vi.spyOn(console, 'error').mockImplementation(() => {});
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

function record(messageId: string, body: string, receiveCount = 1): SQSRecord {
  return {
    messageId,
    receiptHandle: `receipt-${messageId}`,
    body,
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: '1740823200000',
      SenderId: 'AIDATEST',
      ApproximateFirstReceiveTimestamp: '1740823200000',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:rapport-ingest',
    awsRegion: 'us-east-1',
  };
}

function batch(...records: SQSRecord[]): SQSEvent {
  return { Records: records };
}

function visitOf(userId: string, messageId: string): IngestEvent {
  return page(at(0), {}, { userId, messageId });
}

const notJson = '{"type": "page", ';
const notAnEvent = JSON.stringify({ type: 'purchase', userId: 'u1', timestamp: at(0) });
const visit = visitOf('u1', 'm-visit');

/** The timeline items written in batches, as "pk sk", one list per BatchWriteItem request. */
function timelineRequests(): string[][] {
  return dynamo
    .commandCalls(BatchWriteCommand)
    .map((call) =>
      (call.args[0].input.RequestItems?.[table] ?? [])
        .map((request) => request.PutRequest?.Item ?? {})
        .map((item) => `${String(item.pk)} ${String(item.sk)}`),
    );
}

/** The timeline items written, as "pk sk". */
function timelineWrites(): string[] {
  return timelineRequests().flat();
}

/** The ids whose profiles were read, one list per BatchGetItem request for profiles. */
function profileReads(): string[][] {
  return dynamo
    .commandCalls(BatchGetCommand)
    .map((call) => call.args[0].input.RequestItems?.[table]?.Keys ?? [])
    .filter((keys) => keys.every((key) => key.sk === 'state'))
    .map((keys) => keys.map((key) => String(key.pk).slice('c#'.length)));
}

/** Stores a profile item as a previous batch left it. */
function storeProfile(id: string, attributes: Record<string, unknown>): void {
  items.set(`c#${id} state`, { pk: `c#${id}`, sk: 'state', ...attributes });
}

function warnings(): string[] {
  return warnLog.mock.calls.map((call) => String(call[0]));
}

describe('ingest handler: records that cannot be ingested', () => {
  it('takes every event of a packed record, and retries the record when one of them is bad', async () => {
    const other = visitOf('u2', 'm-other');
    const packed = ingestMessageBody([visit, JSON.parse(notAnEvent), other]);
    const result = await handler(batch(record('q-pack', packed)));
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'q-pack' }] });
    expect(warnings()).toEqual([
      expect.stringMatching(
        /^ingest failed for message q-pack \(receive 1\): event 1 of the message is not an ingest event: messageId: /,
      ),
    ]);
    expect(timelineWrites()).toEqual(['c#u1 e#m-visit', 'c#u2 e#m-other']);
    for (const id of ['u1', 'u2']) expect(items.get(`c#${id} state`)).toMatchObject({ version: 1 });
    expect(sqs).not.toHaveReceivedCommand(SendMessageCommand);
  });

  it('dead-letters only the failed events of a packed record at the receive limit', async () => {
    const bad = { ...JSON.parse(notAnEvent), messageId: 'm-bad' };
    const result = await handler(batch(record('q-pack', ingestMessageBody([visit, bad]), 5)));
    expect(result).toEqual({ batchItemFailures: [] });
    expect(sqs).toHaveReceivedCommandExactlyOnceWith(SendMessageCommand, {
      QueueUrl: dlqUrl,
      MessageBody: ingestMessageBody([bad]),
      MessageAttributes: expect.objectContaining({
        failureReason: {
          DataType: 'String',
          StringValue: expect.stringMatching(/^event 1 of the message is not an ingest event: type: /),
        },
        originalMessageId: { DataType: 'String', StringValue: 'q-pack' },
      }),
    });
    expect(timelineWrites()).toEqual(['c#u1 e#m-visit']);
  });

  it('reports only the bad records, logs why, and commits the valid ones', async () => {
    const result = await handler(
      batch(
        record('q-bad-json', notJson),
        record('q-valid', JSON.stringify(visit)),
        record('q-bad-event', notAnEvent),
      ),
    );
    expect(result).toEqual({
      batchItemFailures: [{ itemIdentifier: 'q-bad-json' }, { itemIdentifier: 'q-bad-event' }],
    });
    expect(warnings()).toEqual([
      'ingest failed for message q-bad-json (receive 1): message body is not JSON',
      expect.stringMatching(
        /^ingest failed for message q-bad-event \(receive 1\): message body is not an ingest event: messageId: .*type: .*receivedAt: .*source: /,
      ),
    ]);
    expect(timelineWrites()).toEqual(['c#u1 e#m-visit']);
    expect(dynamo).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({ pk: 'c#u1', sk: 'state', version: 1 }),
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    expect(sqs).not.toHaveReceivedCommand(SendMessageCommand);
  });

  it('moves a record that reached the receive limit to the DLQ with its reason, and does not report it', async () => {
    const result = await handler(
      batch(
        record('q-bad-json', notJson, 5),
        record('q-bad-event', notAnEvent, 7),
        record('q-valid', JSON.stringify(visit), 5),
      ),
    );
    expect(result).toEqual({ batchItemFailures: [] });
    expect(sqs).toHaveReceivedCommandTimes(SendMessageCommand, 2);
    expect(sqs).toHaveReceivedNthCommandWith(SendMessageCommand, 1, {
      QueueUrl: dlqUrl,
      MessageBody: notJson,
      MessageAttributes: {
        failureReason: { DataType: 'String', StringValue: 'message body is not JSON' },
        receiveCount: { DataType: 'Number', StringValue: '5' },
        originalMessageId: { DataType: 'String', StringValue: 'q-bad-json' },
      },
    });
    expect(sqs).toHaveReceivedNthCommandWith(SendMessageCommand, 2, {
      QueueUrl: dlqUrl,
      MessageBody: notAnEvent,
      MessageAttributes: expect.objectContaining({
        failureReason: {
          DataType: 'String',
          StringValue: expect.stringMatching(/^message body is not an ingest event: messageId: /),
        },
      }),
    });
    expect(timelineWrites()).toEqual(['c#u1 e#m-visit']);
  });

  it('retries below the receive limit that RAPPORT_MAX_RECEIVE_COUNT sets', async () => {
    vi.stubEnv('RAPPORT_MAX_RECEIVE_COUNT', '3');
    resetRuntimeConfig();
    const result = await handler(batch(record('q-second', notJson, 2), record('q-third', notJson, 3)));
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'q-second' }] });
    expect(sqs).toHaveReceivedCommandExactlyOnceWith(SendMessageCommand, {
      MessageAttributes: expect.objectContaining({
        originalMessageId: { DataType: 'String', StringValue: 'q-third' },
      }),
    });
  });

  it('reports a record it could not dead-letter, so that the queue redrives it', async () => {
    const refusal = new Error('AccessDenied: not allowed to send to the DLQ');
    sqs.on(SendMessageCommand).rejects(refusal);
    const result = await handler(
      batch(record('q-bad-json', notJson, 5), record('q-valid', JSON.stringify(visit))),
    );
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'q-bad-json' }] });
    expect(sqs).toHaveReceivedCommandTimes(SendMessageCommand, 1);
    expect(errorLog).toHaveBeenCalledWith(
      "could not dead-letter message q-bad-json; leaving it to the queue's redrive",
      refusal,
    );
    expect(timelineWrites()).toEqual(['c#u1 e#m-visit']);
  });

  it('reports a record at the limit when no DLQ is configured', async () => {
    vi.stubEnv('RAPPORT_INGEST_DLQ_URL', undefined);
    resetRuntimeConfig();
    const result = await handler(batch(record('q-bad-json', notJson, 5)));
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'q-bad-json' }] });
    expect(sqs).not.toHaveReceivedCommand(SendMessageCommand);
    expect(errorLog).toHaveBeenCalledWith(
      expect.stringContaining('could not dead-letter message q-bad-json'),
      expect.objectContaining({ message: 'RAPPORT_INGEST_DLQ_URL is not set' }),
    );
  });
});

describe('ingest handler: records that are ingested', () => {
  it('reads the profiles of the whole batch in one request and stores its events in one batch write', async () => {
    const anonymous = page(at(1), {}, { userId: undefined, anonymousId: 'a3', messageId: 'm-a3' });
    const result = await handler(
      batch(
        record('q-u1', JSON.stringify(visit)),
        record('q-u2', JSON.stringify(visitOf('u2', 'm-u2'))),
        record('q-a3', JSON.stringify(anonymous)),
      ),
    );
    expect(result).toEqual({ batchItemFailures: [] });
    expect(profileReads()).toEqual([['u1', 'u2', 'a3']]);
    expect(dynamo).toHaveReceivedCommandTimes(BatchGetCommand, 2);
    expect(timelineRequests()).toEqual([['c#u1 e#m-visit', 'c#u2 e#m-u2', 'c#a3 e#m-a3']]);
    // The new states are written together, each on condition that no profile exists yet.
    expect(dynamo).toHaveReceivedCommandExactlyOnceWith(TransactWriteCommand, {
      TransactItems: ['u1', 'u2', 'a3'].map((id) => ({
        Put: expect.objectContaining({
          Item: expect.objectContaining({
            pk: `c#${id}`,
            sk: 'state',
            version: 1,
            members: [id],
            foldedMembers: [id],
          }),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      })),
    });
    expect(dynamo).not.toHaveReceivedCommand(PutCommand);
    for (const id of ['u1', 'u2', 'a3']) {
      expect(items.get(`c#${id} state`)).toMatchObject({ version: 1, members: [id], foldedMembers: [id] });
    }
  });

  it("publishes the lifecycle events of the batch and clears its customers' outboxes in one transaction", async () => {
    const firstOrder = (userId: string) =>
      track(
        'Order Completed',
        at(1),
        { order_id: `${userId}-1`, revenue: 20, currency: 'USD' },
        { userId, messageId: `m-${userId}` },
      );
    const result = await handler(
      batch(
        record('q-u1', JSON.stringify(firstOrder('u1'))),
        record('q-u2', JSON.stringify(firstOrder('u2'))),
      ),
    );
    expect(result).toEqual({ batchItemFailures: [] });
    expect(eventBridge).toHaveReceivedCommand(PutEventsCommand);
    expect(dynamo).not.toHaveReceivedCommand(UpdateCommand);
    const clears = dynamo
      .commandCalls(TransactWriteCommand)
      .map((call) => call.args[0].input.TransactItems ?? [])
      .filter((transactItems) => transactItems.every((entry) => entry.Update));
    expect(clears.map((transactItems) => transactItems.map((entry) => entry.Update?.Key?.pk))).toEqual([
      ['c#u1', 'c#u2'],
    ]);
    for (const id of ['u1', 'u2']) {
      expect(items.get(`c#${id} state`)).toMatchObject({ version: 1, outbox: { events: [] } });
    }
  });

  it('refolds a customer whose profile moved on meanwhile from a fresh read, without sending its stale write', async () => {
    // u2 folded one visit; while this batch folds, another worker folds a second one and bumps u2.
    const earlier = visitOf('u2', 'm-u2-earlier');
    const meanwhile = page(at(2), {}, { userId: 'u2', messageId: 'm-u2-meanwhile' });
    items.set('c#u2 e#m-u2-earlier', { pk: 'c#u2', sk: 'e#m-u2-earlier', atMillis: 0, event: earlier });
    storeProfile('u2', {
      version: 1,
      members: ['u2'],
      foldedMembers: ['u2'],
      state: foldEvents('u2', [earlier], settings),
    });
    const apply = (input: TransactWriteCommandInput) =>
      transactPuts(input, {
        get: (item) => items.get(keyOf(item)),
        set: (item) => items.set(keyOf(item), item),
      });
    dynamo.on(TransactWriteCommand).callsFakeOnce((input: TransactWriteCommandInput) => {
      items.set('c#u2 e#m-u2-meanwhile', {
        pk: 'c#u2',
        sk: 'e#m-u2-meanwhile',
        atMillis: 120_000,
        event: meanwhile,
      });
      storeProfile('u2', {
        version: 2,
        members: ['u2'],
        foldedMembers: ['u2'],
        state: foldEvents('u2', [earlier, meanwhile], settings),
      });
      return apply(input);
    });
    const latest = page(at(5), {}, { userId: 'u2', messageId: 'm-u2-latest' });
    const result = await handler(
      batch(record('q-u1', JSON.stringify(visit)), record('q-u2', JSON.stringify(latest))),
    );
    expect(result).toEqual({ batchItemFailures: [] });
    // The transaction is refused for u2 alone; u1, left alone, goes as a plain conditional put.
    expect(dynamo).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
    expect(dynamo).not.toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({ pk: 'c#u2' }),
      ExpressionAttributeValues: { ':expected': 1 },
    });
    expect(dynamo).toHaveReceivedCommandWith(GetCommand, { Key: { pk: 'c#u2', sk: 'state' } });
    expect(items.get('c#u2 state')).toMatchObject({
      version: 3,
      state: JSON.stringify(foldEvents('u2', [earlier, meanwhile, latest], settings)),
    });
    expect(items.get('c#u1 state')).toMatchObject({ version: 1 });
  });

  it('files a merged visitor’s event under the visitor’s id and folds it into the customer it joined', async () => {
    storeProfile('a1', { version: 2, mergedInto: 'u1' });
    storeProfile('u1', {
      version: 3,
      members: ['a1', 'u1'],
      foldedMembers: ['a1', 'u1'],
      state: emptyState('u1'),
    });
    const anonymous = page(at(0), {}, { userId: undefined, anonymousId: 'a1', messageId: 'm-anonymous' });
    const result = await handler(batch(record('q-anonymous', JSON.stringify(anonymous))));
    expect(result).toEqual({ batchItemFailures: [] });
    expect(profileReads()).toEqual([['a1'], ['u1']]);
    expect(timelineWrites()).toEqual(['c#a1 e#m-anonymous']);
    expect(dynamo).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({ pk: 'c#u1', sk: 'state', version: 4, members: ['a1', 'u1'] }),
      ExpressionAttributeValues: { ':expected': 3 },
    });
  });

  it('links a visitor to the customer it identifies as in the batch of its first visit, folding both without a replay', async () => {
    const firstVisit = page(at(0), {}, { userId: undefined, anonymousId: 'a1', messageId: 'm-first' });
    const signUp = identify(
      at(1),
      { email: 'ada@shop.example' },
      { anonymousId: 'a1', messageId: 'm-identify' },
    );
    const result = await handler(
      batch(record('q-first', JSON.stringify(firstVisit)), record('q-identify', JSON.stringify(signUp))),
    );
    expect(result).toEqual({ batchItemFailures: [] });
    // The merge is one transaction: u1 created with a1 among its members, and a1 turned into a
    // redirect, each on condition that it did not exist. Neither had a profile, so nothing of either
    // was folded: u1 starts empty with both folded.
    expect(dynamo).toHaveReceivedCommandExactlyOnceWith(TransactWriteCommand, {
      TransactItems: [
        {
          Put: expect.objectContaining({
            Item: {
              pk: 'c#u1',
              sk: 'state',
              version: 1,
              members: ['a1', 'u1'],
              foldedMembers: ['a1', 'u1'],
              state: JSON.stringify(emptyState('u1')),
              outbox: { events: [] },
              indexed: [],
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        },
        {
          Put: expect.objectContaining({
            Item: { pk: 'c#a1', sk: 'state', version: 1, mergedInto: 'u1' },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        },
      ],
    });
    // The profiles are read again after the merge, so the state is written at the version it made.
    expect(profileReads()).toEqual([
      ['a1', 'u1'],
      ['a1', 'u1'],
    ]);
    expect(timelineWrites()).toEqual(['c#a1 e#m-first', 'c#u1 e#m-identify']);
    expect(dynamo).not.toHaveReceivedCommand(QueryCommand);
    const state = foldEvents('u1', [firstVisit, signUp], settings);
    expect(dynamo).toHaveReceivedCommandExactlyOnceWith(PutCommand, {
      Item: expect.objectContaining({
        pk: 'c#u1',
        version: 2,
        members: ['a1', 'u1'],
        foldedMembers: ['a1', 'u1'],
        state: JSON.stringify(state),
      }),
      ExpressionAttributeValues: { ':expected': 1 },
    });
    expect(items.get('c#u1 state')).toMatchObject({
      version: 2,
      foldedMembers: ['a1', 'u1'],
      state: JSON.stringify(state),
    });
    expect(items.get('c#a1 state')).toEqual({ pk: 'c#a1', sk: 'state', version: 1, mergedInto: 'u1' });
  });

  it('links a visitor with a profile to a customer with events of their own, then replays both', async () => {
    const earlierVisit = page(at(0), {}, { userId: undefined, anonymousId: 'a1', messageId: 'm-earlier' });
    items.set('c#a1 e#m-earlier', { pk: 'c#a1', sk: 'e#m-earlier', atMillis: 0, event: earlierVisit });
    storeProfile('a1', {
      version: 1,
      members: ['a1'],
      foldedMembers: ['a1'],
      state: foldEvents('a1', [earlierVisit], settings),
    });
    const otherDevice = page(at(1), {}, { messageId: 'm-other-device' });
    items.set('c#u1 e#m-other-device', {
      pk: 'c#u1',
      sk: 'e#m-other-device',
      atMillis: 60_000,
      event: otherDevice,
    });
    storeProfile('u1', {
      version: 1,
      members: ['u1'],
      foldedMembers: ['u1'],
      state: foldEvents('u1', [otherDevice], settings),
    });
    const signUp = identify(at(2), {}, { anonymousId: 'a1', messageId: 'm-identify' });
    const result = await handler(batch(record('q-identify', JSON.stringify(signUp))));
    expect(result).toEqual({ batchItemFailures: [] });
    // a1 is among u1's members now, but not folded into u1: the fold replays both partitions.
    expect(dynamo).toHaveReceivedCommandWith(QueryCommand, {
      ExpressionAttributeValues: { ':pk': 'c#a1', ':prefix': 'e#' },
    });
    const state = foldEvents('u1', [earlierVisit, otherDevice, signUp], settings);
    expect(items.get('c#u1 state')).toMatchObject({
      version: 3,
      members: ['a1', 'u1'],
      foldedMembers: ['a1', 'u1'],
      state: JSON.stringify(state),
    });
  });

  it('finishes the fold of a merge whose process died before folding, with the next event', async () => {
    // A merge landed (a1 is among u1's members) but its fold never happened: u1's state lacks a1's visit.
    const earlierVisit = page(at(0), {}, { userId: undefined, anonymousId: 'a1', messageId: 'm-earlier' });
    items.set('c#a1 e#m-earlier', { pk: 'c#a1', sk: 'e#m-earlier', atMillis: 0, event: earlierVisit });
    const signUp = identify(at(1), {}, { messageId: 'm-identify' });
    items.set('c#u1 e#m-identify', { pk: 'c#u1', sk: 'e#m-identify', atMillis: 60_000, event: signUp });
    storeProfile('a1', { version: 1, mergedInto: 'u1' });
    storeProfile('u1', {
      version: 2,
      members: ['a1', 'u1'],
      foldedMembers: ['u1'],
      state: foldEvents('u1', [signUp], settings),
      outbox: { events: [] },
    });
    const next = page(at(5), {}, { messageId: 'm-next' });
    const result = await handler(batch(record('q-next', JSON.stringify(next))));
    expect(result).toEqual({ batchItemFailures: [] });
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
    expect(dynamo).toHaveReceivedCommandTimes(QueryCommand, 2);
    expect(dynamo).toHaveReceivedCommandExactlyOnceWith(PutCommand, {
      Item: expect.objectContaining({
        pk: 'c#u1',
        version: 3,
        members: ['a1', 'u1'],
        foldedMembers: ['a1', 'u1'],
        state: JSON.stringify(foldEvents('u1', [earlierVisit, signUp, next], settings)),
      }),
      ExpressionAttributeValues: { ':expected': 2 },
    });
  });

  it('makes no merge writes for a visitor already linked to the customer', async () => {
    storeProfile('a1', { version: 2, mergedInto: 'u1' });
    storeProfile('u1', {
      version: 3,
      members: ['a1', 'u1'],
      foldedMembers: ['a1', 'u1'],
      state: emptyState('u1'),
    });
    const signIn = identify(
      at(1),
      { email: 'ada@shop.example' },
      { anonymousId: 'a1', messageId: 'm-identify' },
    );
    const result = await handler(batch(record('q-identify', JSON.stringify(signIn))));
    expect(result).toEqual({ batchItemFailures: [] });
    expect(dynamo).not.toHaveReceivedCommand(GetCommand);
    expect(profileReads()).toEqual([['u1', 'a1']]);
    expect(dynamo).toHaveReceivedCommandExactlyOnceWith(PutCommand, {
      Item: expect.objectContaining({ pk: 'c#u1', sk: 'state', version: 4 }),
      ExpressionAttributeValues: { ':expected': 3 },
    });
    expect(dynamo).not.toHaveReceivedCommand(QueryCommand);
  });

  it('leaves a visitor with the customer it joined first when another customer signs in on its device', async () => {
    storeProfile('a1', { version: 2, mergedInto: 'u1' });
    storeProfile('u1', {
      version: 3,
      members: ['a1', 'u1'],
      foldedMembers: ['a1', 'u1'],
      state: emptyState('u1'),
    });
    const other = identify(at(1), {}, { userId: 'u2', anonymousId: 'a1', messageId: 'm-other' });
    const result = await handler(batch(record('q-other', JSON.stringify(other))));
    expect(result).toEqual({ batchItemFailures: [] });
    expect(dynamo).not.toHaveReceivedCommand(GetCommand);
    expect(dynamo).not.toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({ pk: 'c#a1' }),
    });
    expect(timelineWrites()).toEqual(['c#u2 e#m-other']);
    expect(dynamo).toHaveReceivedCommandExactlyOnceWith(PutCommand, {
      Item: expect.objectContaining({ pk: 'c#u2', sk: 'state', version: 1, members: ['u2'] }),
    });
  });

  it('gives a shared device to the first customer who signs in on it, in one batch or at the same time', async () => {
    const signIn = (userId: string, device: string) =>
      identify(at(1), {}, { userId, anonymousId: device, messageId: `m-${userId}-${device}` });
    const oneBatch = await handler(
      batch(
        record('q-alice-1', JSON.stringify(signIn('alice', 'dev-1'))),
        record('q-bob-1', JSON.stringify(signIn('bob', 'dev-1'))),
      ),
    );
    const concurrent = await Promise.all([
      handler(batch(record('q-alice-2', JSON.stringify(signIn('alice2', 'dev-2'))))),
      handler(batch(record('q-bob-2', JSON.stringify(signIn('bob2', 'dev-2'))))),
    ]);
    for (const result of [oneBatch, ...concurrent]) expect(result).toEqual({ batchItemFailures: [] });

    expect(items.get('c#dev-1 state')).toMatchObject({ mergedInto: 'alice' });
    expect(items.get('c#alice state')).toMatchObject({ members: ['alice', 'dev-1'] });
    expect(items.get('c#bob state')).toMatchObject({ members: ['bob'], foldedMembers: ['bob'] });
    const owner = String(items.get('c#dev-2 state')?.mergedInto);
    const other = owner === 'alice2' ? 'bob2' : 'alice2';
    expect(['alice2', 'bob2']).toContain(owner);
    expect(items.get(`c#${owner} state`)).toMatchObject({ members: [owner, 'dev-2'] });
    expect(items.get(`c#${other} state`)).toMatchObject({ members: [other], foldedMembers: [other] });
  });
});

describe('ingest handler: a customer whose timeline write fails', () => {
  beforeEach(() => {
    // DynamoDB refuses any request that holds one of u2's events.
    dynamo.on(BatchWriteCommand).callsFake((input: BatchWriteCommandInput) => {
      const requests = input.RequestItems?.[table] ?? [];
      if (requests.some((request) => request.PutRequest?.Item?.pk === 'c#u2')) {
        throw Object.assign(new Error('Throughput exceeds the current capacity of your table'), {
          name: 'ProvisionedThroughputExceededException',
        });
      }
      return {};
    });
  });

  it('falls back to one write per customer, and fails only that customer’s records', async () => {
    const result = await handler(
      batch(
        record('q-u1', JSON.stringify(visit)),
        record('q-u2-a', JSON.stringify(visitOf('u2', 'm-u2-a'))),
        record('q-u2-b', JSON.stringify(visitOf('u2', 'm-u2-b'))),
      ),
    );
    expect(result.batchItemFailures.map((failure) => failure.itemIdentifier).sort()).toEqual([
      'q-u2-a',
      'q-u2-b',
    ]);
    expect(warnings()).toContain(
      'ingest failed for message q-u2-a (receive 1): ProvisionedThroughputExceededException: Throughput exceeds the current capacity of your table',
    );
    const [bulk, ...perCustomer] = timelineRequests();
    expect(bulk).toEqual(['c#u1 e#m-visit', 'c#u2 e#m-u2-a', 'c#u2 e#m-u2-b']);
    expect(perCustomer).toHaveLength(2);
    expect(perCustomer).toEqual(
      expect.arrayContaining([['c#u1 e#m-visit'], ['c#u2 e#m-u2-a', 'c#u2 e#m-u2-b']]),
    );
    expect(dynamo).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({ pk: 'c#u1', sk: 'state' }),
    });
    expect(dynamo).not.toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({ pk: 'c#u2', sk: 'state' }),
    });
  });

  it('dead-letters those records with the error as the reason once they reach the limit', async () => {
    const body = JSON.stringify(visitOf('u2', 'm-u2-a'));
    const result = await handler(batch(record('q-u2-a', body, 5)));
    expect(result).toEqual({ batchItemFailures: [] });
    expect(sqs).toHaveReceivedCommandExactlyOnceWith(SendMessageCommand, {
      QueueUrl: dlqUrl,
      MessageBody: body,
      MessageAttributes: expect.objectContaining({
        failureReason: {
          DataType: 'String',
          StringValue:
            'ProvisionedThroughputExceededException: Throughput exceeds the current capacity of your table',
        },
      }),
    });
  });
});
