import { setTimeout as sleep } from 'node:timers/promises';
import { SendMessageBatchCommand, type SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import type { IngestEvent } from '#events/ingest-event.ts';
import { sqsClient } from './clients/sqs.ts';
import { runtimeConfig } from './config.ts';
import { ServiceUnavailableError } from './http.ts';

/**
 * The ingest queue, seen from the producer. A client is told its events are taken only once SQS has
 * confirmed every one of them; otherwise it gets a 503 and retries the whole request, which is safe
 * because ingest deduplicates on the messageId.
 */

/** SQS's limits on one SendMessageBatch call. */
const maxEntriesPerBatch = 10;
const maxBatchBytes = 256 * 1024;

export interface EnqueueOptions {
  /** Tries per entry, the first included. */
  attempts?: number;
  /** Wait before the first retry; it doubles for each further one. */
  backoffMillis?: number;
}

interface Entry {
  entry: SendMessageBatchRequestEntry;
  bytes: number;
}

/**
 * SQS refuses a message holding U+FFFE or U+FFFF, which JSON.stringify leaves as they are. They can only
 * occur inside JSON strings, where the escaped form means the same.
 */
function messageBody(event: IngestEvent): string {
  return JSON.stringify(event).replace(/[\uFFFE\uFFFF]/g, (char) => `\\u${char.charCodeAt(0).toString(16)}`);
}

function toEntry(event: IngestEvent, index: number): Entry {
  const body = messageBody(event);
  const attributeName = 'messageId';
  return {
    entry: {
      Id: String(index),
      MessageBody: body,
      MessageAttributes: { [attributeName]: { DataType: 'String', StringValue: event.messageId } },
    },
    // SQS counts the body and each attribute's name, type and value.
    bytes:
      Buffer.byteLength(body) + attributeName.length + 'String'.length + Buffer.byteLength(event.messageId),
  };
}

/** Batches within both the entry count and the payload size that SQS accepts in one call. */
export function sqsBatches(events: readonly IngestEvent[]): SendMessageBatchRequestEntry[][] {
  const batches: Entry[][] = [];
  let current: Entry[] = [];
  let currentBytes = 0;
  events.forEach((event, index) => {
    const entry = toEntry(event, index);
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
        console.error('ingest queue: entries not sent', {
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
        console.error('ingest queue: entry refused', { code: failure.Code, message: failure.Message });
        failures.set(failure.Id ?? '', 'refused');
      }
    }
  } catch (error) {
    // The SDK has already retried what it considers transient; one more round here costs little.
    console.error('ingest queue: SendMessageBatch failed', error);
  }
  return failures;
}

/** Put events on the ingest queue, all batches in parallel; 503 unless every event is there. */
export async function enqueueEvents(
  events: readonly IngestEvent[],
  options: EnqueueOptions = {},
): Promise<void> {
  const queueUrl = runtimeConfig().RAPPORT_INGEST_QUEUE_URL;
  if (queueUrl === undefined) throw new Error('RAPPORT_INGEST_QUEUE_URL is not set for this function');
  const attempts = options.attempts ?? 4;
  const backoffMillis = options.backoffMillis ?? 50;
  const unsent = await Promise.all(
    sqsBatches(events).map((batch) => sendBatch(queueUrl, batch, attempts, backoffMillis)),
  );
  const total = unsent.reduce((sum, count) => sum + count, 0);
  if (total > 0) throw new ServiceUnavailableError(`could not queue ${total} events; retry the request`);
}
