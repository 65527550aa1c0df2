import fc from 'fast-check';
import { type Condition, condition } from '#shared/campaigns/audience.ts';
import { type Campaign, campaign } from '#shared/campaigns/campaign.ts';
import type { Catalog } from '#shared/campaigns/catalog.ts';
import { type Duration, duration } from '#shared/campaigns/duration.ts';
import { sendingSettings } from '#shared/campaigns/sending-settings.ts';
import type { Cart } from '#shared/engagement/cart.ts';
import type { EmailEngagement } from '#shared/engagement/email.ts';
import type { Orders } from '#shared/engagement/orders.ts';
import { defaultEngagementSettings } from '#shared/engagement/settings.ts';
import { type EngagementState, emptyState, foldEvents } from '#shared/engagement/state.ts';
import type { WebActivity } from '#shared/engagement/web.ts';
import { history } from '../engagement/arbitraries.ts';

/** Builders of customers, audiences and campaigns for the audience tests; money in USD by default. */
export const settings = defaultEngagementSettings;

type StatePatch = Partial<Omit<EngagementState, 'web' | 'orders' | 'email' | 'cart'>> & {
  web?: Partial<WebActivity>;
  orders?: Partial<Orders>;
  email?: Partial<EmailEngagement>;
  cart?: Partial<Cart>;
};

/** Customer "u1" with nothing known but what the patch says. */
export function customer(patch: StatePatch = {}): EngagementState {
  const empty = emptyState('u1');
  return {
    ...empty,
    ...patch,
    web: { ...empty.web, ...patch.web },
    orders: { ...empty.orders, ...patch.orders },
    email: { ...empty.email, ...patch.email },
    cart: { ...empty.cart, ...patch.cart },
  };
}

/** A condition as a marketer writes it in YAML, parsed the way campaign files are. */
export function audience(written: unknown): Condition {
  return condition.parse(written);
}

export function span(text: string): Duration {
  return duration.parse(text);
}

/** A campaign with the given trigger (as written) and audience; enabled unless told otherwise. */
export function campaignOf(
  id: string,
  trigger: Record<string, unknown>,
  options: { audience?: Condition; enabled?: boolean } = {},
): Campaign {
  const parsed: Campaign = campaign.parse({
    id,
    name: id,
    enabled: options.enabled ?? true,
    trigger,
    message: { subject: 'Hello', template: 'hello' },
  });
  return options.audience === undefined ? parsed : { ...parsed, audience: options.audience };
}

export function catalogOf(...campaigns: Campaign[]): Catalog {
  return {
    campaigns,
    sending: sendingSettings.parse({
      from: 'Shop <hello@shop.example>',
      linkBaseUrl: 'https://api.shop.example',
      unsubscribeMailbox: 'unsubscribe@shop.example',
    }),
    templates: {},
  };
}

/**
 * States of realistic histories (see engagement/arbitraries.ts: a few days from 2025-03-01), with
 * traits besides those the events set: nested objects, lists and dates.
 */
export const states: fc.Arbitrary<EngagementState> = fc
  .tuple(
    history,
    fc.record(
      {
        address: fc.record({ city: fc.constantFrom('Oslo', 'Bergen') }),
        tags: fc.array(fc.constantFrom('VIP', 'news', 'Outdoor'), { maxLength: 3 }),
        age: fc.constantFrom<number | string | null>(42, '42', null),
      },
      { requiredKeys: [] },
    ),
  )
  .map(([events, traits]) => {
    const state = foldEvents('u1', events, settings);
    return { ...state, traits: { ...state.traits, ...traits } };
  });

const historyStart = Date.UTC(2025, 2, 1, 8, 0, 0);

/**
 * Times to evaluate at: around the histories (also before their last events) and up to half a year
 * later, past the lapse and the longest lastSeen windows.
 */
export const times: fc.Arbitrary<Date> = fc
  .oneof(
    fc.integer({ min: historyStart - 86_400_000, max: historyStart + 5 * 86_400_000 }),
    fc.integer({ min: historyStart, max: historyStart + 200 * 86_400_000 }),
  )
  .map((millis) => new Date(millis));

function someOf<T extends object>(record: fc.Arbitrary<T>): fc.Arbitrary<T> {
  return record.filter((value) => Object.values(value).some((field) => field !== undefined));
}

const comparisonOf = <T>(bound: fc.Arbitrary<T>) =>
  someOf(fc.record({ gt: bound, gte: bound, lt: bound, lte: bound, eq: bound }, { requiredKeys: [] }));

const scalar = fc.constantFrom<string | number | boolean>(
  'free',
  'pro',
  'Ada',
  'Oslo',
  'oslo',
  42,
  '42',
  true,
);
const traitName = fc.constantFrom('plan', 'name', 'city', 'score', 'age', 'address.city', 'tags', 'missing');
const decimal = fc.constantFrom('0', '10', '12.5', '99.99', '250', '1000');
const spans = fc.constantFrom(...['1h', '12h', '1d', '2d', '3d', '60d', '90d'].map(span));
const interestIds = {
  product: ['shoe-1', 'shoe-2', 'sock-1', 'hat-1', 'bag-1', '42'],
  category: ['Shoes', 'Socks', 'Hats', 'Bags', 'Misc'],
};

/** web.lastSeenAt windows: older than, newer than, or both (some of them empty). */
export const lastSeenConditions: fc.Arbitrary<Condition> = someOf(
  fc.record({ olderThan: spans, newerThan: spans }, { requiredKeys: [] }),
).map((window): Condition => ({ kind: 'lastSeen', ...window }));

/** Leaves whose truth does not depend on the time. */
const timeFreeLeaves: fc.Arbitrary<Condition>[] = [
  fc.boolean().map((value): Condition => ({ kind: 'subscribed', value })),
  fc.tuple(traitName, scalar).map(([name, value]): Condition => ({ kind: 'trait', name, op: 'eq', value })),
  fc
    .tuple(traitName, fc.array(scalar, { minLength: 1, maxLength: 3 }))
    .map(([name, values]): Condition => ({ kind: 'trait', name, op: 'in', values })),
  fc
    .tuple(traitName, fc.boolean())
    .map(([name, value]): Condition => ({ kind: 'trait', name, op: 'exists', value })),
  fc
    .tuple(traitName, fc.constantFrom('o', 'PRO', 'vip', 'news', 'da'))
    .map(([name, value]): Condition => ({ kind: 'trait', name, op: 'contains', value })),
  fc
    .tuple(
      fc.constantFrom<'orders.count' | 'email.openedWithoutClickStreak'>(
        'orders.count',
        'email.openedWithoutClickStreak',
      ),
      comparisonOf(fc.integer({ min: 0, max: 4 })),
    )
    .map(([field, compare]): Condition => ({ kind: 'count', field, compare })),
  comparisonOf(decimal).map((compare): Condition => ({ kind: 'revenue', compare })),
  fc
    .subarray(['bronze', 'silver', 'gold', 'platinum'], { minLength: 1 })
    .map((tiers): Condition => ({ kind: 'tier', in: tiers })),
  fc
    .tuple(
      fc.boolean(),
      fc.oneof(
        fc.constantFrom(...interestIds.product).map((product) => ({ product })),
        fc.constantFrom(...interestIds.category).map((category) => ({ category })),
      ),
    )
    .map(([negate, what]): Condition => ({ kind: 'bought', negate, ...what })),
  someOf(
    fc.record(
      {
        status: fc
          .subarray(['open', 'converted', 'empty'] as const, { minLength: 1 })
          .map((list) => [...list]),
        value: comparisonOf(decimal),
      },
      { requiredKeys: [] },
    ),
  ).map((cart): Condition => ({ kind: 'cart', ...cart })),
];

const interests: fc.Arbitrary<Condition> = fc
  .constantFrom<'product' | 'category'>('product', 'category')
  .chain((interestKind) =>
    someOf(
      fc.record(
        {
          top: fc.integer({ min: 1, max: 4 }),
          minScore: fc.constantFrom(0.25, 0.5, 1, 2, 4, 8),
        },
        { requiredKeys: [] },
      ),
    ).chain((bounds) =>
      fc
        .constantFrom(...interestIds[interestKind])
        .map((id): Condition => ({ kind: 'interest', interestKind, id, ...bounds })),
    ),
  );

/** Leaves whose truth may depend on the time (some are known anyway: a customer never seen, an empty window). */
const timedLeaves: fc.Arbitrary<Condition>[] = [
  fc
    .subarray(['prospect', 'customer', 'repeat', 'lapsed'] as const, { minLength: 1 })
    .map((names): Condition => ({ kind: 'lifecycle', in: [...names] })),
  lastSeenConditions,
  interests,
];

/** Conditions of every leaf kind, combined with all, any and not a few levels deep. */
export const conditions: fc.Arbitrary<Condition> = fc.letrec<{ condition: Condition }>((tie) => ({
  condition: fc.oneof(
    { maxDepth: 3, depthSize: 'small' },
    fc.oneof(
      ...timeFreeLeaves.map((arbitrary) => ({ weight: 1, arbitrary })),
      ...timedLeaves.map((arbitrary) => ({ weight: 4, arbitrary })),
    ),
    fc
      .array(tie('condition'), { minLength: 1, maxLength: 3 })
      .map((inner): Condition => ({ kind: 'all', conditions: inner })),
    fc
      .array(tie('condition'), { minLength: 1, maxLength: 3 })
      .map((inner): Condition => ({ kind: 'any', conditions: inner })),
    tie('condition').map((inner): Condition => ({ kind: 'not', condition: inner })),
  ),
})).condition;
