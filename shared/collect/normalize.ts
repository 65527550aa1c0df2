import type { IngestEvent } from '#events/ingest-event.ts';
import { isJsonObject, type SegmentEvent } from '#events/segment.ts';
import { deriveMessageId } from './message-id.ts';
import { correctedEventTime, formatInstant, parseInstant } from './time.ts';

/**
 * IngestEvent has no field for a group call's groupId yet. It travels on the queue beside the declared
 * fields, so that nothing a client sent is lost once the schema carries it.
 */
export type CollectedEvent = IngestEvent & { groupId?: string };

export interface Receipt {
  /** When this endpoint received the request: the clock that skew correction trusts. */
  receivedAtMillis: number;
  /** The write key's source. */
  source: string;
}

export type Normalized =
  | { normalized: true; event: CollectedEvent }
  | { normalized: false; errors: string[] };

/**
 * `own` laid over `base` at every depth of nested objects: the event's own values win, the batch's
 * fill the gaps. Arrays and other values are replaced whole. Built with fromEntries rather than by
 * assignment, so that a `__proto__` key in the request stays a plain key.
 */
export function mergeUnder(base: unknown, own: unknown): unknown {
  if (own === undefined) return base;
  if (!isJsonObject(base) || !isJsonObject(own)) return own;
  const keys = new Set([...Object.keys(base), ...Object.keys(own)]);
  return Object.fromEntries([...keys].map((key) => [key, mergeUnder(base[key], own[key])]));
}

function typeFields(event: SegmentEvent): Partial<CollectedEvent> {
  switch (event.type) {
    case 'track':
      return { event: event.event };
    case 'page':
    case 'screen':
      return { name: event.name };
    case 'group':
      return { groupId: event.groupId };
    case 'alias':
      return { previousId: event.previousId };
    case 'identify':
      return {};
  }
}

/**
 * The queued form of a valid event:
 * 1. the event time on the server's clock (Segment's skew correction, with the batch's sentAt when
 *    the event has none of its own);
 * 2. the client's messageId, or one derived from the content;
 * 3. receivedAt and the write key's source.
 */
/** How far ahead of the receive time an event may be stamped; further is a client clock to fix. */
export const maxFutureMillis = 24 * 60 * 60 * 1000;

/**
 * `position` is the event's place in its request: two identical events of one request that carry
 * neither a messageId nor a timestamp are two events (two views of one product), while a retry of
 * the whole request still derives the same ids.
 */
export function toIngestEvent(
  event: SegmentEvent,
  receipt: Receipt,
  batchSentAt?: string,
  position = 0,
): Normalized {
  const clientTime = event.timestamp ?? event.originalTimestamp;
  const sentAt = event.sentAt ?? batchSentAt;
  const eventTime = correctedEventTime(
    clientTime === undefined ? undefined : parseInstant(clientTime),
    sentAt === undefined ? undefined : parseInstant(sentAt),
    receipt.receivedAtMillis,
  );
  const timestamp = formatInstant(eventTime);
  const receivedAt = formatInstant(receipt.receivedAtMillis);
  if (timestamp === undefined || receivedAt === undefined) {
    return {
      normalized: false,
      errors: [
        'timestamp: corrected for clock skew by sentAt it falls outside the years 0000-9999; check sentAt',
      ],
    };
  }
  if (eventTime > receipt.receivedAtMillis + maxFutureMillis) {
    return {
      normalized: false,
      errors: [
        `timestamp: ${timestamp} is more than a day after the request arrived (${receivedAt}): check the client's clock, or send sentAt so that rapport can correct it`,
      ],
    };
  }
  const anchored = clientTime === undefined ? { ...event, position } : event;
  return {
    normalized: true,
    event: {
      messageId: event.messageId ?? deriveMessageId(anchored),
      type: event.type,
      userId: event.userId,
      anonymousId: event.anonymousId,
      ...typeFields(event),
      properties: event.properties,
      traits: event.traits,
      context: event.context,
      timestamp,
      receivedAt,
      source: receipt.source,
    },
  };
}
