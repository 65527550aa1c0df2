import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { sqsClient } from '../clients/sqs.ts';
import { runtimeConfig } from '../config.ts';
import { ingestMessageBody, ingestMessageEvents } from '../ingest-queue.ts';
import type { IngestFailure } from './ingest-batch.ts';

export interface ReceivedRecord {
  id: string;
  body: string;
  receiveCount: number;
}

/**
 * Decides what happens to records with failures: below the receive limit they are retried (returned);
 * at the limit the events that failed move to the dead-letter queue with the reason, so that an
 * operator sees why without digging through logs, and can redrive them as they are. The events of the
 * record that succeeded are done and stay out of it. The queue's own redrive is only the backstop.
 */
export async function settleFailures(
  failures: readonly IngestFailure[],
  received: readonly ReceivedRecord[],
): Promise<string[]> {
  const byId = new Map(received.map((record) => [record.id, record]));
  const retry: string[] = [];
  for (const [id, recordFailures] of groupByRecord(failures)) {
    const record = byId.get(id);
    const receiveCount = record?.receiveCount ?? 1;
    const reason = [...new Set(recordFailures.map((failure) => failure.reason))].join('; ');
    console.warn(`ingest failed for message ${id} (receive ${receiveCount}): ${reason}`);
    if (!record || receiveCount < runtimeConfig().RAPPORT_MAX_RECEIVE_COUNT) {
      retry.push(id);
      continue;
    }
    try {
      await sendToDeadLetter(record, deadBody(record, recordFailures), reason);
    } catch (error) {
      console.error(`could not dead-letter message ${id}; leaving it to the queue's redrive`, error);
      retry.push(id);
    }
  }
  return retry;
}

function groupByRecord(failures: readonly IngestFailure[]): Map<string, IngestFailure[]> {
  const groups = new Map<string, IngestFailure[]>();
  for (const failure of failures) groups.set(failure.id, [...(groups.get(failure.id) ?? []), failure]);
  return groups;
}

/**
 * The record as it came when all of it failed; otherwise its failed events, as a message of their own
 * (the others are done, and a redrive must not bring them back).
 */
function deadBody(record: ReceivedRecord, failures: readonly IngestFailure[]): string {
  const events = failures.flatMap((failure) => (failure.event === undefined ? [] : [failure.event]));
  if (events.length < failures.length || events.length >= ingestMessageEvents(record.body).length) {
    return record.body;
  }
  return ingestMessageBody(events);
}

async function sendToDeadLetter(record: ReceivedRecord, body: string, reason: string): Promise<void> {
  const queueUrl = runtimeConfig().RAPPORT_INGEST_DLQ_URL;
  if (!queueUrl) throw new Error('RAPPORT_INGEST_DLQ_URL is not set');
  await sqsClient().send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: body,
      MessageAttributes: {
        failureReason: { DataType: 'String', StringValue: reason.slice(0, 4000) },
        receiveCount: { DataType: 'Number', StringValue: String(record.receiveCount) },
        originalMessageId: { DataType: 'String', StringValue: record.id },
      },
    }),
  );
}
