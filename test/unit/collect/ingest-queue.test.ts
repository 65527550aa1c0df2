import { SendMessageBatchCommand, type SendMessageBatchCommandInput } from '@aws-sdk/client-sqs';
import 'aws-sdk-client-mock-vitest/extend';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { IngestEvent } from '#events/ingest-event.ts';
import { ServiceUnavailableError } from '#shared/http.ts';
import { enqueueEvents, ingestMessages } from '#shared/ingest-queue.ts';
import { sqsBatches } from '#shared/queue.ts';
import { acceptAll, mockAws, queuedBodies, queueUrl } from './fixtures.ts';

function events(count: number, padding = ''): IngestEvent[] {
  return Array.from({ length: count }, (_, i) => ({
    messageId: `m${i}`,
    type: 'track',
    userId: 'u1',
    event: 'Product Viewed',
    properties: padding ? { padding } : undefined,
    timestamp: '2024-05-01T12:00:00.000Z',
    receivedAt: '2024-05-01T12:00:00.000Z',
    source: 'shop',
  }));
}

/** SQS refusing the first entry of each call, `times` times over. */
function failingFirst(times: number, senderFault = false) {
  let left = times;
  return (input: SendMessageBatchCommandInput) => {
    const entries = input.Entries ?? [];
    if (left <= 0) return acceptAll(input);
    left -= 1;
    const [first, ...rest] = entries;
    return {
      Successful: rest.map((entry) => ({ Id: entry.Id, MessageId: `m-${entry.Id}` })),
      Failed: first
        ? [{ Id: first.Id, Code: 'InternalError', SenderFault: senderFault, Message: 'secret detail' }]
        : [],
    };
  };
}

const fast = { backoffMillis: 1 };

describe('sqsBatches', () => {
  it('makes batches of at most 10 entries', () => {
    expect(sqsBatches(ingestMessages(events(25))).map((batch) => batch.length)).toEqual([10, 10, 5]);
  });

  it('keeps each batch under 256 KB', () => {
    const batches = sqsBatches(ingestMessages(events(10, 'x'.repeat(32_000))));
    expect(batches.map((batch) => batch.length)).toEqual([8, 2]);
    for (const batch of batches) {
      const bytes = batch.reduce((sum, entry) => sum + Buffer.byteLength(entry.MessageBody ?? ''), 0);
      expect(bytes).toBeLessThanOrEqual(256 * 1024);
    }
  });

  it('escapes the characters SQS refuses, keeping the JSON the same', () => {
    const [event] = events(1);
    if (!event) throw new Error('no event');
    const body =
      sqsBatches(ingestMessages([{ ...event, event: 'odd\uFFFF\uFFFE' }]))[0]?.[0]?.MessageBody ?? '';
    expect(body).not.toMatch(/[\uFFFE\uFFFF]/);
    expect(JSON.parse(body).event).toBe('odd\uFFFF\uFFFE');
  });
});

describe('enqueueEvents', () => {
  let aws: ReturnType<typeof mockAws>;
  beforeEach(() => {
    aws = mockAws();
    vi.spyOn(console, 'error').mockImplementation(() => {});
  });
  afterEach(() => {
    aws.restore();
    vi.restoreAllMocks();
  });

  it('sends each event as JSON with its messageId as an attribute', async () => {
    await enqueueEvents(events(12));
    expect(aws.sqs).toHaveReceivedCommandTimes(SendMessageBatchCommand, 2);
    expect(aws.sqs).toHaveReceivedCommandWith(SendMessageBatchCommand, {
      QueueUrl: queueUrl,
      Entries: expect.arrayContaining([
        expect.objectContaining({
          MessageAttributes: { messageId: { DataType: 'String', StringValue: 'm11' } },
        }),
      ]),
    });
    expect(queuedBodies(aws.sqs)).toEqual(events(12).map((event) => JSON.parse(JSON.stringify(event))));
  });

  it('retries the entries SQS failed until they are in', async () => {
    aws.sqs.on(SendMessageBatchCommand).callsFake(failingFirst(2));
    await enqueueEvents(events(3), fast);
    const calls = aws.sqs
      .commandCalls(SendMessageBatchCommand)
      .map((call) => call.args[0].input.Entries?.map((e) => e.Id));
    expect(calls).toEqual([['0', '1', '2'], ['0'], ['0']]);
  });

  it('retries a batch whose call failed outright', async () => {
    aws.sqs.on(SendMessageBatchCommand).rejectsOnce(new Error('socket hang up')).callsFake(acceptAll);
    await enqueueEvents(events(2), fast);
    expect(aws.sqs).toHaveReceivedCommandTimes(SendMessageBatchCommand, 2);
  });

  it('is a 503 telling to retry when entries still fail, without SQS details', async () => {
    aws.sqs.on(SendMessageBatchCommand).callsFake(failingFirst(100));
    const sent = enqueueEvents(events(15), { attempts: 3, backoffMillis: 1 });
    await expect(sent).rejects.toBeInstanceOf(ServiceUnavailableError);
    await expect(sent).rejects.toThrow(/^could not queue 2 events; retry the request$/);
    // Two batches in parallel, each tried three times.
    expect(aws.sqs).toHaveReceivedCommandTimes(SendMessageBatchCommand, 6);
  });

  it("does not retry an entry refused as the sender's fault", async () => {
    aws.sqs.on(SendMessageBatchCommand).callsFake(failingFirst(1, true));
    await expect(enqueueEvents(events(2), fast)).rejects.toThrow(
      'could not queue 1 events; retry the request',
    );
    expect(aws.sqs).toHaveReceivedCommandTimes(SendMessageBatchCommand, 1);
  });

  it('counts an entry SQS does not confirm as not sent', async () => {
    aws.sqs.on(SendMessageBatchCommand).resolves({});
    await expect(enqueueEvents(events(1), { attempts: 2, backoffMillis: 1 })).rejects.toBeInstanceOf(
      ServiceUnavailableError,
    );
  });
});
