import { formatMinor } from '../money.ts';
import type { Cart } from './cart.ts';
import { compareText, sortedUnique } from './collation.ts';
import type { EmailEngagement } from './email.ts';
import { millisOf } from './instant.ts';
import { byKey, decayedScore, type InterestScore } from './interests.ts';
import type { JsonValue } from './json-value.ts';
import type { Orders } from './orders.ts';
import type { EngagementSettings } from './settings.ts';
import type { EngagementState } from './state.ts';
import type { Touch } from './touch.ts';
import type { WebActivity } from './web.ts';

/**
 * The customer as the read API shows them at a given time: money as decimal strings per currency,
 * interests decayed to that time, and none of the bookkeeping that makes folding exact.
 */
export interface CustomerView {
  customerId: string;
  anonymousIds: string[];
  traits: Record<string, JsonValue>;
  lifecycle: Lifecycle;
  tier: string | null;
  lastActivityAt: string | null;
  web: WebActivity;
  /** Strongest first, at most `maxViewedInterests`. */
  interests: InterestView[];
  cart: CartView;
  orders: OrdersView;
  email: EmailEngagement;
  firstTouch: Touch | null;
  lastTouch: Touch | null;
}

export type Lifecycle = 'prospect' | 'customer' | 'repeat' | 'lapsed';

export interface InterestView {
  kind: InterestScore['kind'];
  id: string;
  name: string | null;
  score: number;
}

export interface CartView {
  items: { productId: string; name: string | null; price: string | null; quantity: number }[];
  value: string;
  currency: string;
  updatedAt: string | null;
  status: Cart['status'];
}

export interface OrdersView {
  count: number;
  revenue: Record<string, string>;
  firstOrderAt: string | null;
  lastOrderAt: string | null;
  productIds: string[];
}

export const maxViewedInterests = 20;

export function viewCustomer(state: EngagementState, now: Date, settings: EngagementSettings): CustomerView {
  return {
    customerId: state.customerId,
    anonymousIds: sortedUnique(state.anonymousIds),
    traits: sortedKeys(state.traits),
    lifecycle: lifecycleOf(state, now, settings),
    tier: state.tier,
    lastActivityAt: state.lastActivityAt,
    web: viewWeb(state.web),
    interests: viewInterests(state.interests, now, settings),
    cart: viewCart(state.cart, settings.mainCurrency),
    orders: viewOrders(state.orders),
    email: viewEmail(state.email),
    firstTouch: viewTouch(state.firstTouch),
    lastTouch: viewTouch(state.lastTouch),
  };
}

// The stored state comes back from DynamoDB with its map keys in any order; the API lists them in
// one order: the contract's, or sorted where the keys are data. Ids are listed sorted too: the state
// keeps them by recency, to know which to drop.
function sortedKeys<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => compareText(a, b)));
}

function viewWeb(web: WebActivity): WebActivity {
  const { firstSeenAt, lastSeenAt, pageViews, productViews, sessions } = web;
  return { firstSeenAt, lastSeenAt, pageViews, productViews, sessions };
}

function viewEmail(email: EmailEngagement): EmailEngagement {
  const { subscribed, delivered, opened, clicked, lastOpenedAt, lastClickedAt } = email;
  const { openedWithoutClickStreak, bounced, complained, suppressed } = email;
  return {
    subscribed,
    delivered,
    opened,
    clicked,
    lastOpenedAt,
    lastClickedAt,
    openedWithoutClickStreak,
    bounced,
    complained,
    suppressed,
  };
}

function viewTouch(touch: Touch | null): Touch | null {
  return touch && { source: touch.source, medium: touch.medium, campaign: touch.campaign, at: touch.at };
}

/**
 * Prospect, customer or repeat by orders placed; a customer who bought and has done nothing for
 * `lapsedAfterDays` is lapsed. A prospect who went quiet stays a prospect: there is nothing to lapse from.
 */
export function lifecycleOf(state: EngagementState, now: Date, settings: EngagementSettings): Lifecycle {
  const count = state.orders.count;
  if (count === 0) return 'prospect';
  const quietMillis = state.lastActivityAt === null ? 0 : now.getTime() - millisOf(state.lastActivityAt);
  if (quietMillis > settings.lapsedAfterDays * 86_400_000) return 'lapsed';
  return count === 1 ? 'customer' : 'repeat';
}

/** Scores decayed to now and rounded to 3 decimals; interests that round to nothing are left out. */
function viewInterests(interests: InterestScore[], now: Date, settings: EngagementSettings): InterestView[] {
  return interests
    .map((interest) => ({
      interest,
      score: decayedScore(interest, now.getTime(), settings.interestHalfLifeDays),
    }))
    .sort((a, b) => b.score - a.score || byKey(a.interest, b.interest))
    .slice(0, maxViewedInterests)
    .map(({ interest, score }) => ({
      kind: interest.kind,
      id: interest.id,
      name: interest.name,
      score: Math.round(score * 1000) / 1000,
    }))
    .filter((interest) => interest.score > 0);
}

function viewCart(cart: Cart, mainCurrency: string): CartView {
  const currency = cart.currency ?? mainCurrency;
  return {
    items: cart.items.map((item) => ({
      productId: item.productId,
      name: item.name,
      price: item.price === null ? null : formatMinor(item.price, currency),
      quantity: item.quantity,
    })),
    value: formatMinor(cart.value, currency),
    currency,
    updatedAt: cart.updatedAt,
    status: cart.status,
  };
}

function viewOrders(orders: Orders): OrdersView {
  return {
    count: orders.count,
    revenue: sortedKeys(
      Object.fromEntries(
        Object.entries(orders.revenue).map(([currency, minor]) => [currency, formatMinor(minor, currency)]),
      ),
    ),
    firstOrderAt: orders.firstOrderAt,
    lastOrderAt: orders.lastOrderAt,
    productIds: sortedUnique(orders.productIds),
  };
}
