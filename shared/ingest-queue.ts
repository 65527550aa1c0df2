import type { IngestEvent } from '#events/ingest-event.ts';
import { runtimeConfig } from './config.ts';
import { ServiceUnavailableError } from './http.ts';
import { type EnqueueOptions, type QueueMessage, queueBody, sendToQueue } from './queue.ts';

/**
 * The ingest queue, seen from the producer. A client is told its events are taken only once SQS has
 * confirmed every one of them; otherwise it gets a 503 and retries the whole request, which is safe
 * because ingest deduplicates on the messageId.
 *
 * A message carries as many of a request's events as fit in one SQS message, as `{"events": [...]}`:
 * a batch of 100 events is one or two messages, not a hundred, which is what lets the consumer take
 * thousands of events in one invocation and fold each customer's events of a batch in one write.
 */

/** SQS's limit on one message, body and attributes. */
const maxMessageBytes = 256 * 1024;
/** Room left for the message's attributes. */
const attributeAllowance = 1024;
const packOpening = '{"events":[';
const packClosing = ']}';

/**
 * The queue messages that carry the events, in their order, each as full as SQS allows. A message's
 * `messageId` attribute is its first event's, and its `events` attribute says how many it carries.
 */
export function ingestMessages(events: readonly IngestEvent[]): QueueMessage[] {
  const budget = maxMessageBytes - attributeAllowance - packOpening.length - packClosing.length;
  const messages: QueueMessage[] = [];
  let bodies: string[] = [];
  let bytes = 0;
  let first = '';
  const close = () => {
    if (bodies.length > 0) {
      messages.push({ body: packBody(bodies), messageId: first, attributes: { events: bodies.length } });
    }
    bodies = [];
    bytes = 0;
  };
  for (const event of events) {
    const body = queueBody(event);
    const size = Buffer.byteLength(body) + 1;
    if (bodies.length > 0 && bytes + size > budget) close();
    if (bodies.length === 0) first = event.messageId;
    bodies.push(body);
    bytes += size;
  }
  close();
  return messages;
}

function packBody(eventBodies: readonly string[]): string {
  return `${packOpening}${eventBodies.join(',')}${packClosing}`;
}

/** The body of a message holding these events (the dead-letter queue gets the ones that failed). */
export function ingestMessageBody(events: readonly unknown[]): string {
  return packBody(events.map((event) => queueBody(event)));
}

/**
 * The events of a message body, not yet checked. A body that is one bare event, as a message sent by
 * hand may be, is read as a message of one. Throws a SyntaxError when the body is not JSON.
 */
export function ingestMessageEvents(body: string): unknown[] {
  const parsed: unknown = JSON.parse(body);
  if (typeof parsed === 'object' && parsed !== null && 'events' in parsed && Array.isArray(parsed.events)) {
    return parsed.events;
  }
  return [parsed];
}

/** Put events on the ingest queue, all batches in parallel; 503 unless every event is there. */
export async function enqueueEvents(
  events: readonly IngestEvent[],
  options: EnqueueOptions = {},
): Promise<void> {
  const queueUrl = runtimeConfig().RAPPORT_INGEST_QUEUE_URL;
  if (queueUrl === undefined) throw new Error('RAPPORT_INGEST_QUEUE_URL is not set for this function');
  const unsent = await sendToQueue(queueUrl, ingestMessages(events), options);
  if (unsent > 0) throw new ServiceUnavailableError('could not queue every event; retry the request');
}
