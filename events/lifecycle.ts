import { z } from 'zod';

/**
 * What rapport publishes on its bus when a customer's engagement state crosses a line. Each event is
 * a small contract: its source and detail-type are what bus rules match on, its version changes when
 * its detail changes incompatibly, and `id` in the detail is the idempotency key for subscribers
 * (delivery is at least once).
 */
export const lifecycleSource = 'rapport.engagement';

const decimalAmount = z.string().regex(/^-?\d+(\.\d+)?$/);
const money = z.object({ currency: z.string().length(3), amount: decimalAmount });
const common = {
  id: z.string().regex(/^[0-9a-f]{64}$/),
  customerId: z.string().min(1),
  at: z.iso.datetime(),
};

export const customerTierChanged = {
  source: lifecycleSource,
  detailType: 'Customer Tier Changed',
  version: '1',
  schema: z.object({ ...common, from: z.string().nullable(), to: z.string().nullable(), revenue: money }),
} as const;

export const firstOrderPlaced = {
  source: lifecycleSource,
  detailType: 'First Order Placed',
  version: '1',
  schema: z.object({ ...common, orderId: z.string().min(1), revenue: money }),
} as const;

export const spendThresholdCrossed = {
  source: lifecycleSource,
  detailType: 'Spend Threshold Crossed',
  version: '1',
  schema: z.object({
    ...common,
    threshold: decimalAmount,
    currency: z.string().length(3),
    revenue: decimalAmount,
  }),
} as const;

export const newsletterIgnored = {
  source: lifecycleSource,
  detailType: 'Newsletter Ignored',
  version: '1',
  schema: z.object({ ...common, streak: z.number().int().positive() }),
} as const;

export const lifecycleContracts = [
  customerTierChanged,
  firstOrderPlaced,
  spendThresholdCrossed,
  newsletterIgnored,
];

export type CustomerTierChanged = z.infer<typeof customerTierChanged.schema>;
export type FirstOrderPlaced = z.infer<typeof firstOrderPlaced.schema>;
export type SpendThresholdCrossed = z.infer<typeof spendThresholdCrossed.schema>;
export type NewsletterIgnored = z.infer<typeof newsletterIgnored.schema>;

export type LifecycleEvent =
  | { detailType: typeof customerTierChanged.detailType; detail: CustomerTierChanged }
  | { detailType: typeof firstOrderPlaced.detailType; detail: FirstOrderPlaced }
  | { detailType: typeof spendThresholdCrossed.detailType; detail: SpendThresholdCrossed }
  | { detailType: typeof newsletterIgnored.detailType; detail: NewsletterIgnored };
