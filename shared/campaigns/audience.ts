import { z } from 'zod';
import { type Duration, duration } from './duration.ts';

/**
 * Who a campaign reaches: conditions on a customer's traits and engagement state, combined with
 * `all`, `any` and `not`. Marketers write each condition as a mapping with one key:
 *
 * ```yaml
 * audience:
 *   all:
 *     - subscribed: true
 *     - tier: [gold, silver]
 *     - web.lastSeenAt: { olderThan: 60d, newerThan: 67d }
 *     - not: { bought: { category: canvas } }
 *     - segment: vip
 * ```
 *
 * Parsing turns that into the `Condition` union below; `segment` references are replaced by the
 * segment's own condition when the catalog is loaded (see catalog.ts).
 */
export type Condition =
  | { kind: 'all'; conditions: Condition[] }
  | { kind: 'any'; conditions: Condition[] }
  | { kind: 'not'; condition: Condition }
  | { kind: 'segment'; name: string }
  | { kind: 'subscribed'; value: boolean }
  | TraitCondition
  | { kind: 'count'; field: CountField; compare: Comparison }
  /** Lifetime revenue net of refunds in the main currency; bounds are decimal strings. */
  | { kind: 'revenue'; compare: Comparison<string> }
  | { kind: 'tier'; in: string[] }
  | { kind: 'lifecycle'; in: LifecycleName[] }
  | { kind: 'lastSeen'; olderThan?: Duration; newerThan?: Duration }
  | InterestCondition
  | { kind: 'bought'; negate: boolean; product?: string; category?: string }
  | { kind: 'cart'; status?: CartStatus[]; value?: Comparison<string> };

export type CountField = 'orders.count' | 'email.openedWithoutClickStreak';
export type LifecycleName = 'prospect' | 'customer' | 'repeat' | 'lapsed';
export type CartStatus = 'open' | 'converted' | 'empty';

export type TraitCondition =
  | { kind: 'trait'; name: string; op: 'eq'; value: string | number | boolean }
  | { kind: 'trait'; name: string; op: 'in'; values: (string | number | boolean)[] }
  | { kind: 'trait'; name: string; op: 'exists'; value: boolean }
  | { kind: 'trait'; name: string; op: 'contains'; value: string };

/** A category or product among the customer's strongest `top` interests, or scoring at least `minScore`. */
export interface InterestCondition {
  kind: 'interest';
  interestKind: 'category' | 'product';
  id: string;
  top?: number;
  minScore?: number;
}

export interface Comparison<T = number> {
  gt?: T;
  gte?: T;
  lt?: T;
  lte?: T;
  eq?: T;
}

const scalar = z.union([z.string(), z.number(), z.boolean()], {
  error: 'expected a string, number or true/false',
});

const comparison = <T extends z.ZodType>(value: T, example: string) =>
  z
    .strictObject(
      {
        gt: value.optional(),
        gte: value.optional(),
        lt: value.optional(),
        lte: value.optional(),
        eq: value.optional(),
      },
      { error: `expected a comparison like { gte: ${example} }` },
    )
    .refine((compare) => Object.values(compare).some((bound) => bound !== undefined), {
      error: `expected at least one of gt, gte, lt, lte, eq, like { gte: ${example} }`,
    });

const count = z.number({ error: 'expected a whole number' }).int({ error: 'expected a whole number' });
const decimal = z
  .string({ error: 'expected a decimal string like "50"' })
  .regex(/^\d+(\.\d+)?$/, { error: 'expected a decimal string like "50"' });

const oneOrMany = <T extends z.ZodType>(value: T, hint: string) =>
  z.union([value.transform((one) => [one]), z.array(value).min(1)], {
    error: `expected ${hint}, or a list of them`,
  });

const tierList = oneOrMany(
  z.string({ error: 'expected a tier name like "gold"' }).min(1),
  'a tier name like "gold"',
);
const lifecycleList = oneOrMany(
  z.enum(['prospect', 'customer', 'repeat', 'lapsed'], {
    error: 'expected one of prospect, customer, repeat, lapsed',
  }),
  'one of prospect, customer, repeat, lapsed',
);
const cartStatusList = oneOrMany(
  z.enum(['open', 'converted', 'empty'], { error: 'expected one of open, converted, empty' }),
  'one of open, converted, empty',
);

const trait = z
  .strictObject(
    {
      name: z.string({ error: 'expected the trait name, like "country"' }).min(1),
      eq: scalar.optional(),
      in: z.array(scalar).min(1).optional(),
      exists: z.boolean({ error: 'expected true or false' }).optional(),
      contains: z.string({ error: 'expected the text or list item to look for' }).optional(),
    },
    { error: 'expected a trait condition like { name: "country", in: ["DE", "AT"] }' },
  )
  .transform((value, ctx): TraitCondition => {
    const ops = (['eq', 'in', 'exists', 'contains'] as const).filter((op) => value[op] !== undefined);
    if (ops.length !== 1) {
      ctx.addIssue({ code: 'custom', message: 'expected exactly one of eq, in, exists, contains' });
      return z.NEVER;
    }
    const { name } = value;
    if (value.eq !== undefined) return { kind: 'trait', name, op: 'eq', value: value.eq };
    if (value.in !== undefined) return { kind: 'trait', name, op: 'in', values: value.in };
    if (value.exists !== undefined) return { kind: 'trait', name, op: 'exists', value: value.exists };
    return { kind: 'trait', name, op: 'contains', value: value.contains ?? '' };
  });

const interest = z
  .strictObject(
    {
      category: z.string().min(1).optional(),
      product: z.string().min(1).optional(),
      top: z.number().int().positive({ error: 'expected a positive whole number' }).optional(),
      minScore: z
        .number({ error: 'expected a number' })
        .positive({ error: 'expected a positive number' })
        .optional(),
    },
    { error: 'expected an interest condition like { category: "paint", top: 3 }' },
  )
  .transform((value, ctx): InterestCondition => {
    if ((value.category === undefined) === (value.product === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'expected exactly one of category or product' });
      return z.NEVER;
    }
    if (value.top === undefined && value.minScore === undefined) {
      ctx.addIssue({ code: 'custom', message: 'expected top (a rank like 3) or minScore (a score like 2)' });
      return z.NEVER;
    }
    const condition: InterestCondition = {
      kind: 'interest',
      interestKind: value.category !== undefined ? 'category' : 'product',
      id: value.category ?? value.product ?? '',
    };
    if (value.top !== undefined) condition.top = value.top;
    if (value.minScore !== undefined) condition.minScore = value.minScore;
    return condition;
  });

const purchase = z
  .strictObject(
    { product: z.string().min(1).optional(), category: z.string().min(1).optional() },
    { error: 'expected { product: "<id>" } or { category: "<name>" }' },
  )
  .refine((value) => (value.product === undefined) !== (value.category === undefined), {
    error: 'expected exactly one of product or category',
  });

const lastSeen = z
  .strictObject(
    { olderThan: duration.optional(), newerThan: duration.optional() },
    { error: 'expected { olderThan: 60d } and/or { newerThan: 90d }' },
  )
  .refine((value) => value.olderThan !== undefined || value.newerThan !== undefined, {
    error: 'expected olderThan, newerThan or both, like { olderThan: 60d }',
  });

const cart = z
  .strictObject(
    { status: cartStatusList.optional(), value: comparison(decimal, '"50"').optional() },
    { error: 'expected a cart condition like { status: open, value: { gte: "50" } }' },
  )
  .refine((value) => value.status !== undefined || value.value !== undefined, {
    error: 'expected status, value or both',
  });

const conditionKeys = [
  'all',
  'any',
  'not',
  'segment',
  'subscribed',
  'trait',
  'orders.count',
  'orders.revenue',
  'email.openedWithoutClickStreak',
  'tier',
  'lifecycle',
  'web.lastSeenAt',
  'interest',
  'bought',
  'notBought',
  'cart',
] as const;

const conditionHint = `expected a condition: a mapping with one of ${conditionKeys.join(', ')}`;

export const condition: z.ZodType<Condition, unknown> = z.lazy(() =>
  z
    .strictObject(
      {
        all: z.array(condition, { error: 'expected a list of conditions' }).min(1).optional(),
        any: z.array(condition, { error: 'expected a list of conditions' }).min(1).optional(),
        not: condition.optional(),
        segment: z
          .string({ error: 'expected the name of a file in segments/, without .yaml' })
          .min(1)
          .optional(),
        subscribed: z.boolean({ error: 'expected true or false' }).optional(),
        trait: trait.optional(),
        'orders.count': comparison(count, '2').optional(),
        'orders.revenue': comparison(decimal, '"500"').optional(),
        'email.openedWithoutClickStreak': comparison(count, '5').optional(),
        tier: tierList.optional(),
        lifecycle: lifecycleList.optional(),
        'web.lastSeenAt': lastSeen.optional(),
        interest: interest.optional(),
        bought: purchase.optional(),
        notBought: purchase.optional(),
        cart: cart.optional(),
      },
      { error: conditionHint },
    )
    .transform((value, ctx): Condition => {
      const keys = Object.keys(value).filter((key) => value[key as keyof typeof value] !== undefined);
      if (keys.length !== 1) {
        ctx.addIssue({
          code: 'custom',
          message: `${conditionHint}; found ${keys.length === 0 ? 'none' : keys.join(' and ')} (wrap several in all: [...])`,
        });
        return z.NEVER;
      }
      return toCondition(value);
    }),
);

type RawCondition = {
  all?: Condition[];
  any?: Condition[];
  not?: Condition;
  segment?: string;
  subscribed?: boolean;
  trait?: TraitCondition;
  'orders.count'?: Comparison;
  'orders.revenue'?: Comparison<string>;
  'email.openedWithoutClickStreak'?: Comparison;
  tier?: string[];
  lifecycle?: LifecycleName[];
  'web.lastSeenAt'?: { olderThan?: Duration; newerThan?: Duration };
  interest?: InterestCondition;
  bought?: { product?: string; category?: string };
  notBought?: { product?: string; category?: string };
  cart?: { status?: CartStatus[]; value?: Comparison<string> };
};

function toCondition(value: RawCondition): Condition {
  if (value.all) return { kind: 'all', conditions: value.all };
  if (value.any) return { kind: 'any', conditions: value.any };
  if (value.not) return { kind: 'not', condition: value.not };
  if (value.segment !== undefined) return { kind: 'segment', name: value.segment };
  if (value.subscribed !== undefined) return { kind: 'subscribed', value: value.subscribed };
  if (value.trait) return value.trait;
  if (value['orders.count']) return { kind: 'count', field: 'orders.count', compare: value['orders.count'] };
  if (value['email.openedWithoutClickStreak']) {
    return {
      kind: 'count',
      field: 'email.openedWithoutClickStreak',
      compare: value['email.openedWithoutClickStreak'],
    };
  }
  if (value['orders.revenue']) return { kind: 'revenue', compare: value['orders.revenue'] };
  if (value.tier) return { kind: 'tier', in: value.tier };
  if (value.lifecycle) return { kind: 'lifecycle', in: value.lifecycle };
  if (value['web.lastSeenAt']) return { kind: 'lastSeen', ...value['web.lastSeenAt'] };
  if (value.interest) return value.interest;
  if (value.bought) return { kind: 'bought', negate: false, ...value.bought };
  if (value.notBought) return { kind: 'bought', negate: true, ...value.notBought };
  return { kind: 'cart', ...value.cart };
}
