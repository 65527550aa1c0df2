import { type CustomerPlan, type Persona, planCustomer } from './customers.ts';
import { customerJourney, type SyntheticEvent } from './journey.ts';
import { type Random, seededRandom } from './random.ts';
import { buildCatalog, type Product } from './shop.ts';

/**
 * Deterministic synthetic shop traffic in the Segment format, as analytics.js (browser) and a server
 * library (mail events from the ESP) send it. The same seed and sizes give the same events, ids and
 * timestamps, byte for byte.
 *
 * Each customer walks a journey of sessions: an anonymous landing page (UTM campaign, referrer or
 * direct), product pages and "Product Viewed", cart changes, an identify that links the anonymousId,
 * checkout and "Order Completed" for buyers, and later newsletter opens and clicks that bring them
 * back. What was generated for each customer is kept, so that a run can check what the system made
 * of it.
 */

export interface SyntheticOptions {
  events: number;
  customers: number;
  seed: string;
  /** The earliest first visit, ISO 8601; default 2026-10-01T00:00:00.000Z. */
  start?: string;
  /** Every event falls within this many days of the start. Default 28. */
  days?: number;
}

/** What the generator produced for one customer: what a correct ingest must show for them. */
export interface CustomerOutcome {
  index: number;
  persona: Persona;
  anonymousId: string;
  /** Set when the journey reached its identify call. */
  userId?: string;
  email?: string;
  events: number;
  orders: number;
  /** Sum of `revenue` of their orders, in cents (USD). */
  revenueCents: number;
}

export interface SyntheticData {
  /** All events in time order (timestamp, then messageId), each with the index of its customer. */
  events: { customer: number; millis: number; event: SyntheticEvent }[];
  customers: CustomerOutcome[];
  counts: Record<string, number>;
  firstTimestamp: string;
  lastTimestamp: string;
}

const day = 24 * 60 * 60 * 1_000;

export function generateTraffic(options: SyntheticOptions): SyntheticData {
  const { events: total, customers: customerCount } = options;
  if (!Number.isInteger(customerCount) || customerCount < 1) throw new Error('customers must be at least 1');
  if (!Number.isInteger(total) || total < customerCount) {
    throw new Error(`events (${total}) must be a whole number of at least the customers (${customerCount})`);
  }
  const random = seededRandom(options.seed);
  const catalog = buildCatalog(random);
  const start = Date.parse(options.start ?? '2026-10-01T00:00:00.000Z');
  const end = start + (options.days ?? 28) * day;
  const walked = journeyLengths(random, total, customerCount).map((size, index) => {
    // First visits fall in the first half of the window; a journey's sessions spread over the rest.
    const firstVisit = start + random.next() * ((end - start) / 2);
    // The mean pause between sessions, so that long journeys still end within the window.
    const sessionGap = Math.min((end - firstVisit) / Math.max(1, size / 7), 3 * day);
    return walkJourney(random, catalog, planCustomer(random, index, firstVisit, sessionGap), size);
  });
  const events = walked.flatMap((journey) => journey.events);
  // Counted before sorting, so that the mix lists kinds in the order customers first produced them.
  const counts = countKinds(events);
  events.sort((a, b) => a.millis - b.millis || compare(a.event.messageId, b.event.messageId));
  return {
    events,
    customers: walked.map((journey) => journey.outcome),
    counts,
    firstTimestamp: events[0]?.event.timestamp ?? '',
    lastTimestamp: events.at(-1)?.event.timestamp ?? '',
  };
}

/** Takes the first `size` events of the customer's journey, and records what they add up to. */
function walkJourney(
  random: Random,
  catalog: readonly Product[],
  plan: CustomerPlan,
  size: number,
): { events: SyntheticData['events']; outcome: CustomerOutcome } {
  const { index } = plan;
  const events: SyntheticData['events'] = [];
  const outcome: CustomerOutcome = {
    index,
    persona: plan.persona,
    anonymousId: plan.anonymousId,
    events: 0,
    orders: 0,
    revenueCents: 0,
  };
  const journey = customerJourney(random, catalog, plan);
  for (let taken = 0; taken < size; taken++) {
    const next = journey.next();
    if (next.done) throw new Error('a customer journey ended early');
    const { event, orderCents } = next.value;
    events.push({ customer: index, millis: Date.parse(event.timestamp), event });
    outcome.events++;
    if (event.type === 'identify' && event.userId) {
      outcome.userId = event.userId;
      outcome.email = String(event.traits?.email);
    }
    if (orderCents !== undefined) {
      outcome.orders++;
      outcome.revenueCents += orderCents;
    }
  }
  return { events, outcome };
}

/** Events by kind: the track event's name, or the call type (page, identify). */
function countKinds(events: SyntheticData['events']): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { event } of events) {
    const kind = event.type === 'track' ? (event.event ?? 'track') : event.type;
    counts[kind] = (counts[kind] ?? 0) + 1;
  }
  return counts;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Events per customer, summing to `total`, at least one each: log-normal, as real traffic is (most
 * visitors leave after a page or two, a few browse for weeks).
 */
function journeyLengths(random: Random, total: number, customers: number): number[] {
  const weights = Array.from({ length: customers }, () => Math.exp(0.9 * random.normal()));
  const weightSum = weights.reduce((sum, weight) => sum + weight, 0);
  const spare = total - customers;
  const shares = weights.map((weight) => (spare * weight) / weightSum);
  const sizes = shares.map((share) => 1 + Math.floor(share));
  let missing = total - sizes.reduce((sum, size) => sum + size, 0);
  const byRemainder = shares
    .map((share, index) => ({ index, remainder: share - Math.floor(share) }))
    .sort((a, b) => b.remainder - a.remainder || a.index - b.index);
  for (const { index } of byRemainder) {
    if (missing === 0) break;
    sizes[index] = (sizes[index] ?? 0) + 1;
    missing--;
  }
  return sizes;
}
