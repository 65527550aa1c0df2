import { z } from 'zod';
import { parseInstant } from '#shared/collect/time.ts';

/**
 * Incoming events in the Segment HTTP Tracking API format (https://segment.com/docs/connections/spec/),
 * as sent by analytics.js, analytics-node and the other Segment libraries.
 *
 * Every message says what is expected in words a client developer can act on; the field path is put
 * in front of it by the caller (`properties.revenue: expected number`). Unknown top-level fields are
 * dropped; `properties`, `traits` and `context` keep theirs.
 */

export const segmentTypes = ['track', 'identify', 'page', 'screen', 'group', 'alias'] as const;
export type SegmentType = (typeof segmentTypes)[number];

export function isSegmentType(value: unknown): value is SegmentType {
  return typeof value === 'string' && (segmentTypes as readonly string[]).includes(value);
}

export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A missing field reads "required, expected X"; a present one of the wrong kind "expected X". */
function expecting(what: string) {
  return (issue: { input?: unknown }) =>
    issue.input === undefined ? `required, expected ${what}` : `expected ${what}`;
}

/**
 * analytics.js sends `"userId": null` for anonymous visitors, and other clients send null for any field
 * they have no value for. At the top level of an event null means absent.
 */
function withoutNulls(value: unknown): unknown {
  if (!isJsonObject(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== null));
}

// Ids become SQS message attributes, which refuse control characters and the noncharacters U+FFFE and
// U+FFFF, and DynamoDB keys, which must be valid UTF-8 (no unpaired surrogates).
const unsafeCharacter = /[\p{Cc}\p{Cs}\p{Noncharacter_Code_Point}]/u;

/** Segment ids may be strings or numbers; they are kept as strings. */
function identifier(maxLength: number) {
  return z.preprocess(
    (value) => (typeof value === 'number' && Number.isFinite(value) ? String(value) : value),
    z
      .string({ error: expecting('a string or number') })
      .min(1, 'expected a non-empty string or a number')
      .max(maxLength, `expected at most ${maxLength} characters`)
      .refine((text) => !unsafeCharacter.test(text), 'expected printable characters only'),
  );
}

/** Short enough that `e#<messageId>` stays under DynamoDB's 1,024-byte sort key limit in any script. */
const messageId = identifier(200);
const id = identifier(512);

const instant = z
  .string({ error: expecting('an ISO 8601 date string') })
  .refine(
    (text) => parseInstant(text) !== undefined,
    'expected an ISO 8601 date, e.g. 2024-05-01T12:00:00.000Z',
  );

const jsonObject = z.record(z.string(), z.unknown(), { error: expecting('an object') });

// Linear to match (no nested quantifiers), and only tried on short strings: an amount is never long.
const decimalText = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$/;
const maxAmountLength = 40;

/** Segment clients send numbers, but shop plugins often send prices as strings ("69.90"). */
const amount = z.preprocess(
  (value) =>
    typeof value === 'string' && value.length <= maxAmountLength && decimalText.test(value.trim())
      ? Number(value)
      : value,
  z.number({ error: 'expected number' }),
);

const currency = z
  .string({ error: 'expected a 3-letter currency code' })
  .regex(/^[A-Za-z]{3}$/, 'expected a 3-letter currency code, e.g. EUR')
  .transform((code) => code.toUpperCase());

const product = z.looseObject(
  { price: amount.nullish(), quantity: amount.nullish() },
  { error: 'expected an object' },
);

/**
 * Properties are free-form, except the e-commerce spec v2 fields that engagement state and attribution
 * compute with: those must be what the spec says when present. Null stays null (no value).
 */
const properties = z.looseObject(
  {
    revenue: amount.nullish(),
    total: amount.nullish(),
    price: amount.nullish(),
    value: amount.nullish(),
    quantity: amount.nullish(),
    discount: amount.nullish(),
    shipping: amount.nullish(),
    tax: amount.nullish(),
    currency: currency.nullish(),
    products: z.array(product, { error: 'expected an array of objects' }).nullish(),
  },
  { error: expecting('an object') },
);

const text = z.string({ error: 'expected string' }).nullish();

/** UTM parameters as analytics.js reads them from the landing URL (utm_campaign becomes `name`). */
const campaign = z.looseObject(
  { source: text, medium: text, name: text, term: text, content: text },
  { error: 'expected an object' },
);

const page = z.looseObject(
  { path: text, referrer: text, search: text, title: text, url: text },
  { error: 'expected an object' },
);

export const segmentContext = z.looseObject(
  { campaign: campaign.nullish(), page: page.nullish() },
  { error: 'expected an object' },
);

const common = {
  messageId: messageId.optional(),
  userId: id.optional(),
  anonymousId: id.optional(),
  /** When the event happened, by the client's clock. */
  timestamp: instant.optional(),
  /** The client's timestamp under its Segment name, as found in exported or replayed events. */
  originalTimestamp: instant.optional(),
  /** When the client sent the request, by the same clock: the other half of the skew correction. */
  sentAt: instant.optional(),
  context: segmentContext.optional(),
  integrations: jsonObject.optional(),
  properties: properties.optional(),
  traits: jsonObject.optional(),
};

function hasIdentity(event: unknown): boolean {
  return isJsonObject(event) && (event.userId !== undefined || event.anonymousId !== undefined);
}

/**
 * Every event but alias belongs to someone, known or anonymous. The rule also runs when a field has
 * already failed (`when`), so that a client sees all its mistakes at once.
 */
function identified<Shape extends z.ZodRawShape>(shape: Shape) {
  return z.preprocess(
    withoutNulls,
    z
      .object(shape)
      .refine(hasIdentity, { message: 'userId or anonymousId: one is required', when: () => true }),
  );
}

export const trackEvent = identified({
  ...common,
  type: z.literal('track'),
  event: z.string({ error: expecting('a non-empty string') }).min(1, 'expected a non-empty string'),
});

export const identifyEvent = identified({ ...common, type: z.literal('identify') });

export const pageEvent = identified({
  ...common,
  type: z.literal('page'),
  name: z.string({ error: 'expected string' }).optional(),
});

export const screenEvent = identified({
  ...common,
  type: z.literal('screen'),
  name: z.string({ error: 'expected string' }).optional(),
});

export const groupEvent = identified({ ...common, type: z.literal('group'), groupId: id });

/** Alias tells that `previousId` (often an anonymousId) and `userId` are the same person. */
export const aliasEvent = z.preprocess(
  withoutNulls,
  z.object({ ...common, type: z.literal('alias'), userId: id, previousId: id }),
);

export const segmentEventSchemas = {
  track: trackEvent,
  identify: identifyEvent,
  page: pageEvent,
  screen: screenEvent,
  group: groupEvent,
  alias: aliasEvent,
} as const;

export type TrackEvent = z.output<typeof trackEvent>;
export type IdentifyEvent = z.output<typeof identifyEvent>;
export type PageEvent = z.output<typeof pageEvent>;
export type ScreenEvent = z.output<typeof screenEvent>;
export type GroupEvent = z.output<typeof groupEvent>;
export type AliasEvent = z.output<typeof aliasEvent>;
export type SegmentEvent = TrackEvent | IdentifyEvent | PageEvent | ScreenEvent | GroupEvent | AliasEvent;

/**
 * The body of POST /v1/batch. Its context and integrations apply to every event in it (an event's own
 * values win); its sentAt stands in for events that carry none.
 */
export const segmentBatch = z.preprocess(
  withoutNulls,
  z.object({
    batch: z
      .array(z.unknown(), { error: expecting('an array of events') })
      .min(1, 'expected at least one event'),
    context: segmentContext.optional(),
    integrations: jsonObject.optional(),
    writeKey: z.string({ error: 'expected string' }).optional(),
    sentAt: instant.optional(),
  }),
);

export type SegmentBatch = z.output<typeof segmentBatch>;
