import { setTimeout as sleep } from 'node:timers/promises';
import { SendMessageBatchCommand, type SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import { sqsClient } from './clients/sqs.ts';

/**
 * Sending to an SQS queue in batches: as many messages per call as SQS takes, each retried until SQS
 * lists it as taken, or refused as the sender's fault. The ingest and send queues both go through here.
 */
export interface QueueMessage {
  body: string;
  /** An id carried as the `messageId` attribute, for tracing a message across queues. */
  messageId: string;
  /** More attributes, by name: numbers as SQS Number attributes, text as String ones. */
  attributes?: Record<string, string | number>;
}

export interface EnqueueOptions {
  /** Tries per entry, the first included. */
  attempts?: number;
  /** Wait before the first retry; it doubles for each further one. */
  backoffMillis?: number;
}

/** SQS's limits on one SendMessageBatch call. */
const maxEntriesPerBatch = 10;
const maxBatchBytes = 256 * 1024;

interface Entry {
  entry: SendMessageBatchRequestEntry;
  bytes: number;
}

/**
 * SQS refuses a message holding U+FFFE or U+FFFF, which JSON.stringify leaves as they are. They can only
 * occur inside JSON strings, where the escaped form means the same.
 */
export function queueBody(value: unknown): string {
  return JSON.stringify(value).replace(/[\uFFFE\uFFFF]/g, (char) => `\\u${char.charCodeAt(0).toString(16)}`);
}

function toEntry(message: QueueMessage, index: number): Entry {
  const attributes = Object.entries({ messageId: message.messageId, ...message.attributes }).map(
    ([name, value]) =>
      [
        name,
        { DataType: typeof value === 'number' ? 'Number' : 'String', StringValue: String(value) },
      ] as const,
  );
  return {
    entry: {
      Id: String(index),
      MessageBody: message.body,
      MessageAttributes: Object.fromEntries(attributes),
    },
    // SQS counts the body and each attribute's name, type and value.
    bytes:
      Buffer.byteLength(message.body) +
      attributes.reduce(
        (sum, [name, value]) =>
          sum + name.length + value.DataType.length + Buffer.byteLength(value.StringValue),
        0,
      ),
  };
}

/** Batches within both the entry count and the payload size that SQS accepts in one call. */
export function sqsBatches(messages: readonly QueueMessage[]): SendMessageBatchRequestEntry[][] {
  const batches: Entry[][] = [];
  let current: Entry[] = [];
  let currentBytes = 0;
  messages.forEach((message, index) => {
    const entry = toEntry(message, index);
    if (
      current.length === maxEntriesPerBatch ||
      (current.length > 0 && currentBytes + entry.bytes > maxBatchBytes)
    ) {
      batches.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(entry);
    currentBytes += entry.bytes;
  });
  if (current.length > 0) batches.push(current);
  return batches.map((batch) => batch.map(({ entry }) => entry));
}

/** Sends every message, all batches in parallel. Returns how many were not sent. */
export async function sendToQueue(
  queueUrl: string,
  messages: readonly QueueMessage[],
  options: EnqueueOptions = {},
): Promise<number> {
  const attempts = options.attempts ?? 4;
  const backoffMillis = options.backoffMillis ?? 50;
  const unsent = await Promise.all(
    sqsBatches(messages).map((batch) => sendBatch(queueUrl, batch, attempts, backoffMillis)),
  );
  return unsent.reduce((sum, count) => sum + count, 0);
}

/**
 * Send one batch, retrying the entries SQS did not take. An entry counts as sent only when SQS lists it
 * as successful; one refused as the sender's fault would fail the same way again and is not retried.
 * Returns how many entries were not sent.
 */
async function sendBatch(
  queueUrl: string,
  entries: SendMessageBatchRequestEntry[],
  attempts: number,
  backoffMillis: number,
): Promise<number> {
  let pending = entries;
  let refused = 0;
  for (let attempt = 1; ; attempt += 1) {
    const failures = await trySend(queueUrl, pending);
    const retryable = pending.filter((entry) => failures.get(entry.Id ?? '') === 'retry');
    refused += pending.filter((entry) => failures.get(entry.Id ?? '') === 'refused').length;
    if (retryable.length === 0 || attempt >= attempts) {
      if (retryable.length + refused > 0) {
        console.error('queue: entries not sent', {
          retryable: retryable.length,
          refused,
          attempts: attempt,
        });
      }
      return retryable.length + refused;
    }
    await sleep(backoffMillis * 2 ** (attempt - 1));
    pending = retryable;
  }
}

type Failure = 'retry' | 'refused';

async function trySend(
  queueUrl: string,
  entries: SendMessageBatchRequestEntry[],
): Promise<Map<string, Failure>> {
  const failures = new Map<string, Failure>(entries.map((entry) => [entry.Id ?? '', 'retry']));
  try {
    const result = await sqsClient().send(
      new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }),
    );
    for (const success of result.Successful ?? []) failures.delete(success.Id ?? '');
    for (const failure of result.Failed ?? []) {
      if (failure.SenderFault && failures.has(failure.Id ?? '')) {
        console.error('queue: entry refused', { code: failure.Code, message: failure.Message });
        failures.set(failure.Id ?? '', 'refused');
      }
    }
  } catch (error) {
    // The SDK has already retried what it considers transient; one more round here costs little.
    console.error('queue: SendMessageBatch failed', error);
  }
  return failures;
}
