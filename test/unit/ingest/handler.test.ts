import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand, PutCommand, type PutCommandInput } from '@aws-sdk/lib-dynamodb';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterAll, afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import type { IngestEvent } from '#events/ingest-event.ts';
import { handler } from '#functions/ingest.ts';
import { resetClients } from '#shared/clients.ts';
import { resetRuntimeConfig } from '#shared/config.ts';
import { emptyState } from '#shared/engagement/state.ts';
import { minutesAfterStart as at, page } from '../engagement/events.ts';

const table = 'rapport-test';
const dlqUrl = 'http://sqs.test/000000000000/rapport-ingest-dlq';

const dynamo = mockClient(DynamoDBDocumentClient);
const sqs = mockClient(SQSClient);
const eventBridge = mockClient(EventBridgeClient);

let warnLog: MockInstance<typeof console.warn>;
let errorLog: MockInstance<typeof console.error>;

beforeEach(() => {
  process.env.RAPPORT_TABLE = table;
  process.env.RAPPORT_INGEST_QUEUE_URL = 'http://sqs.test/000000000000/rapport-ingest';
  process.env.RAPPORT_INGEST_DLQ_URL = dlqUrl;
  process.env.RAPPORT_BUS_NAME = 'rapport-test-bus';
  process.env.AWS_REGION = 'us-east-1';
  delete process.env.RAPPORT_MAX_RECEIVE_COUNT;
  resetRuntimeConfig();
  resetClients();
  dynamo.reset();
  sqs.reset();
  eventBridge.reset();
  // Every customer is new: no profile, nothing on the timeline yet.
  dynamo.on(GetCommand).resolves({});
  dynamo.on(PutCommand).resolves({});
  sqs.on(SendMessageCommand).resolves({ MessageId: 'dlq-1' });
  eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [] });
  warnLog = vi.spyOn(console, 'warn').mockImplementation(() => {});
  errorLog = vi.spyOn(console, 'error').mockImplementation(() => {});
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

afterAll(() => {
  dynamo.restore();
  sqs.restore();
  eventBridge.restore();
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

/** The timeline items written, as "pk sk". */
function timelineWrites(): string[] {
  return dynamo
    .commandCalls(PutCommand)
    .map((call) => call.args[0].input.Item ?? {})
    .filter((item) => String(item.sk).startsWith('e#'))
    .map((item) => `${String(item.pk)} ${String(item.sk)}`);
}

function warnings(): string[] {
  return warnLog.mock.calls.map((call) => String(call[0]));
}

describe('ingest handler: records that cannot be ingested', () => {
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
  it('files a merged visitor’s event under the visitor’s id and folds it into the customer it joined', async () => {
    dynamo
      .on(GetCommand, { Key: { pk: 'c#a1', sk: 'state' } })
      .resolves({ Item: { pk: 'c#a1', sk: 'state', version: 2, mergedInto: 'u1' } });
    dynamo.on(GetCommand, { Key: { pk: 'c#u1', sk: 'state' } }).resolves({
      Item: { pk: 'c#u1', sk: 'state', version: 3, members: ['a1', 'u1'], state: emptyState('u1') },
    });
    const anonymous = page(at(0), {}, { userId: undefined, anonymousId: 'a1', messageId: 'm-anonymous' });
    const result = await handler(batch(record('q-anonymous', JSON.stringify(anonymous))));
    expect(result).toEqual({ batchItemFailures: [] });
    expect(timelineWrites()).toEqual(['c#a1 e#m-anonymous']);
    expect(dynamo).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({ pk: 'c#u1', sk: 'state', version: 4, members: ['a1', 'u1'] }),
      ExpressionAttributeValues: { ':expected': 3 },
    });
  });
});

describe('ingest handler: a customer whose writes fail', () => {
  beforeEach(() => {
    dynamo.on(PutCommand).callsFake((input: PutCommandInput) => {
      if (input.Item?.pk === 'c#u2') {
        throw Object.assign(new Error('Throughput exceeds the current capacity of your table'), {
          name: 'ProvisionedThroughputExceededException',
        });
      }
      return {};
    });
  });

  it('fails only that customer’s records and commits the others', async () => {
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
    expect(timelineWrites()).toContain('c#u1 e#m-visit');
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
