import { isJsonObject } from '#events/segment.ts';
import { BadRequestError, type HttpError, PayloadTooLargeError } from '#shared/http.ts';
import { eventBytes, eventTooLargeMessage, maxEventBytes } from './limits.ts';
import { type CollectedEvent, mergeUnder, type Receipt, toIngestEvent } from './normalize.ts';
import type { Envelope } from './request.ts';
import { maxNesting, nestsDeeperThan } from './storable.ts';
import { validateEvent } from './validate.ts';

/** A refused event: its place in the request, its messageId when it had a usable one, and every reason. */
export interface Rejection {
  index: number;
  messageId?: string;
  errors: string[];
}

export interface Triage {
  accepted: CollectedEvent[];
  rejected: Rejection[];
  /** How many of the rejected were refused for their size alone. */
  oversized: number;
}

type Screened = { accepted: CollectedEvent } | { errors: string[]; oversized?: true };

/**
 * Sort the events of a request into accepted and rejected. A bad event never costs the good ones: each
 * is judged on its own, and the reasons name the field.
 */
export function triageEvents(envelope: Envelope, receipt: Receipt): Triage {
  const triage: Triage = { accepted: [], rejected: [], oversized: 0 };
  envelope.events.forEach((raw, index) => {
    const screened = screenEvent(raw, index, envelope, receipt);
    if ('accepted' in screened) {
      triage.accepted.push(screened.accepted);
      return;
    }
    triage.rejected.push({ index, ...echoedMessageId(raw), errors: screened.errors });
    if (screened.oversized) triage.oversized += 1;
  });
  return triage;
}

/**
 * One event:
 * 1. the type the path names, on a single-event route;
 * 2. the batch's context and integrations under the event's own;
 * 3. the size limit, before spending any time on a large event;
 * 4. the schema of its type;
 * 5. the queued form, with the corrected time and a messageId.
 */
function screenEvent(raw: unknown, index: number, envelope: Envelope, receipt: Receipt): Screened {
  if (!isJsonObject(raw)) return { errors: ['expected an event object'] };
  if (nestsDeeperThan(raw, maxNesting) || nestsDeeperThan(envelope.context, maxNesting)) {
    return { errors: [`nested more than ${maxNesting} levels deep: flatten it`] };
  }
  if (
    envelope.route !== 'batch' &&
    raw.type !== undefined &&
    raw.type !== null &&
    raw.type !== envelope.route
  ) {
    return {
      errors: [
        `type: expected "${envelope.route}" on /v1/${envelope.route}, got ${typeof raw.type === 'string' ? JSON.stringify(raw.type.slice(0, 40)) : `a ${typeof raw.type}`}`,
      ],
    };
  }
  const event: Record<string, unknown> = {
    ...raw,
    ...(envelope.route === 'batch' ? {} : { type: envelope.route }),
    ...withBatchDefaults(raw, envelope),
  };
  const bytes = eventBytes(event);
  if (bytes > maxEventBytes) return { errors: [eventTooLargeMessage(bytes)], oversized: true };
  const validation = validateEvent(event);
  if (!validation.valid) return { errors: validation.errors };
  const normalized = toIngestEvent(validation.event, receipt, envelope.sentAt, index);
  return normalized.normalized ? { accepted: normalized.event } : { errors: normalized.errors };
}

function withBatchDefaults(raw: Record<string, unknown>, envelope: Envelope): Record<string, unknown> {
  const defaults: Record<string, unknown> = {};
  if (envelope.context !== undefined) {
    defaults.context = mergeUnder(envelope.context, raw.context ?? undefined);
  }
  if (envelope.integrations !== undefined) {
    defaults.integrations = mergeUnder(envelope.integrations, raw.integrations ?? undefined);
  }
  return defaults;
}

/** The client's messageId, so that it can match the rejection to its event; only when it could be one. */
function echoedMessageId(raw: unknown): { messageId?: string } {
  if (!isJsonObject(raw)) return {};
  const messageId = typeof raw.messageId === 'number' ? String(raw.messageId) : raw.messageId;
  return typeof messageId === 'string' && messageId.length > 0 && messageId.length <= 200
    ? { messageId }
    : {};
}

const listedErrors = 5;

/** `properties.revenue: ...` or `userId or anonymousId: ...`, as opposed to a reason about the whole event. */
const startsWithField = /^[^\s:;]+(?: or [^\s:;]+)?:/;

function inBatch(index: number, error: string): string {
  return startsWithField.test(error) ? `batch[${index}].${error}` : `batch[${index}]: ${error}`;
}

/**
 * The answer when nothing in the request was accepted: 413 when size was the only reason, otherwise 400
 * with every rejection. The message lists the first reasons, prefixed by the event's place in a batch.
 */
export function nothingAccepted(triage: Triage, envelope: Envelope): HttpError {
  if (triage.oversized === triage.rejected.length) {
    const reason = triage.rejected[0]?.errors[0] ?? '';
    return new PayloadTooLargeError(
      envelope.route === 'batch'
        ? `every event in the batch is over the limit of 32 KB (${maxEventBytes} bytes) per event; batch[0]: ${reason}`
        : reason,
    );
  }
  const reasons = triage.rejected.flatMap(({ index, errors }) =>
    errors.map((error) => (envelope.route === 'batch' ? inBatch(index, error) : error)),
  );
  const listed = reasons.slice(0, listedErrors).join('; ');
  const more = reasons.length > listedErrors ? ` (and ${reasons.length - listedErrors} more)` : '';
  const what =
    envelope.route === 'batch' ? 'no event in the batch is valid' : `invalid ${envelope.route} event`;
  return new BadRequestError(`${what}: ${listed}${more}`, { rejected: triage.rejected });
}
