import { toMinor } from '../money.ts';
import { type Orders, revenueIn } from './orders.ts';
import type { EngagementSettings } from './settings.ts';

/**
 * The highest tier whose minimum the customer's net revenue in the main currency reaches. Someone who
 * never ordered has no tier, so that a visitor is not announced as joining the lowest one. Revenue in
 * other currencies does not count: there is no exchange rate in the data.
 */
export function tierOf(orders: Orders, settings: EngagementSettings): string | null {
  if (orders.count === 0) return null;
  const revenue = revenueIn(orders, settings.mainCurrency);
  let reached: string | null = null;
  for (const tier of settings.tiers) {
    const minimum = toMinor(tier.minRevenue, settings.mainCurrency);
    if (minimum !== undefined && revenue >= minimum) reached = tier.name;
  }
  return reached;
}
