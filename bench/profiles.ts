import type { IngestEvent } from '#events/ingest-event.ts';
import type { JsonValue } from '#shared/engagement/json-value.ts';
import type { EngagementSettings } from '#shared/engagement/settings.ts';
import { type EngagementState, foldEvents } from '#shared/engagement/state.ts';
import { planCustomer } from './customers.ts';
import type { Random } from './random.ts';
import { type Product, pageInfo, popularProduct, productProperties } from './shop.ts';

/**
 * Synthetic customers for the benches that start from stored profiles (audience, send): a short
 * history of Segment events per customer (a landing page, product views, the identify that signs
 * them up with name, email, consent and sign-up date, their orders, newsletter mail), folded into
 * the engagement state the way ingest folds it. The shape says what the history must add up to, so a
 * bench knows exactly who is in which audience.
 */
export interface CustomerShape {
  subscribed: boolean;
  /** Lifetime spend in cents (USD), spread over one to three orders; 0 for one who never bought. */
  spendCents: number;
  /** Traits the identify call carries besides the usual ones. */
  traits?: Record<string, JsonValue>;
}

export interface SyntheticCustomer {
  id: string;
  email: string;
  state: EngagementState;
}

const day = 86_400_000;
const minute = 60_000;
const countries: Record<string, string> = { 'en-US': 'US', 'en-GB': 'GB', 'de-DE': 'DE', 'fr-FR': 'FR' };

/** The customer's events, from a first visit within `days` after `start`, and the state they fold to. */
export function syntheticCustomer(
  random: Random,
  index: number,
  shop: readonly Product[],
  shape: CustomerShape,
  window: { start: number; days: number; settings: EngagementSettings },
): SyntheticCustomer {
  const firstVisit = window.start + Math.floor(random.next() * window.days * day);
  const plan = planCustomer(random, index, firstVisit, day);
  const events: IngestEvent[] = [];
  let at = firstVisit;
  const add = (event: Omit<IngestEvent, 'messageId' | 'timestamp' | 'receivedAt' | 'source'>): void => {
    const timestamp = new Date(at).toISOString();
    events.push({
      messageId: `bench-${index.toString(36)}-${events.length}`,
      timestamp,
      receivedAt: timestamp,
      source: 'shop',
      ...event,
    });
  };
  const context = {
    userAgent: plan.browser.userAgent,
    locale: plan.browser.locale,
    timezone: plan.browser.timezone,
  };
  const landing = random.chance(0.3) ? popularProduct(random, shop) : undefined;
  const campaign = random.chance(0.4)
    ? { source: random.pick(['google', 'newsletter', 'instagram']), medium: 'cpc', name: 'autumn-sale' }
    : undefined;
  const page = pageInfo(landing, 'https://www.google.com/', campaign);
  add({
    type: 'page',
    anonymousId: plan.anonymousId,
    name: landing ? 'Product' : 'Home',
    properties: { ...page },
    context: { ...context, page, ...(campaign ? { campaign } : {}) },
  });
  for (let views = random.int(1, 4); views > 0; views--) {
    at += random.int(1, 6) * minute;
    add({
      type: 'track',
      anonymousId: plan.anonymousId,
      event: 'Product Viewed',
      properties: productProperties(popularProduct(random, shop)),
      context,
    });
  }
  at += random.int(1, 10) * minute;
  add({
    type: 'identify',
    userId: plan.userId,
    anonymousId: plan.anonymousId,
    traits: {
      email: plan.email,
      firstName: plan.firstName,
      lastName: plan.lastName,
      subscribed: shape.subscribed,
      createdAt: new Date(at).toISOString(),
      country: countries[plan.browser.locale] ?? 'US',
      timezone: plan.browser.timezone,
      ...(random.chance(0.4)
        ? { birthday: `19${random.int(50, 99)}-0${random.int(1, 9)}-1${random.int(0, 9)}` }
        : {}),
      ...shape.traits,
    },
    context,
  });
  const orders = shape.spendCents > 0 ? random.int(1, 3) : 0;
  for (let order = 0; order < orders; order++) {
    at += random.int(1, 20) * day;
    // The last order takes what is left, so the orders add up to the spend to the cent.
    const share = Math.floor(shape.spendCents / orders);
    const cents = order === orders - 1 ? shape.spendCents - share * (orders - 1) : share;
    const product = popularProduct(random, shop);
    add({
      type: 'track',
      userId: plan.userId,
      anonymousId: plan.anonymousId,
      event: 'Order Completed',
      properties: {
        order_id: `ord_${index.toString(36)}_${order}`,
        revenue: cents / 100,
        currency: 'USD',
        products: [productProperties(product, random.int(1, 3))],
      },
      context,
    });
  }
  if (shape.subscribed) {
    at += random.int(1, 7) * day;
    add({
      type: 'track',
      userId: plan.userId,
      event: 'Email Delivered',
      properties: { email_subject: 'News' },
    });
    if (random.chance(0.5)) {
      at += random.int(1, 48) * 60 * minute;
      add({
        type: 'track',
        userId: plan.userId,
        event: 'Email Opened',
        properties: { email_subject: 'News' },
      });
    }
  }
  return { id: plan.userId, email: plan.email, state: foldEvents(plan.userId, events, window.settings) };
}
