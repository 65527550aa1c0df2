import { z } from 'zod';
import { type Condition, condition } from './audience.ts';
import { duration, offset } from './duration.ts';
import { parseScheduleExpression, ScheduleExpressionError } from './schedule-expression.ts';

/**
 * A campaign as a marketer writes it in campaigns/<id>.yaml. Parsing checks every field and names
 * the one that is wrong; a catalog with one bad campaign is refused whole (see catalog.ts).
 */

const eventName = z.string({ error: 'expected an event name like "Order Completed"' }).min(1, {
  error: 'expected an event name like "Order Completed"',
});

const eventNames = z.union([eventName.transform((name) => [name]), z.array(eventName).min(1)], {
  error: 'expected an event name or a list of them, like ["Product Added", "Checkout Started"]',
});

/** Equality on fields of the triggering event, e.g. `{ properties.category: paint }` or `{ to: gold }`. */
const where = z.record(
  z.string(),
  z.union([
    z.union([z.string(), z.number(), z.boolean()]),
    z.strictObject({ in: z.array(z.union([z.string(), z.number(), z.boolean()])).min(1) }),
  ]),
  { error: 'expected a mapping of event fields to values, like { properties.category: paint }' },
);

export type Where = z.output<typeof where>;

const scheduleTrigger = z.strictObject({
  kind: z.literal('schedule'),
  expression: z
    .string({ error: 'expected a schedule like "cron(0 9 ? * MON *)"' })
    .superRefine((text, ctx) => {
      try {
        parseScheduleExpression(text);
      } catch (error) {
        if (!(error instanceof ScheduleExpressionError)) throw error;
        ctx.addIssue({ code: 'custom', message: error.message });
      }
    }),
});

const eventTrigger = z.strictObject({
  kind: z.literal('event'),
  event: eventName,
  where: where.optional(),
});

const delayUnlessTrigger = z.strictObject({
  kind: z.literal('delay-unless'),
  on: eventNames,
  where: where.optional(),
  /** How many matching events it takes (with `per`, of the same value of that field). */
  times: z.number().int().min(1, { error: 'expected a whole number of at least 1' }).default(1),
  /** The event field whose value keeps separate timers, e.g. properties.category. */
  per: z
    .string()
    .regex(/^(properties|context)\.[\w.]+$/, {
      error: 'expected an event field like "properties.category"',
    })
    .optional(),
  after: duration,
  unless: eventNames.default([]),
});

export const dateFields = [
  'traits.birthday',
  'traits.createdAt',
  'orders.firstOrderAt',
  'orders.lastOrderAt',
] as const;
export type DateField = (typeof dateFields)[number];

const dateTrigger = z.strictObject({
  kind: z.literal('date'),
  field: z.enum(dateFields, { error: `expected one of ${dateFields.join(', ')}` }),
  /** Before (-3d) or after (30d) the date. */
  offset: offset.default({ text: '0d', millis: 0 }),
  /** yearly: every year on the date (birthdays); once: the date itself (N days after the last order). */
  repeat: z.enum(['yearly', 'once'], { error: 'expected yearly or once' }),
  /** The time of day, UTC, at which the day's mail is prepared; quiet hours still apply. */
  at: z
    .string()
    .regex(/^([01]\d|2[0-3]):[0-5]\d$/, { error: 'expected a time of day like "09:00"' })
    .default('09:00'),
});

export const trigger = z.discriminatedUnion(
  'kind',
  [scheduleTrigger, eventTrigger, delayUnlessTrigger, dateTrigger],
  {
    error: 'expected a trigger with kind: schedule, event, delay-unless or date',
  },
);

export type Trigger = z.output<typeof trigger>;

const decimal = (example: string) =>
  z.string({ error: `expected a decimal string like "${example}"` }).regex(/^\d+(\.\d+)?$/, {
    error: `expected a decimal string like "${example}"`,
  });

const templateName = z
  .string({ error: 'expected the name of a template in campaigns/templates/, like "cart-recovery"' })
  .regex(/^[a-z0-9][a-z0-9-]*$/, { error: 'expected a template name like "cart-recovery" (a-z, 0-9, -)' });

export const utm = z.strictObject({
  source: z.string().min(1).optional(),
  medium: z.string().min(1).optional(),
  campaign: z.string().min(1).optional(),
  content: z.string().min(1).optional(),
});

export const campaign = z.strictObject({
  id: z.string({ error: 'expected an id like "cart-recovery"' }).regex(/^[a-z0-9][a-z0-9-]{0,62}$/, {
    error: 'expected an id like "cart-recovery" (a-z, 0-9 and -, at most 63 characters)',
  }),
  name: z.string({ error: 'expected a name for people, like "Cart recovery"' }).min(1),
  enabled: z.boolean({ error: 'expected true or false' }).default(true),
  trigger,
  /** Who may receive it; everyone when absent (the guards still apply). */
  audience: condition.optional(),
  message: z.strictObject({
    /** Liquid, like the templates. */
    subject: z.string({ error: 'expected a subject line' }).min(1),
    /** campaigns/templates/<template>.html.liquid and .txt.liquid. */
    template: templateName,
    /** Overrides sending.from in rapport.config.yaml. */
    from: z.string().min(3).optional(),
  }),
  reentry: z
    .union([z.literal('once'), z.strictObject({ every: duration })], {
      error: 'expected once, or { every: 30d }',
    })
    .default('once'),
  holdout: z
    .number({ error: 'expected a percent from 0 to 100' })
    .min(0, { error: 'expected a percent from 0 to 100' })
    .max(100, { error: 'expected a percent from 0 to 100' })
    .default(0),
  cost: z
    .strictObject({
      currency: z
        .string()
        .regex(/^[A-Z]{3}$/, { error: 'expected a currency code like "USD"' })
        .optional(),
      perSend: decimal('0.001').default('0'),
      fixed: decimal('50').default('0'),
      period: z
        .enum(['day', 'week', 'month', 'year'], { error: 'expected day, week, month or year' })
        .default('month'),
    })
    .prefault({}),
  utm: utm.prefault({}),
  conversionWindow: duration.default({ text: '5d', millis: 5 * 86_400_000 }),
  promo: z
    .strictObject({
      prefix: z
        .string()
        .regex(/^[A-Z0-9]{2,12}$/, { error: 'expected 2 to 12 capital letters or digits, like "VIP"' }),
      length: z
        .number()
        .int()
        .min(6, { error: 'expected a length from 6 to 16' })
        .max(16, {
          error: 'expected a length from 6 to 16',
        })
        .default(8),
      validDays: z.number().int().positive({ error: 'expected a number of days like 14' }).default(14),
    })
    .optional(),
});

export type Campaign = Omit<z.output<typeof campaign>, 'audience'> & { audience?: Condition };
