import type { IngestEvent } from '#events/ingest-event.ts';

/**
 * Which events say what about a customer. Email events are about mail sent to them, not about a visit,
 * and some events (a refund, a delivery) are made by a shop or a mail server, not by the customer.
 */
const emailEvents: ReadonlySet<string> = new Set([
  'Email Delivered',
  'Email Opened',
  'Email Link Clicked',
  'Email Bounced',
  'Email Marked as Spam',
  'Unsubscribed',
]);

/**
 * What rapport's campaigns record on a customer's timeline: a message sent, held out, skipped,
 * deferred or refused by SES (see shared/send/outcomes.ts).
 */
export const campaignEvents: ReadonlySet<string> = new Set([
  'Campaign Email Sent',
  'Campaign Email Held Out',
  'Campaign Email Skipped',
  'Campaign Email Deferred',
  'Campaign Email Failed',
]);

/** Events that happen to a customer without them doing anything. */
const passiveEvents: ReadonlySet<string> = new Set([
  'Email Delivered',
  'Email Bounced',
  'Order Refunded',
  ...campaignEvents,
]);

/** The track event's name; undefined for every other call type. */
export function trackName(event: IngestEvent): string | undefined {
  return event.type === 'track' ? event.event : undefined;
}

/** Page views and the shop events a visitor makes: they make up sessions and touches. */
export function isVisit(event: IngestEvent): boolean {
  if (event.type === 'page' || event.type === 'screen') return true;
  const name = trackName(event);
  return name !== undefined && !emailEvents.has(name) && !passiveEvents.has(name);
}

/** Whether the event shows the customer was active, for telling when they lapsed. */
export function isActivity(event: IngestEvent): boolean {
  const name = trackName(event);
  return name === undefined || !passiveEvents.has(name);
}
