import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSEvent, SQSMessageAttributes, SQSRecord, SQSRecordAttributes } from 'aws-lambda';
import { describeError, withHandlerTimeout } from './handler-timeout.ts';
import { lambdaContext } from './lambda-context.ts';
import { queueArn, queueCounts } from './resources.ts';

/**
 * The local stand-in for a Lambda SQS event source mapping with ReportBatchItemFailures: it polls a
 * queue, hands batches to the handler as SQSEvents, deletes what succeeded and lets the reported
 * failures come back. Unlike Lambda it makes them visible again after a short delay rather than the
 * queue's visibility timeout, so that local retries take a second, not half a minute.
 *
 * Like Lambda it gathers a batch from several ReceiveMessage calls (at most 10 messages each): once the
 * first message has arrived it keeps receiving until it holds batchSize messages or the batching window
 * has passed, and then invokes the handler once. With a window of 0 a batch is one receive, at most 10.
 */
export type SqsHandler = (event: SQSEvent, context: Context) => unknown;

export interface QueueWorkerOptions {
  sqs: SQSClient;
  queueUrl: string;
  handler: SqsHandler;
  /** Names the function in the Lambda context and in logs. */
  functionName?: string;
  /** Parallel pollers, each gathering and running one batch at a time. */
  concurrency?: number;
  /** Most records in one invocation, as the event source mapping's BatchSize; default 10. */
  batchSize?: number;
  /**
   * How long a batch that is not full yet keeps gathering after its first message arrived, as the
   * mapping's MaximumBatchingWindowInSeconds; default 200 ms, shorter than on AWS so that local runs
   * stay quick.
   */
  batchingWindowMs?: number;
  /** Long poll of the receive that waits for a batch's first message; default 1 s. */
  waitTimeSeconds?: number;
  /** How long a failed record stays invisible before its next delivery. */
  retryDelaySeconds?: number;
  /** A batch that takes longer fails as a whole, as a Lambda timeout does. */
  timeoutMs?: number;
  region?: string;
  logError?: (line: string) => void;
}

export interface QueueWorkerCounters {
  /** Records handed to the handler, counting each delivery. */
  received: number;
  succeeded: number;
  failed: number;
  batches: number;
}

export interface QueueWorker {
  readonly queueUrl: string;
  counters(): QueueWorkerCounters;
  /**
   * Resolves once the queue holds nothing visible, in flight or delayed and no batch is running:
   * everything sent so far has succeeded or reached the DLQ.
   */
  idle(options?: { timeoutMs?: number }): Promise<void>;
  /** Stops receiving once the queue answers empty, and waits for the batches in flight. */
  drain(): Promise<void>;
  /** Stops receiving at once and waits for the batches in flight. Idempotent. */
  stop(): Promise<void>;
}

type State = 'running' | 'draining' | 'stopped';

/** SQS caps ReceiveMessage, DeleteMessageBatch and ChangeMessageVisibilityBatch at 10 messages. */
const maxPerReceive = 10;
const maxPerRequest = 10;
/** Receives running at once for one batch: enough to fill a batch of 100 in one round. */
const maxParallelReceives = 10;
/** Pause between short polls that found nothing while a batch waits out its window. */
const shortPollIntervalMs = 25;

/** The MaxNumberOfMessages of the receives that ask for `wanted` more messages at once. */
function receiveSizes(wanted: number): number[] {
  const sizes: number[] = [];
  for (let rest = wanted; rest > 0 && sizes.length < maxParallelReceives; rest -= maxPerReceive) {
    sizes.push(Math.min(maxPerReceive, rest));
  }
  return sizes;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let i = 0; i < items.length; i += size) result.push(items.slice(i, i + size));
  return result;
}

export function startQueueWorker(options: QueueWorkerOptions): QueueWorker {
  const { sqs, queueUrl } = options;
  const functionName = options.functionName ?? 'worker';
  const region = options.region ?? 'us-east-1';
  const logError = options.logError ?? ((line: string) => console.error(line));
  const timeoutMs = options.timeoutMs ?? 60_000;
  const batchSize = Math.max(1, Math.floor(options.batchSize ?? 10));
  const batchingWindowMs = Math.max(0, options.batchingWindowMs ?? 200);
  const waitTimeSeconds = options.waitTimeSeconds ?? 1;
  const counters: QueueWorkerCounters = { received: 0, succeeded: 0, failed: 0, batches: 0 };
  const receives = new Set<AbortController>();
  let state: State = 'running';
  let running = 0;
  let sourceArn: Promise<string> | undefined;
  // Read through a function: stop() changes the state while a receive is awaited.
  const isStopped = (): boolean => state === 'stopped';

  async function poll(): Promise<void> {
    while (state !== 'stopped') {
      let first: Message[];
      try {
        first = await receive(Math.min(maxPerReceive, batchSize), waitTimeSeconds);
      } catch (error) {
        if (isStopped()) return;
        logError(`${functionName}: receive from ${queueUrl} failed: ${describeError(error)}`);
        // A drain ends at the first empty answer; a queue that cannot answer counts as one.
        if (state === 'draining') return;
        await delay(1_000);
        continue;
      }
      if (first.length === 0) {
        if (state === 'draining') return;
        continue;
      }
      // Counted before any await, so that idle() never sees an empty queue and no running batch.
      running++;
      try {
        const batch = await gather(first);
        if (isStopped()) await release(batch);
        else await handleBatch(batch);
      } finally {
        running--;
      }
    }
  }

  /**
   * Adds to a batch until it holds batchSize messages or the window since its first message has passed.
   * It ends early when the worker stops (the caller then releases the batch), when the queue answers
   * empty during a drain, or when a receive fails (what was gathered is handled rather than held).
   */
  async function gather(batch: Message[]): Promise<Message[]> {
    const deadline = Date.now() + batchingWindowMs;
    while (batch.length < batchSize && !isStopped()) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      // Short polls, unlike the long poll that waits for the first message: stop() abandons receives, and
      // a long poll abandoned by the client lives on in the queue and takes messages that then stay
      // invisible for the visibility timeout, including the ones this batch gives back on stopping.
      const sizes = receiveSizes(batchSize - batch.length);
      const answers = await Promise.allSettled(sizes.map((size) => receive(size, 0)));
      let received = 0;
      let failure: unknown;
      for (const answer of answers) {
        if (answer.status === 'fulfilled') {
          batch.push(...answer.value);
          received += answer.value.length;
        } else {
          failure ??= answer.reason;
        }
      }
      if (failure !== undefined) {
        if (!isStopped()) {
          logError(
            `${functionName}: receive from ${queueUrl} failed; handing over the ${batch.length} gathered: ${describeError(failure)}`,
          );
        }
        break;
      }
      if (received === 0) {
        if (state === 'draining') break;
        await delay(Math.min(shortPollIntervalMs, Math.max(0, deadline - Date.now())));
      }
    }
    return batch;
  }

  /** One ReceiveMessage that stop() can abandon. */
  async function receive(maxMessages: number, waitSeconds: number): Promise<Message[]> {
    const abort = new AbortController();
    receives.add(abort);
    try {
      const received = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: maxMessages,
          WaitTimeSeconds: waitSeconds,
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
        { abortSignal: abort.signal },
      );
      return received.Messages ?? [];
    } finally {
      receives.delete(abort);
    }
  }

  async function handleBatch(messages: Message[]): Promise<void> {
    sourceArn ??= queueArn(sqs, queueUrl).catch(() => `arn:aws:sqs:${region}:000000000000:local`);
    const arn = await sourceArn;
    const event: SQSEvent = { Records: messages.map((message) => toRecord(message, region, arn)) };
    counters.batches++;
    counters.received += event.Records.length;

    const failed = await invoke(event);
    const succeeded = event.Records.filter((record) => !failed.has(record.messageId));
    const retried = event.Records.filter((record) => failed.has(record.messageId));
    await Promise.all([
      remove(succeeded),
      retryLater(
        retried.map((record) => record.receiptHandle),
        options.retryDelaySeconds ?? 1,
      ),
    ]);
    counters.succeeded += succeeded.length;
    counters.failed += retried.length;
  }

  /** The message ids that failed. A throw, a timeout or a malformed response fails the whole batch. */
  async function invoke(event: SQSEvent): Promise<Set<string>> {
    const all = new Set(event.Records.map((record) => record.messageId));
    let response: unknown;
    try {
      const context = lambdaContext(functionName, timeoutMs, region);
      response = await withHandlerTimeout(Promise.resolve(options.handler(event, context)), timeoutMs);
    } catch (error) {
      logError(`${functionName}: batch of ${all.size} failed: ${describeError(error)}`);
      return all;
    }
    const reported = batchItemFailures(response);
    if (reported === undefined) return new Set();
    if (reported === 'malformed' || reported.some((id) => !all.has(id))) {
      logError(`${functionName}: batchItemFailures names a record not in the batch; failing the whole batch`);
      return all;
    }
    return new Set(reported);
  }

  /** Deletes handled records, 10 to a request as DeleteMessageBatch allows. */
  async function remove(records: SQSRecord[]): Promise<void> {
    await Promise.all(
      chunks(records, maxPerRequest).map(async (chunk) => {
        try {
          const result = await sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: queueUrl,
              Entries: chunk.map((record, i) => ({ Id: `m${i}`, ReceiptHandle: record.receiptHandle })),
            }),
          );
          for (const failure of result.Failed ?? []) {
            logError(
              `${functionName}: could not delete a handled message (${failure.Code}); it will come back`,
            );
          }
        } catch (error) {
          logError(
            `${functionName}: could not delete handled messages; they will come back: ${describeError(error)}`,
          );
        }
      }),
    );
  }

  /** Makes records visible again after delaySeconds, 10 to a request as ChangeMessageVisibilityBatch allows. */
  async function retryLater(receiptHandles: string[], delaySeconds: number): Promise<void> {
    await Promise.all(
      chunks(receiptHandles, maxPerRequest).map(async (chunk) => {
        try {
          const result = await sqs.send(
            new ChangeMessageVisibilityBatchCommand({
              QueueUrl: queueUrl,
              Entries: chunk.map((receiptHandle, i) => ({
                Id: `m${i}`,
                ReceiptHandle: receiptHandle,
                VisibilityTimeout: delaySeconds,
              })),
            }),
          );
          for (const failure of result.Failed ?? []) {
            logError(`${functionName}: could not shorten a retry delay (${failure.Code})`);
          }
        } catch (error) {
          // The records still come back, only after the queue's own visibility timeout.
          logError(`${functionName}: could not shorten the retry delay: ${describeError(error)}`);
        }
      }),
    );
  }

  /** Messages received while stopping go back at once rather than after the visibility timeout. */
  async function release(messages: Message[]): Promise<void> {
    await retryLater(
      messages.map((message) => message.ReceiptHandle ?? ''),
      0,
    );
  }

  const pollers = Array.from({ length: Math.max(1, options.concurrency ?? 4) }, () => poll());
  const finished = Promise.all(pollers).then(() => {});
  let stopping: Promise<void> | undefined;

  return {
    queueUrl,
    counters: () => ({ ...counters }),
    async idle({ timeoutMs: limit = 30_000 } = {}) {
      const deadline = Date.now() + limit;
      let last = '';
      for (;;) {
        if (running === 0) {
          const { visible, inFlight, delayed } = await queueCounts(sqs, queueUrl);
          if (visible === 0 && inFlight === 0 && delayed === 0 && running === 0) return;
          last = `visible ${visible}, in flight ${inFlight}, delayed ${delayed}`;
        }
        if (Date.now() > deadline) {
          throw new Error(`${queueUrl} not idle after ${limit} ms (${last || `${running} batches running`})`);
        }
        await delay(50);
      }
    },
    async drain() {
      if (state === 'running') state = 'draining';
      await finished;
    },
    stop() {
      stopping ??= (async () => {
        state = 'stopped';
        for (const abort of receives) abort.abort();
        await finished;
      })();
      return stopping;
    },
  };
}

/** The record Lambda builds from a received message. */
function toRecord(message: Message, region: string, eventSourceARN: string): SQSRecord {
  const attributes = message.Attributes ?? {};
  const recordAttributes: SQSRecordAttributes = {
    ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
    SentTimestamp: attributes.SentTimestamp ?? '',
    SenderId: attributes.SenderId ?? '',
    ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? '',
  };
  for (const name of [
    'AWSTraceHeader',
    'SequenceNumber',
    'MessageGroupId',
    'MessageDeduplicationId',
  ] as const) {
    const value = attributes[name];
    if (value !== undefined) recordAttributes[name] = value;
  }
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: recordAttributes,
    messageAttributes: toLambdaAttributes(message.MessageAttributes ?? {}),
    md5OfBody: message.MD5OfBody ?? '',
    ...(message.MD5OfMessageAttributes ? { md5OfMessageAttributes: message.MD5OfMessageAttributes } : {}),
    eventSource: 'aws:sqs',
    eventSourceARN,
    awsRegion: region,
  };
}

/** Lambda's camel-cased attribute shape, with binary values in base64. */
function toLambdaAttributes(attributes: Record<string, MessageAttributeValue>): SQSMessageAttributes {
  const converted: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(attributes)) {
    converted[name] = {
      ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined
        ? { binaryValue: Buffer.from(value.BinaryValue).toString('base64') }
        : {}),
      stringListValues: value.StringListValues ?? [],
      binaryListValues: (value.BinaryListValues ?? []).map((item) => Buffer.from(item).toString('base64')),
      dataType: value.DataType ?? 'String',
    };
  }
  return converted;
}

/** The reported failures; undefined when the handler reported none. */
function batchItemFailures(response: unknown): string[] | 'malformed' | undefined {
  if (typeof response !== 'object' || response === null || !('batchItemFailures' in response))
    return undefined;
  const failures = response.batchItemFailures;
  if (failures === null || failures === undefined) return undefined;
  if (!Array.isArray(failures)) return 'malformed';
  const ids: string[] = [];
  for (const failure of failures) {
    const id: unknown =
      typeof failure === 'object' && failure !== null && 'itemIdentifier' in failure
        ? failure.itemIdentifier
        : undefined;
    if (typeof id !== 'string' || id === '') return 'malformed';
    ids.push(id);
  }
  return ids;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
