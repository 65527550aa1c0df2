import type { IngestEvent } from '#events/ingest-event.ts';
import { runtimeConfig } from './config.ts';
import { ServiceUnavailableError } from './http.ts';
import { type EnqueueOptions, type QueueMessage, queueBody, sendToQueue } from './queue.ts';

/**
 * The ingest queue, seen from the producer. A client is told its events are taken only once SQS has
 * confirmed every one of them; otherwise it gets a 503 and retries the whole request, which is safe
 * because ingest deduplicates on the messageId.
 */

/** The queue messages that carry the events. */
export function ingestMessages(events: readonly IngestEvent[]): QueueMessage[] {
  return events.map((event) => ({ body: queueBody(event), messageId: event.messageId }));
}

/** Put events on the ingest queue, all batches in parallel; 503 unless every event is there. */
export async function enqueueEvents(
  events: readonly IngestEvent[],
  options: EnqueueOptions = {},
): Promise<void> {
  const queueUrl = runtimeConfig().RAPPORT_INGEST_QUEUE_URL;
  if (queueUrl === undefined) throw new Error('RAPPORT_INGEST_QUEUE_URL is not set for this function');
  const total = await sendToQueue(queueUrl, ingestMessages(events), options);
  if (total > 0) throw new ServiceUnavailableError(`could not queue ${total} events; retry the request`);
}
