import fc from 'fast-check';
import type { IngestEvent } from '#events/ingest-event.ts';

/**
 * Generators of realistic event histories for one customer: a small shop's catalog, a few order ids
 * that repeat (so that resent orders and refunds of known and unknown orders happen), a few days of
 * time with many events in the same minute or millisecond, and some properties of the wrong type.
 */
const start = Date.UTC(2025, 2, 1, 8, 0, 0);
const site = 'https://shop.example';

const catalog = [
  { product_id: 'shoe-1', sku: 'SH-1', name: 'Trail Shoe', category: 'Shoes', price: 69.9 },
  { product_id: 'shoe-2', sku: 'SH-2', name: 'Road Shoe', category: 'Shoes', price: '89.00' },
  { product_id: 'sock-1', sku: 'SO-1', name: 'Wool Sock', category: 'Socks', price: 12.5 },
  { product_id: 'hat-1', sku: 'HA-1', name: 'Sun Hat', category: 'Hats', price: 19.99 },
  { product_id: 'bag-1', sku: 'BA-1', name: 'Day Pack', category: 'Bags', price: '49.95' },
  { product_id: 42, name: 'Numeric Id', category: 'Misc', price: 5 },
];

const orderIds = ['o-100', 'o-101', 'o-102', 'o-103', 1042];

/**
 * A time within three days: often on a whole minute, or within one busy hour, so that events share
 * timestamps and sessions start and end.
 */
const millis = fc.oneof(
  fc.integer({ min: 0, max: 3 * 24 * 60 }).map((minute) => start + minute * 60_000),
  fc.integer({ min: 0, max: 60 }).map((minute) => start + minute * 60_000),
  fc.integer({ min: 0, max: 60 * 60_000 }).map((offset) => start + offset),
  fc.integer({ min: 0, max: 3 * 24 * 60 * 60_000 }).map((offset) => start + offset),
);

/** The same instant written in UTC or with an offset, as different clients send it. */
function written(at: number, offsetMinutes: number): string {
  if (offsetMinutes === 0) return new Date(at).toISOString();
  const local = new Date(at + offsetMinutes * 60_000).toISOString().slice(0, -1);
  const sign = offsetMinutes > 0 ? '+' : '-';
  const hours = String(Math.floor(Math.abs(offsetMinutes) / 60)).padStart(2, '0');
  const minutes = String(Math.abs(offsetMinutes) % 60).padStart(2, '0');
  return `${local}${sign}${hours}:${minutes}`;
}

const offsetMinutes = fc.constantFrom(0, 0, 0, 120, -300, 330);
const product = fc.constantFrom(...catalog);
const currency = fc.constantFrom(undefined, undefined, undefined, 'USD', 'usd', 'EUR', 'JPY', 7);
const quantity = fc.constantFrom(undefined, 1, 2, 3, '2', 0, -1, 'many');

/** Properties that sometimes carry a wrongly typed field the fold must ignore. */
function withJunk(properties: Record<string, unknown>): fc.Arbitrary<Record<string, unknown>> {
  return fc.oneof(
    { weight: 8, arbitrary: fc.constant(properties) },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom('price', 'product_id', 'revenue', 'total', 'products', 'category', 'order_id')
        .chain((key) =>
          fc
            .constantFrom<unknown>(null, 'abc', -5, {}, [1, 2], true)
            .map((junk) => ({ ...properties, [key]: junk })),
        ),
    },
  );
}

const productLine = fc
  .record({ product: product, quantity, withSku: fc.boolean() })
  .map(({ product: { product_id, sku, ...rest }, quantity: count, withSku }) => ({
    ...(withSku && sku !== undefined ? { sku } : { product_id }),
    ...rest,
    ...(count === undefined ? {} : { quantity: count }),
  }));

const productEvent = fc
  .record({
    name: fc.constantFrom(
      'Product Viewed',
      'Product Viewed',
      'Product Added',
      'Product Added',
      'Product Removed',
    ),
    line: productLine,
    currency,
  })
  .chain(({ name, line, currency: code }) =>
    withJunk({ ...line, ...(code === undefined ? {} : { currency: code }) }).map((properties) => ({
      name,
      properties,
    })),
  );

const cartSnapshot = fc
  .record({
    name: fc.constantFrom('Cart Viewed', 'Checkout Started'),
    products: fc.option(fc.array(productLine, { maxLength: 4 }), { nil: undefined }),
    currency,
  })
  .map(({ name, products, currency: code }) => ({
    name,
    properties: {
      ...(products === undefined ? {} : { products }),
      ...(code === undefined ? {} : { currency: code }),
    },
  }));

const amount = fc.constantFrom<unknown>(undefined, 10, 99.99, '250.00', '0.10', '1999.99', '-20.00', 'n/a');

const orderEvent = fc
  .record({
    order_id: fc.option(fc.constantFrom(...orderIds), { nil: undefined, freq: 10 }),
    revenue: amount,
    total: amount,
    products: fc.option(fc.array(productLine, { minLength: 1, maxLength: 3 }), { nil: undefined }),
    currency,
  })
  .chain((order) =>
    withJunk(definedOnly(order)).map((properties) => ({ name: 'Order Completed', properties })),
  );

const refundEvent = fc
  .record({ order_id: fc.constantFrom(...orderIds, 'o-unknown'), total: amount, revenue: amount, currency })
  .map((refund) => ({ name: 'Order Refunded', properties: definedOnly(refund) }));

const emailEvent = fc
  .constantFrom(
    'Email Delivered',
    'Email Delivered',
    'Email Opened',
    'Email Opened',
    'Email Opened',
    'Email Link Clicked',
    'Email Bounced',
    'Email Marked as Spam',
    'Unsubscribed',
  )
  .map((name) => ({ name, properties: { email_id: 'e-1', campaign_id: 'spring' } }));

const otherTrack = fc.constantFrom(
  { name: 'Coupon Applied', properties: { coupon_id: 'SPRING10' } },
  { name: 'Signed Up', properties: {} },
);

const trackCall = fc.oneof(
  { weight: 5, arbitrary: productEvent },
  { weight: 2, arbitrary: cartSnapshot },
  { weight: 3, arbitrary: orderEvent },
  { weight: 2, arbitrary: refundEvent },
  { weight: 4, arbitrary: emailEvent },
  { weight: 1, arbitrary: otherTrack },
);

const referrer = fc.constantFrom(
  undefined,
  '',
  'https://www.google.com/search?q=shoes',
  'https://l.facebook.com/',
  'https://t.co/x',
  'https://runnersblog.example/best',
  `${site}/shoes`,
  'not a url',
);

const campaign = fc.constantFrom(
  undefined,
  undefined,
  undefined,
  { source: 'newsletter', medium: 'email', name: 'spring' },
  { source: 'Banner', medium: 'Display', name: 'Summer', term: 'shoes', content: 'top' },
  { medium: 'cpc' },
);

const pageContext = fc
  .record({
    path: fc.constantFrom('/', '/shoes', '/cart', '/shoes?utm_source=partner&utm_medium=affiliate'),
    referrer,
    campaign,
    traits: fc.option(
      fc.record({ plan: fc.constantFrom('free', 'pro'), city: fc.constantFrom('Oslo', 'Bergen') }),
      {
        nil: undefined,
      },
    ),
  })
  .map(({ path, referrer: from, campaign: utm, traits }) => ({
    page: definedOnly({ url: `${site}${path}`, path, referrer: from, title: 'Shop' }),
    ...definedOnly({ campaign: utm, traits }),
  }));

const identifyTraits = fc.record(
  {
    subscribed: fc.constantFrom<unknown>(true, false, 'yes'),
    name: fc.constantFrom('Ada', 'Grace'),
    plan: fc.constantFrom('free', 'pro', null),
    score: fc.constantFrom<unknown>(1, 2.5, Number.NaN, undefined),
  },
  { requiredKeys: [] },
);

type Call = Pick<IngestEvent, 'type' | 'event' | 'name' | 'properties' | 'traits' | 'context'>;

const call: fc.Arbitrary<Call> = fc.oneof(
  {
    weight: 6,
    arbitrary: trackCall.map(({ name, properties }): Call => ({ type: 'track', event: name, properties })),
  },
  {
    weight: 4,
    arbitrary: fc
      .record({
        type: fc.constantFrom<'page' | 'screen'>('page', 'page', 'page', 'screen'),
        context: pageContext,
      })
      .map(({ type, context }): Call => ({ type, name: 'Shop', properties: {}, context })),
  },
  {
    weight: 1,
    arbitrary: identifyTraits.map((traits): Call => ({ type: 'identify', traits, context: {} })),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom<Call>({ type: 'alias' }, { type: 'group', traits: { name: 'Acme' } }),
  },
);

/** One customer's events, each with its own messageId. */
export const history: fc.Arbitrary<IngestEvent[]> = fc
  .array(
    fc.record({
      call,
      at: millis,
      offset: offsetMinutes,
      anonymousId: fc.constantFrom(undefined, undefined, 'anon-a', 'anon-b'),
    }),
    { maxLength: 80, size: 'medium' },
  )
  .map((drafts) =>
    drafts.map(
      ({ call: draft, at, offset, anonymousId }, index): IngestEvent => ({
        messageId: `msg-${String(index).padStart(3, '0')}`,
        userId: 'u1',
        ...definedOnly({ anonymousId }),
        ...draft,
        timestamp: written(at, offset),
        receivedAt: new Date(at).toISOString(),
        source: 'shop',
      }),
    ),
  );

/**
 * The same history as a queue delivers it: in any order, with some events delivered twice and some
 * retried by their client with a later timestamp under the same messageId.
 */
export function delivered(events: IngestEvent[]): fc.Arbitrary<IngestEvent[]> {
  if (events.length === 0) return fc.constant([]);
  const copy = fc.record({
    index: fc.nat({ max: events.length - 1 }),
    retryDelayMillis: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 5_000 })),
  });
  return fc.array(copy, { maxLength: events.length }).chain((copies) => {
    const extra = copies.flatMap(({ index, retryDelayMillis }) => {
      const original = events[index];
      if (original === undefined) return [];
      const at = Date.parse(original.timestamp) + retryDelayMillis;
      return [{ ...original, timestamp: new Date(at).toISOString() }];
    });
    const all = [...events, ...extra];
    return fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length });
  });
}

function definedOnly<T extends Record<string, unknown>>(record: T): Partial<T> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined)) as Partial<T>;
}
