import { z } from 'zod';

/** An ISO 8601 time with any offset, kept as UTC with milliseconds so that equal instants are equal text. */
const instant = z.iso.datetime({ offset: true }).transform((value) => new Date(value).toISOString());

/**
 * An accepted Segment event as it travels on the ingest queue and is kept on the customer's timeline.
 * Collect produces it: the messageId is always present (derived from content when the client sent
 * none) and `timestamp` is already corrected for client clock skew.
 */
export const ingestEvent = z.object({
  messageId: z.string().min(1),
  type: z.enum(['track', 'identify', 'page', 'screen', 'group', 'alias']),
  userId: z.string().min(1).optional(),
  anonymousId: z.string().min(1).optional(),
  previousId: z.string().min(1).optional(),
  groupId: z.string().min(1).optional(),
  event: z.string().optional(),
  name: z.string().optional(),
  properties: z.record(z.string(), z.unknown()).optional(),
  traits: z.record(z.string(), z.unknown()).optional(),
  context: z.record(z.string(), z.unknown()).optional(),
  /** Event time, ISO 8601 UTC, corrected for client clock skew. */
  timestamp: instant,
  /** When the collect endpoint accepted the event. */
  receivedAt: instant,
  /** Name of the write key's source. */
  source: z.string().min(1),
});

export type IngestEvent = z.infer<typeof ingestEvent>;
