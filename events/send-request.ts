import { z } from 'zod';

/**
 * A message on the send queue: one campaign, one customer, one occurrence of its trigger. The three
 * together are the send's idempotency key: whatever fires twice (a retried evaluation, a redelivered
 * trigger), the customer gets one email per occurrence.
 */
export const sendRequest = z.object({
  campaignId: z.string().min(1),
  /** The live profile id, or any id that redirects to it. */
  customerId: z.string().min(1),
  /** The fire time of a schedule, the triggering event's id, the timer's due time or the date. */
  occurrence: z.string().min(1),
  /** The time the send is decided as of (never the wall clock): guards and the ledger use it. */
  firedAt: z.iso.datetime(),
  /** The triggering event's properties, for templates (`trigger.category`). */
  trigger: z.record(z.string(), z.unknown()).default({}),
});

export type SendRequest = z.output<typeof sendRequest>;
