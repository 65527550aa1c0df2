import { createHash } from 'node:crypto';
import {
  type CustomerTierChanged,
  customerTierChanged,
  type FirstOrderPlaced,
  firstOrderPlaced,
  type LifecycleEvent,
  type NewsletterIgnored,
  newsletterIgnored,
  type SpendThresholdCrossed,
  spendThresholdCrossed,
} from '#events/lifecycle.ts';
import { formatMinor, toMinor } from '../money.ts';
import { revenueIn } from './orders.ts';
import type { EngagementSettings } from './settings.ts';
import type { EngagementState } from './state.ts';

/**
 * The lifecycle events that going from one state to the next causes. Each id is derived from what
 * happened and the event that made it happen, so computing the same transition again (after a retry,
 * or a replay that ends in the same place) gives the same id and subscribers see a duplicate, not news.
 */
export function lifecycleTransitions(
  before: EngagementState,
  after: EngagementState,
  settings: EngagementSettings,
): LifecycleEvent[] {
  const watermark = after.watermark;
  if (watermark === null) return [];
  const cause = { customerId: after.customerId, at: watermark.timestamp, messageId: watermark.messageId };
  return [
    ...firstOrder(before, after, cause),
    ...tierChange(before, after, settings, cause),
    ...thresholdsCrossed(before, after, settings, cause),
    ...newsletterStreak(before, after, settings, cause),
  ];
}

interface Cause {
  customerId: string;
  at: string;
  messageId: string;
}

/**
 * The order that made a prospect a customer. Folded one event at a time, as every caller folds, the
 * state after it holds exactly that order; were several to arrive at once, the ledger no longer
 * knows which was placed first, and the first by order id stands for them.
 */
function firstOrder(before: EngagementState, after: EngagementState, cause: Cause): LifecycleEvent[] {
  const entry = after.orders.ledger[0];
  if (before.orders.count > 0 || entry === undefined) return [];
  const [orderId, net, currency] = entry;
  const detail: FirstOrderPlaced = {
    id: transitionId(cause, firstOrderPlaced.detailType, orderId),
    customerId: cause.customerId,
    orderId,
    revenue: { currency, amount: formatMinor(net, currency) },
    at: cause.at,
  };
  return [{ detailType: firstOrderPlaced.detailType, detail }];
}

function tierChange(
  before: EngagementState,
  after: EngagementState,
  settings: EngagementSettings,
  cause: Cause,
): LifecycleEvent[] {
  if (before.tier === after.tier) return [];
  const currency = settings.mainCurrency;
  const detail: CustomerTierChanged = {
    id: transitionId(cause, customerTierChanged.detailType, `${before.tier}->${after.tier}`),
    customerId: cause.customerId,
    from: before.tier,
    to: after.tier,
    revenue: { currency, amount: formatMinor(revenueIn(after.orders, currency), currency) },
    at: cause.at,
  };
  return [{ detailType: customerTierChanged.detailType, detail }];
}

/** Thresholds of the main currency that net revenue reached with this change, lowest first. */
function thresholdsCrossed(
  before: EngagementState,
  after: EngagementState,
  settings: EngagementSettings,
  cause: Cause,
): LifecycleEvent[] {
  const currency = settings.mainCurrency;
  const from = revenueIn(before.orders, currency);
  const to = revenueIn(after.orders, currency);
  return settings.spendThresholds.flatMap((threshold): LifecycleEvent[] => {
    const minimum = toMinor(threshold, currency);
    if (minimum === undefined || !(from < minimum && minimum <= to)) return [];
    const detail: SpendThresholdCrossed = {
      id: transitionId(cause, spendThresholdCrossed.detailType, `${minimum} ${currency}`),
      customerId: cause.customerId,
      threshold: formatMinor(minimum, currency),
      currency,
      revenue: formatMinor(to, currency),
      at: cause.at,
    };
    return [{ detailType: spendThresholdCrossed.detailType, detail }];
  });
}

function newsletterStreak(
  before: EngagementState,
  after: EngagementState,
  settings: EngagementSettings,
  cause: Cause,
): LifecycleEvent[] {
  const streak = settings.newsletterIgnoredStreak;
  const crossed =
    before.email.openedWithoutClickStreak < streak && streak <= after.email.openedWithoutClickStreak;
  if (!crossed) return [];
  const detail: NewsletterIgnored = {
    id: transitionId(cause, newsletterIgnored.detailType, String(streak)),
    customerId: cause.customerId,
    streak,
    at: cause.at,
  };
  return [{ detailType: newsletterIgnored.detailType, detail }];
}

/** sha256 of the parts as a JSON array, so that no two different parts can run together. */
function transitionId(cause: Cause, detailType: string, distinction: string): string {
  const parts = [cause.customerId, detailType, distinction, cause.messageId];
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}
