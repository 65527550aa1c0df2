import { stableHash32 } from '../stable-hash.ts';

/**
 * Whether a customer belongs to a campaign's holdout (control) group: `percent` of its eligible
 * customers are never mailed, so that their conversions measure what the campaign adds. The choice
 * is a hash of campaign and customer, so it is the same on every evaluation, in every process, and
 * independent between campaigns. 0 holds out no one, 100 everyone.
 */
export function isHeldOut(campaignId: string, customerId: string, percent: number): boolean {
  return (stableHash32(`${campaignId}\n${customerId}`) / 2 ** 32) * 100 < percent;
}
