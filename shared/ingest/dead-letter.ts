import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { sqsClient } from '../clients/sqs.ts';
import { runtimeConfig } from '../config.ts';
import type { IngestFailure } from './ingest-batch.ts';

export interface ReceivedRecord {
  id: string;
  body: string;
  receiveCount: number;
}

/**
 * Decides what happens to failed records: below the receive limit they are retried (returned); at
 * the limit they move to the dead-letter queue with the reason they failed, so that an operator
 * sees why without digging through logs. The queue's own redrive is only the backstop.
 */
export async function settleFailures(
  failures: readonly IngestFailure[],
  received: readonly ReceivedRecord[],
): Promise<string[]> {
  const byId = new Map(received.map((record) => [record.id, record]));
  const retry: string[] = [];
  for (const failure of failures) {
    const record = byId.get(failure.id);
    const receiveCount = record?.receiveCount ?? 1;
    console.warn(`ingest failed for message ${failure.id} (receive ${receiveCount}): ${failure.reason}`);
    if (!record || receiveCount < runtimeConfig().RAPPORT_MAX_RECEIVE_COUNT) {
      retry.push(failure.id);
      continue;
    }
    try {
      await sendToDeadLetter(record, failure.reason);
    } catch (error) {
      console.error(`could not dead-letter message ${failure.id}; leaving it to the queue's redrive`, error);
      retry.push(failure.id);
    }
  }
  return retry;
}

async function sendToDeadLetter(record: ReceivedRecord, reason: string): Promise<void> {
  const queueUrl = runtimeConfig().RAPPORT_INGEST_DLQ_URL;
  if (!queueUrl) throw new Error('RAPPORT_INGEST_DLQ_URL is not set');
  await sqsClient().send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: record.body,
      MessageAttributes: {
        failureReason: { DataType: 'String', StringValue: reason.slice(0, 4000) },
        receiveCount: { DataType: 'Number', StringValue: String(record.receiveCount) },
        originalMessageId: { DataType: 'String', StringValue: record.id },
      },
    }),
  );
}
