import type { IngestEvent } from '#events/ingest-event.ts';
import { type Cart, emptyCart, foldCart } from './cart.ts';
import { compareText, recentUnique } from './collation.ts';
import { type EmailEngagement, emptyEmail, foldEmail } from './email.ts';
import { isActivity, trackName } from './event-kinds.ts';
import { type Instant, instantOf, laterAt, millisOf } from './instant.ts';
import { foldInterests, type InterestScore } from './interests.ts';
import type { JsonValue } from './json-value.ts';
import { emptyOrders, foldOrders, newOrderOf, type Orders } from './orders.ts';
import type { EngagementSettings } from './settings.ts';
import { tierOf } from './tier.ts';
import { foldTouches, type Touch } from './touch.ts';
import { foldTraits } from './traits.ts';
import { emptyWeb, foldWeb, type WebActivity } from './web.ts';

/**
 * A customer's engagement state: a fold of their events in (timestamp, messageId) order. Replaying
 * all events from the empty state is the definition of truth; folding new events on top of a stored
 * state is a shortcut that is taken only when they sort after everything folded so far, and gives the
 * same state to the bit.
 *
 * The state is stored as a DynamoDB map, so it is plain JSON: every field is always present, an
 * unknown value is null, and there are no Maps, Sets, Dates or non-finite numbers.
 */
export interface EngagementState {
  customerId: string;
  /** The latest event folded in. Internal. */
  watermark: Watermark | null;
  /** Unique, least recently seen first; at most `maxAnonymousIds`. The view sorts them. */
  anonymousIds: string[];
  traits: Record<string, JsonValue>;
  web: WebActivity;
  /** Sorted by kind and id. */
  interests: InterestScore[];
  cart: Cart;
  orders: Orders;
  email: EmailEngagement;
  tier: string | null;
  /** The latest event of any kind but a delivery or bounce of mail. */
  lastActivityAt: string | null;
  /**
   * When each track event last happened, by name; at most `maxLastEvents` names, the most recent
   * kept. Campaigns use it to tell whether a cancelling event (an order after a cart) came in.
   */
  lastEvents: Record<string, string>;
  firstTouch: Touch | null;
  lastTouch: Touch | null;
}

/**
 * The most anonymous ids kept, so that a customer on many devices or with cookies cleared every day
 * still fits in one DynamoDB item. The ones kept are the 50 seen most recently: those of the devices
 * the customer uses now, and always the one of the latest event. "Most recently" is by fold order,
 * which is event order (timestamp, then messageId), so it is a function of the set of events and a
 * replay keeps the same ones as incremental folding. (States stored before the cap hold the ids in
 * sort order; they are taken as that order of recency until the next replay.)
 */
export const maxAnonymousIds = 50;

/** The most event names whose last time is kept. */
export const maxLastEvents = 100;

export interface Watermark {
  timestamp: string;
  messageId: string;
}

export function emptyState(customerId: string): EngagementState {
  return {
    customerId,
    watermark: null,
    anonymousIds: [],
    traits: {},
    web: emptyWeb(),
    interests: [],
    cart: emptyCart(),
    orders: emptyOrders(),
    email: emptyEmail(),
    tier: null,
    lastActivityAt: null,
    lastEvents: {},
    firstTouch: null,
    lastTouch: null,
  };
}

/** The state after one more event. An event whose timestamp is not a time leaves the state as it is. */
export function foldEvent(
  state: EngagementState,
  event: IngestEvent,
  settings: EngagementSettings,
): EngagementState {
  const when = instantOf(event.timestamp);
  if (when === undefined) return state;
  const placed = newOrderOf(state.orders, event, settings.mainCurrency);
  const orders = foldOrders(state.orders, event, placed, when);
  const touches = foldTouches({ firstTouch: state.firstTouch, lastTouch: state.lastTouch }, event, when);
  return {
    customerId: state.customerId,
    watermark: laterWatermark(state.watermark, { timestamp: when.at, messageId: event.messageId }),
    anonymousIds:
      event.anonymousId === undefined
        ? state.anonymousIds
        : seenAnonymousId(state.anonymousIds, event.anonymousId),
    traits: foldTraits(state.traits, event),
    web: foldWeb(state.web, event, when, settings.sessionTimeoutMinutes),
    interests: foldInterests(state.interests, event, placed, when, settings),
    cart: foldCart(state.cart, event, placed, when, settings.mainCurrency),
    orders,
    email: foldEmail(state.email, event, when),
    tier: tierOf(orders, settings),
    lastActivityAt: isActivity(event) ? laterAt(state.lastActivityAt, when) : state.lastActivityAt,
    lastEvents: foldLastEvents(state.lastEvents ?? {}, event, when),
    firstTouch: touches.firstTouch,
    lastTouch: touches.lastTouch,
  };
}

/** Orders events by time, then by messageId so that events at the same millisecond have one order too. */
export function compareEvents(
  a: Pick<IngestEvent, 'timestamp' | 'messageId'>,
  b: Pick<IngestEvent, 'timestamp' | 'messageId'>,
): number {
  return millisOf(a.timestamp) - millisOf(b.timestamp) || compareText(a.messageId, b.messageId);
}

/**
 * The state of all the events: each messageId once, in time order. Of copies that share a messageId
 * (a client's retry may be stamped a little differently) the one that sorts first is kept.
 */
export function foldEvents(
  customerId: string,
  events: Iterable<IngestEvent>,
  settings: EngagementSettings,
): EngagementState {
  return replayOrder(events).reduce(
    (state, event) => foldEvent(state, event, settings),
    emptyState(customerId),
  );
}

/** The events a replay folds, in the order it folds them (see foldEvents). */
export function replayOrder(events: Iterable<IngestEvent>): IngestEvent[] {
  const timed = [...events].filter((event) => !Number.isNaN(millisOf(event.timestamp))).sort(compareEvents);
  const seen = new Set<string>();
  return timed.filter((event) => {
    if (seen.has(event.messageId)) return false;
    seen.add(event.messageId);
    return true;
  });
}

/** Whether folding the event on top of the state is the same as replaying: it sorts after all of it. */
export function sortsAfterWatermark(state: EngagementState, event: IngestEvent): boolean {
  return state.watermark === null || compareEvents(event, state.watermark) > 0;
}

/**
 * The later of the two times for the event's name. Past the cap the name with the oldest time goes
 * (ties by name), which depends only on the times, so replay and incremental folding keep the same.
 */
function foldLastEvents(
  held: Record<string, string>,
  event: IngestEvent,
  when: Instant,
): Record<string, string> {
  const name = trackName(event);
  if (name === undefined) return held;
  const previous = held[name];
  const at = laterAt(previous ?? null, when);
  if (at === previous) return held;
  const entries = Object.entries({ ...held, [name]: at });
  if (entries.length > maxLastEvents) {
    entries.sort(([a, aAt], [b, bAt]) => millisOf(bAt) - millisOf(aAt) || compareText(a, b));
    entries.length = maxLastEvents;
  }
  return Object.fromEntries(entries.sort(([a], [b]) => compareText(a, b)));
}

function seenAnonymousId(held: string[], anonymousId: string): string[] {
  // The same device sends most events: then nothing changes.
  if (held.at(-1) === anonymousId && held.length <= maxAnonymousIds) return held;
  return recentUnique(held, [anonymousId], maxAnonymousIds);
}

function laterWatermark(current: Watermark | null, candidate: Watermark): Watermark {
  return current !== null && compareEvents(current, candidate) >= 0 ? current : candidate;
}
