import { randomUUID } from 'node:crypto';
import {
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { type QueueWorker, type SqsHandler, startQueueWorker } from '#infra/local/queue-worker.ts';
import { ensureQueueWithDlq, type QueuePair } from '#infra/local/resources.ts';

/** The local event source mapping against the real SQS emulator. */
let sqs: SQSClient;
const workers: QueueWorker[] = [];

beforeAll(() => {
  sqs = new SQSClient({
    region: 'us-east-1',
    endpoint: inject('sqsEndpoint'),
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
});

afterEach(async () => {
  await Promise.all(workers.splice(0).map((worker) => worker.stop()));
});

afterAll(() => {
  sqs.destroy();
});

async function freshQueues(maxReceiveCount = 5): Promise<QueuePair> {
  const name = `worker-${randomUUID().slice(0, 8)}`;
  return ensureQueueWithDlq(sqs, { queueName: name, dlqName: `${name}-dlq`, maxReceiveCount });
}

function worker(
  queueUrl: string,
  handler: SqsHandler,
  options: {
    retryDelaySeconds?: number;
    batchSize?: number;
    batchingWindowMs?: number;
    concurrency?: number;
  } = {},
): QueueWorker {
  const started = startQueueWorker({
    sqs,
    queueUrl,
    handler,
    functionName: 'test',
    concurrency: 2,
    logError: () => {},
    ...options,
  });
  workers.push(started);
  return started;
}

/** Sends in requests of 10, as SendMessageBatch allows. */
async function send(queueUrl: string, bodies: string[]): Promise<void> {
  for (let start = 0; start < bodies.length; start += 10) {
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: bodies.slice(start, start + 10).map((body, i) => ({ Id: `e${i}`, MessageBody: body })),
      }),
    );
  }
}

/** Waits until the worker has received `count` messages (they are in flight, not yet handled). */
async function inFlight(queueUrl: string, count: number): Promise<void> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ['ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    if (Attributes?.ApproximateNumberOfMessagesNotVisible === String(count)) return;
    if (Date.now() > deadline) throw new Error(`${count} messages not in flight after 5 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function bodies(count: number, prefix = 'm'): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}${i}`);
}

async function receiveAll(queueUrl: string): Promise<string[]> {
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
  );
  return Messages.map((message) => message.Body ?? '');
}

describe('the queue worker', () => {
  it('builds the SQS event Lambda builds', async () => {
    const queues = await freshQueues();
    const seen: SQSRecord[] = [];
    const started = worker(queues.queueUrl, (event: SQSEvent) => {
      seen.push(...event.Records);
    });
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queues.queueUrl,
        MessageBody: '{"hello":"world"}',
        MessageAttributes: {
          messageId: { DataType: 'String', StringValue: 'm-1' },
          blob: { DataType: 'Binary', BinaryValue: Buffer.from([1, 2, 3]) },
        },
      }),
    );
    await started.idle();

    expect(seen).toHaveLength(1);
    const [record] = seen;
    expect(record).toMatchObject({
      messageId: expect.any(String),
      receiptHandle: expect.any(String),
      body: '{"hello":"world"}',
      md5OfBody: expect.stringMatching(/^[0-9a-f]{32}$/),
      eventSource: 'aws:sqs',
      eventSourceARN: queues.queueArn,
      awsRegion: 'us-east-1',
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: expect.stringMatching(/^\d+$/),
        ApproximateFirstReceiveTimestamp: expect.stringMatching(/^\d+$/),
        SenderId: expect.any(String),
      },
      messageAttributes: {
        messageId: { stringValue: 'm-1', stringListValues: [], binaryListValues: [], dataType: 'String' },
        blob: { binaryValue: 'AQID', stringListValues: [], binaryListValues: [], dataType: 'Binary' },
      },
    });
    expect(started.counters()).toEqual({ received: 1, succeeded: 1, failed: 0, batches: 1 });
  });

  it('deletes the successes of a batch and delivers the reported failures again', async () => {
    const queues = await freshQueues();
    const deliveries: [string, string][] = [];
    const started = worker(queues.queueUrl, (event: SQSEvent): SQSBatchResponse => {
      const failures = event.Records.filter((record) => {
        deliveries.push([record.body, record.attributes.ApproximateReceiveCount]);
        return record.body === 'flaky' && record.attributes.ApproximateReceiveCount === '1';
      });
      return { batchItemFailures: failures.map((record) => ({ itemIdentifier: record.messageId })) };
    });
    await send(queues.queueUrl, ['a', 'flaky', 'b']);
    await started.idle();

    expect(deliveries.filter(([body]) => body === 'flaky')).toEqual([
      ['flaky', '1'],
      ['flaky', '2'],
    ]);
    expect(deliveries.filter(([body]) => body !== 'flaky').map(([, count]) => count)).toEqual(['1', '1']);
    expect(started.counters()).toMatchObject({ received: 4, succeeded: 3, failed: 1 });
    expect(await receiveAll(queues.dlqUrl)).toEqual([]);
  });

  it('moves a record that always fails to the DLQ after maxReceiveCount + 1 deliveries', async () => {
    const queues = await freshQueues(2);
    const counts: string[] = [];
    const started = worker(
      queues.queueUrl,
      (event: SQSEvent): SQSBatchResponse => ({
        batchItemFailures: event.Records.filter((record) => record.body === 'poison').map((record) => {
          counts.push(record.attributes.ApproximateReceiveCount);
          return { itemIdentifier: record.messageId };
        }),
      }),
      { retryDelaySeconds: 0 },
    );
    await send(queues.queueUrl, ['poison', 'fine']);
    await started.idle();

    expect(counts).toEqual(['1', '2', '3']);
    expect(await receiveAll(queues.dlqUrl)).toEqual(['poison']);
    expect(started.counters()).toMatchObject({ succeeded: 1, failed: 3 });
  });

  it('fails the whole batch when the handler throws or names a record not in the batch', async () => {
    for (const misbehave of [
      () => {
        throw new Error('crash');
      },
      () => ({ batchItemFailures: [{ itemIdentifier: 'not-in-this-batch' }] }),
    ]) {
      const queues = await freshQueues();
      // Sent before the worker starts, so that its first receive takes both as one batch.
      await send(queues.queueUrl, ['x', 'y']);
      let calls = 0;
      const started = worker(
        queues.queueUrl,
        (event: SQSEvent) => {
          calls++;
          if (calls === 1) {
            expect(event.Records).toHaveLength(2);
            return misbehave();
          }
          return { batchItemFailures: [] };
        },
        { retryDelaySeconds: 0 },
      );
      await started.idle();
      expect(started.counters()).toMatchObject({ received: 4, succeeded: 2, failed: 2 });
    }
  });

  it('gathers batches larger than one receive, up to batchSize', async () => {
    const queues = await freshQueues();
    // Queued before the worker starts, so that there is more than one receive's worth waiting.
    await send(queues.queueUrl, bodies(35));
    const sizes: number[] = [];
    const handled: string[] = [];
    const started = worker(
      queues.queueUrl,
      (event: SQSEvent) => {
        sizes.push(event.Records.length);
        handled.push(...event.Records.map((record) => record.body));
      },
      { batchSize: 20, batchingWindowMs: 500 },
    );
    await started.idle();

    expect(handled.sort()).toEqual(bodies(35).sort());
    expect(Math.max(...sizes)).toBeLessThanOrEqual(20);
    expect(Math.max(...sizes)).toBeGreaterThan(10);
    expect(started.counters()).toEqual({ received: 35, succeeded: 35, failed: 0, batches: sizes.length });
  });

  it('deletes the successes of a gathered batch and delivers its failures again, more than 10 of each', async () => {
    const queues = await freshQueues();
    const sent = [...bodies(13, 'ok'), ...bodies(12, 'flaky')];
    await send(queues.queueUrl, sent);
    const batches: { body: string; count: string }[][] = [];
    const started = worker(
      queues.queueUrl,
      (event: SQSEvent): SQSBatchResponse => {
        batches.push(
          event.Records.map((record) => ({
            body: record.body,
            count: record.attributes.ApproximateReceiveCount,
          })),
        );
        const failures = event.Records.filter(
          (record) => record.body.startsWith('flaky') && record.attributes.ApproximateReceiveCount === '1',
        );
        return { batchItemFailures: failures.map((record) => ({ itemIdentifier: record.messageId })) };
      },
      { batchSize: 30, batchingWindowMs: 500, concurrency: 1, retryDelaySeconds: 0 },
    );
    await started.idle();

    // One poller and everything queued up front: the first batch is all 25, the retries come after.
    expect(batches[0]).toHaveLength(25);
    const deliveries = batches.flat();
    for (const body of sent) {
      const counts = deliveries.filter((delivery) => delivery.body === body).map(({ count }) => count);
      expect(counts, body).toEqual(body.startsWith('flaky') ? ['1', '2'] : ['1']);
    }
    expect(started.counters()).toMatchObject({ received: 37, succeeded: 25, failed: 12 });
    expect(await receiveAll(queues.queueUrl)).toEqual([]);
    expect(await receiveAll(queues.dlqUrl)).toEqual([]);
  });

  it('hands over a batch that does not fill once the window has passed', async () => {
    const queues = await freshQueues();
    const windowMs = 300;
    const calls: { size: number; at: number }[] = [];
    const started = worker(
      queues.queueUrl,
      (event: SQSEvent) => {
        calls.push({ size: event.Records.length, at: Date.now() });
      },
      { batchSize: 100, batchingWindowMs: windowMs, concurrency: 1 },
    );
    // Let the poller's first long poll start, so that the three arrive while it waits.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const sentAt = Date.now();
    await send(queues.queueUrl, bodies(3));
    await started.idle({ timeoutMs: 5_000 });

    expect(calls.map(({ size }) => size)).toEqual([3]);
    const waited = (calls[0]?.at ?? Number.POSITIVE_INFINITY) - sentAt;
    // It waits out the window for more before handing the three over.
    expect(waited).toBeGreaterThanOrEqual(windowMs - 50);
  });

  it('stop() while a batch gathers hands nothing to the handler and makes the batch visible again', async () => {
    const queues = await freshQueues();
    let calls = 0;
    const started = worker(
      queues.queueUrl,
      () => {
        calls++;
      },
      // Longer than the test may take: stop() must not wait for it.
      { batchSize: 100, batchingWindowMs: 600_000, concurrency: 1 },
    );
    await send(queues.queueUrl, bodies(3));
    await inFlight(queues.queueUrl, 3);
    await started.stop();

    expect(calls).toBe(0);
    expect((await receiveAll(queues.queueUrl)).sort()).toEqual(bodies(3));
  });

  it('drain() hands over a gathering batch once the queue answers empty', async () => {
    const queues = await freshQueues();
    const handled: string[] = [];
    const started = worker(
      queues.queueUrl,
      (event: SQSEvent) => {
        handled.push(...event.Records.map((record) => record.body));
      },
      // Longer than the test may take: drain() must not wait for it.
      { batchSize: 100, batchingWindowMs: 600_000, concurrency: 1 },
    );
    await send(queues.queueUrl, bodies(3));
    await inFlight(queues.queueUrl, 3);
    await started.drain();

    expect(handled.sort()).toEqual(bodies(3));
  });

  it('drain() finishes the batch in flight and then stops receiving', async () => {
    const queues = await freshQueues();
    let entered = (): void => {};
    const inHandler = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const handled: string[] = [];
    const started = worker(queues.queueUrl, async (event: SQSEvent) => {
      entered();
      await new Promise((resolve) => setTimeout(resolve, 300));
      handled.push(...event.Records.map((record) => record.body));
    });
    await send(queues.queueUrl, ['slow']);
    await inHandler;
    await started.drain();

    expect(handled).toEqual(['slow']);
    await send(queues.queueUrl, ['after drain']);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(handled).toEqual(['slow']);
    expect(await receiveAll(queues.queueUrl)).toEqual(['after drain']);
  });

  it('stop() abandons a long poll at once', async () => {
    const queues = await freshQueues();
    const started = startQueueWorker({
      sqs,
      queueUrl: queues.queueUrl,
      handler: () => {},
      waitTimeSeconds: 20,
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await started.stop();
    await started.stop();
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queues.queueUrl, AttributeNames: ['All'] }),
    );
    expect(Attributes?.ApproximateNumberOfMessagesNotVisible).toBe('0');
  });
});
