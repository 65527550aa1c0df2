import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { IngestEvent } from '#events/ingest-event.ts';
import { maxCartItems } from '#shared/engagement/cart.ts';
import { maxProductIds } from '#shared/engagement/orders.ts';
import { defaultEngagementSettings } from '#shared/engagement/settings.ts';
import {
  compareEvents,
  type EngagementState,
  emptyState,
  foldEvent,
  foldEvents,
  maxAnonymousIds,
} from '#shared/engagement/state.ts';
import { maxTraitKeyLength, maxTraits, maxTraitTextLength } from '#shared/engagement/traits.ts';
import { viewCustomer } from '#shared/engagement/view.ts';
import { delivered } from './arbitraries.ts';
import { minutesAfterStart as at, identify, page, track } from './events.ts';
import { stored } from './stored.ts';

/**
 * The state is one DynamoDB item of at most 400 KB, so every list in it that grows with the
 * customer's history has a cap, and the cap must keep the same entries however the events arrive.
 */
const settings = defaultEngagementSettings;

function stateOf(events: Iterable<IngestEvent>): EngagementState {
  return foldEvents('u1', events, settings);
}

function foldIncrementally(events: readonly IngestEvent[]): EngagementState {
  return [...events]
    .sort(compareEvents)
    .reduce((state, event) => stored(foldEvent(state, event, settings)), emptyState('u1'));
}

const range = (count: number) => Array.from({ length: count }, (_, index) => index);
const padded = (prefix: string, index: number) => `${prefix}${String(index).padStart(4, '0')}`;

/**
 * Bytes DynamoDB counts for a value: UTF-8 text, numbers at one byte per two significant digits plus
 * one, and lists and maps at 3 bytes plus, per element, one byte and the key's bytes
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html).
 */
function dynamoBytes(value: unknown): number {
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8');
  if (typeof value === 'number') return 1 + Math.ceil(significantDigits(value) / 2);
  if (typeof value === 'boolean' || value === null) return 1;
  if (Array.isArray(value)) return 3 + value.reduce((sum: number, item) => sum + 1 + dynamoBytes(item), 0);
  if (typeof value === 'object') {
    return (
      3 +
      Object.entries(value).reduce(
        (sum, [key, item]) => sum + 1 + Buffer.byteLength(key, 'utf8') + dynamoBytes(item),
        0,
      )
    );
  }
  return 0;
}

function significantDigits(value: number): number {
  const mantissa = Math.abs(value).toExponential().split('e')[0] ?? '';
  return Math.max(1, mantissa.replace('.', '').replace(/0+$/, '').length);
}

describe('anonymous ids', () => {
  test(`at most ${maxAnonymousIds} are kept: the ones seen most recently`, () => {
    const visits = range(60).map((index) =>
      page(at(index), {}, { anonymousId: padded('anon-', 59 - index) }),
    );
    const state = stateOf(visits);
    expect(state.anonymousIds).toHaveLength(maxAnonymousIds);
    // anon-0059 came first and anon-0000 last: the ten seen first are the ones dropped.
    expect(state.anonymousIds).toEqual(range(50).map((index) => padded('anon-', 49 - index)));
    expect(viewCustomer(state, new Date(at(60)), settings).anonymousIds).toEqual(
      range(50).map((index) => padded('anon-', index)),
    );
  });

  test('an id seen again counts as recent, and the latest event’s id is always kept', () => {
    const visits = range(60).map((index) => page(at(index), {}, { anonymousId: padded('anon-', index) }));
    const again = page(at(100), {}, { anonymousId: 'anon-0000' });
    const state = stateOf([...visits, again]);
    expect(state.anonymousIds.at(-1)).toBe('anon-0000');
    expect(state.anonymousIds).not.toContain('anon-0010');
    expect(state.anonymousIds).toContain('anon-0011');
    expect(state.anonymousIds).toHaveLength(maxAnonymousIds);
  });

  test('events of the same device leave the list as it is', () => {
    const first = stateOf([page(at(0), {}, { anonymousId: 'a' })]);
    const next = foldEvent(first, page(at(1), {}, { anonymousId: 'a' }), settings);
    expect(next.anonymousIds).toBe(first.anonymousIds);
  });
});

describe('products bought', () => {
  function order(minutes: number, orderId: string, productIds: string[]): IngestEvent {
    return track('Order Completed', at(minutes), {
      order_id: orderId,
      revenue: 1,
      products: productIds.map((product_id) => ({ product_id })),
    });
  }

  test(`at most ${maxProductIds} are kept: the ones bought most recently`, () => {
    const orders = range(11).map((batch) =>
      order(
        batch,
        `o${batch}`,
        range(100).map((index) => padded('p-', batch * 100 + index)),
      ),
    );
    const state = stateOf(orders);
    expect(state.orders.productIds).toHaveLength(maxProductIds);
    expect(state.orders.productIds[0]).toBe('p-0100');
    expect(state.orders.productIds.at(-1)).toBe('p-1099');
    expect(state.orders.count).toBe(11);
  });

  test('a product bought again counts as recent; the view lists them sorted', () => {
    const orders = [
      order(0, 'o1', ['b', 'a']),
      order(
        1,
        'o2',
        range(998).map((index) => padded('p-', index)),
      ),
      order(2, 'o3', ['b', 'p-0005', 'z']),
    ];
    const state = stateOf(orders);
    expect(state.orders.productIds).toHaveLength(maxProductIds);
    expect(state.orders.productIds).not.toContain('a');
    expect(state.orders.productIds.slice(-3)).toEqual(['b', 'p-0005', 'z']);
    const view = viewCustomer(state, new Date(at(3)), settings);
    expect(view.orders.productIds).toEqual([...view.orders.productIds].sort());
    expect(view.orders.productIds[0]).toBe('b');
  });
});

describe('cart items', () => {
  const add = (minutes: number, productId: string, price = 1) =>
    track('Product Added', at(minutes), { product_id: productId, price });

  test(`adding a product to a cart of ${maxCartItems} drops the one added longest ago`, () => {
    const adds = range(maxCartItems).map((index) => add(index, padded('c-', index)));
    const full = stateOf(adds).cart;
    expect(full.items).toHaveLength(maxCartItems);
    const more = stateOf([...adds, add(200, 'c-new', 5)]).cart;
    expect(more.items).toHaveLength(maxCartItems);
    expect(more.items[0]?.productId).toBe('c-0001');
    expect(more.items.at(-1)?.productId).toBe('c-new');
    expect(more.value).toBe(99 * 100 + 500);
  });

  test('adding more of a product in the cart drops nothing and keeps its place', () => {
    const adds = range(maxCartItems).map((index) => add(index, padded('c-', index)));
    const cart = stateOf([...adds, add(200, 'c-0000')]).cart;
    expect(cart.items).toHaveLength(maxCartItems);
    expect(cart.items[0]).toMatchObject({ productId: 'c-0000', quantity: 2 });
  });

  test('a cart view that lists more products keeps the last ones listed', () => {
    const products = range(120).map((index) => ({ product_id: padded('c-', index), price: 1 }));
    const cart = stateOf([track('Cart Viewed', at(0), { products })]).cart;
    expect(cart.items).toHaveLength(maxCartItems);
    expect(cart.items[0]?.productId).toBe('c-0020');
    expect(cart.value).toBe(maxCartItems * 100);
  });
});

describe('traits', () => {
  test(`text is cut to ${maxTraitTextLength} characters, at any depth, never inside a character`, () => {
    const long = 'x'.repeat(maxTraitTextLength + 500);
    const emoji = `${'x'.repeat(maxTraitTextLength - 1)}😀tail`;
    const traits = stateOf([
      identify(at(0), { bio: long, nested: { notes: [long] }, emoji, short: 'ok' }),
    ]).traits;
    expect(traits.bio).toBe('x'.repeat(maxTraitTextLength));
    expect(traits.nested).toEqual({ notes: ['x'.repeat(maxTraitTextLength)] });
    expect(traits.emoji).toBe('x'.repeat(maxTraitTextLength - 1));
    expect(traits.short).toBe('ok');
  });

  test(`names longer than ${maxTraitKeyLength} characters are dropped, at any depth`, () => {
    const longest = 'k'.repeat(maxTraitKeyLength);
    const tooLong = 'k'.repeat(maxTraitKeyLength + 1);
    const traits = stateOf([
      identify(at(0), { [longest]: 1, [tooLong]: 2, nested: { [tooLong]: 3, ok: 4 } }),
      page(at(1), { traits: { [`${tooLong}x`]: 5 } }),
    ]).traits;
    expect(traits).toStrictEqual({ [longest]: 1, nested: { ok: 4 } });
  });

  const keys = (prefix: string, count: number, value: unknown = 1) =>
    Object.fromEntries(range(count).map((index) => [padded(prefix, index), value]));

  test(`at most ${maxTraits} are kept: what identify tells first, then what is held, then context copies`, () => {
    const traits = stateOf([
      identify(at(0), keys('held-', 150)),
      page(at(1), { traits: keys('context-', 100) }),
    ]).traits;
    expect(Object.keys(traits)).toHaveLength(maxTraits);
    expect(traits['held-0149']).toBe(1);
    expect(traits['context-0049']).toBe(1);
    expect(traits).not.toHaveProperty('context-0050');

    const told = stateOf([
      identify(at(0), keys('held-', 150)),
      page(at(1), { traits: keys('context-', 100) }),
      identify(at(2), { ...keys('new-', 60), 'held-0000': 'changed' }),
    ]).traits;
    expect(Object.keys(told)).toHaveLength(maxTraits);
    expect(told['new-0059']).toBe(1);
    expect(told['held-0000']).toBe('changed');
    // The 61 told stay; of the 199 others held, the first 139 in code-unit order ("context-" sorts
    // before "held-") stay and the last 60 go.
    expect(told).toHaveProperty('context-0049');
    expect(told).toHaveProperty('held-0089');
    expect(told).not.toHaveProperty('held-0090');
  });

  test('which traits are kept does not depend on the order of the stored map’s keys', () => {
    const events = [
      identify(at(0), keys('a-', 120)),
      page(at(1), { traits: keys('b-', 120) }),
      identify(at(2), keys('c-', 30)),
    ];
    const truth = stateOf(events);
    expect(Object.keys(truth.traits)).toHaveLength(maxTraits);
    expect(foldIncrementally(events)).toStrictEqual(truth);
  });
});

describe('order ledger', () => {
  test('an entry is the order id, what is left of it after refunds, and its currency', () => {
    const orders = stateOf([
      track('Order Completed', at(0), { order_id: 'o2', revenue: '25.00', currency: 'EUR' }),
      track('Order Completed', at(1), { order_id: 'o1', revenue: '10.00' }),
      track('Order Refunded', at(2), { order_id: 'o2', total: '5.00' }),
    ]).orders;
    expect(orders.ledger).toStrictEqual([
      ['o1', 1000, 'USD'],
      ['o2', 2000, 'EUR'],
    ]);
  });

  test('a ledger stored as objects, before entries became tuples, still knows its orders', () => {
    const order = track('Order Completed', at(0), { order_id: 'o1', revenue: '100.00' });
    const refund = track('Order Refunded', at(1), { order_id: 'o1', total: '30.00' });
    const resent = { ...order, messageId: 'resent', timestamp: at(2) };
    const refundAgain = track('Order Refunded', at(3), { order_id: 'o1', total: '50.00' });
    const current = stateOf([order, refund]);
    const legacy: EngagementState = {
      ...current,
      orders: {
        ...current.orders,
        ledger: [
          { orderId: 'o1', amount: 10000, currency: 'USD', refunded: 3000, placedAt: at(0) },
        ] as unknown as EngagementState['orders']['ledger'],
      },
    };
    const folded = [resent, refundAgain].reduce((state, event) => foldEvent(state, event, settings), legacy);
    expect(folded).toStrictEqual(stateOf([order, refund, resent, refundAgain]));
    expect(folded.orders).toMatchObject({ count: 1, revenue: { USD: 2000 }, ledger: [['o1', 2000, 'USD']] });
  });

  test.each([
    ['13-digit ids such as Shopify’s', 11_800, (index: number) => String(5_432_109_876_543 + index * 7919)],
    ['8-character ids', 14_600, (index: number) => `o-${String(index).padStart(6, '0')}`],
    ['UUIDs', 6_200, () => randomUUID()],
  ])('300 KB of ledger holds %s: some %i orders', (_shape, atLeast, idOf) => {
    const orders = range(1000).map((index) =>
      track('Order Completed', at(index), { order_id: idOf(index), revenue: '49.99' }),
    );
    const ledger = stateOf(orders).orders.ledger;
    const bytesPerOrder = (dynamoBytes(ledger) - dynamoBytes([])) / ledger.length;
    const fits = Math.floor((300 * 1024) / bytesPerOrder);
    expect(fits).toBeGreaterThanOrEqual(atLeast);
    expect(fits).toBeLessThan(atLeast + 100);
  });
});

describe('a customer at every cap', () => {
  test('fits one DynamoDB item with room for the ledger', () => {
    const id = (prefix: string, index: number) => `${prefix}-${index}-${'0'.repeat(30)}`.slice(0, 36);
    const name = (index: number) => `A product with a name ${index}`.padEnd(40, '.');
    const events: IngestEvent[] = [
      ...range(60).map((index) => page(at(index), {}, { anonymousId: id('anon', index) })),
      ...range(11).map((batch) =>
        track('Order Completed', at(100 + batch), {
          order_id: `o${batch}`,
          revenue: '49.99',
          products: range(100).map((index) => ({
            product_id: id('bought', batch * 100 + index),
            name: name(index),
            category: `Category ${index % 20}`,
          })),
        }),
      ),
      ...range(300).map((index) =>
        track('Product Viewed', at(200 + index), { product_id: id('viewed', index), name: name(index) }),
      ),
      ...range(120).map((index) =>
        track('Product Added', at(600 + index), {
          product_id: id('cart', index),
          name: name(index),
          price: 9.99,
        }),
      ),
      identify(at(800), {
        email: 'ada@example.com',
        ...Object.fromEntries(
          range(250).map((index) => [`trait_${index}`, 'a value of some fifty characters, as traits go...']),
        ),
      }),
    ];
    const state = stateOf(events);
    expect(state.anonymousIds).toHaveLength(maxAnonymousIds);
    expect(state.orders.productIds).toHaveLength(maxProductIds);
    expect(state.cart.items).toHaveLength(maxCartItems);
    expect(Object.keys(state.traits)).toHaveLength(maxTraits);
    const withoutLedger = dynamoBytes({ ...state, orders: { ...state.orders, ledger: [] } });
    expect(withoutLedger).toBeLessThan(100 * 1024);
  });
});

/**
 * Histories that go past every cap: many devices, orders of many products (neighbouring orders share
 * some, and a few orders are resent), a long run of cart adds after the last order, and many traits,
 * some too long, told by identify calls and by context copies.
 */
const cappedHistory: fc.Arbitrary<IngestEvent[]> = fc
  .record({
    visits: fc.array(fc.record({ anon: fc.nat(99), minute: fc.nat(900) }), {
      minLength: 100,
      maxLength: 130,
    }),
    orders: fc.array(
      fc.record({
        count: fc.integer({ min: 80, max: 110 }),
        minute: fc.nat(600),
        resends: fc.oneof(
          { weight: 5, arbitrary: fc.constant(undefined) },
          { weight: 1, arbitrary: fc.nat(4) },
        ),
      }),
      { minLength: 14, maxLength: 20 },
    ),
    adds: fc.array(
      fc.record({ product: fc.nat(299), minute: fc.integer({ min: 601, max: 900 }), remove: fc.boolean() }),
      {
        minLength: 150,
        maxLength: 200,
      },
    ),
    identifies: fc.array(
      fc.record({
        keys: fc.array(fc.nat(299), { minLength: 40, maxLength: 60 }),
        length: fc.constantFrom(1, 50, maxTraitTextLength, maxTraitTextLength + 10),
        longKey: fc.boolean(),
        context: fc.boolean(),
        minute: fc.nat(900),
      }),
      { minLength: 8, maxLength: 12 },
    ),
  })
  .map(({ visits, orders, adds, identifies }) => {
    const drafts: IngestEvent[] = [
      ...visits.map(({ anon, minute }) => page(at(minute), {}, { anonymousId: padded('anon-', anon) })),
      ...orders.map(({ count, minute, resends }, index) =>
        track('Order Completed', at(minute), {
          order_id: `o${resends ?? index}`,
          revenue: 5,
          products: range(count).map((line) => ({ product_id: padded('p-', index * 75 + line) })),
        }),
      ),
      ...adds.map(({ product, minute, remove }) =>
        track(remove && product % 10 === 0 ? 'Product Removed' : 'Product Added', at(minute), {
          product_id: padded('c-', product),
          price: 1,
        }),
      ),
      ...identifies.map(({ keys, length, longKey, context, minute }) => {
        const traits = Object.fromEntries([
          ...keys.map((index) => [padded('k-', index), `${index}`.padEnd(length, '.')]),
          ...(longKey ? [['k'.repeat(maxTraitKeyLength + 1), 'long']] : []),
        ]);
        return context ? page(at(minute), { traits }) : identify(at(minute), traits);
      }),
    ];
    return drafts.map((draft, index): IngestEvent => ({ ...draft, messageId: padded('msg-', index) }));
  });

/** Folds the events one by one in order, storing and reading back the state after every fifth. */
function foldStoringNowAndThen(events: readonly IngestEvent[]): EngagementState {
  return [...events].sort(compareEvents).reduce((state, event, index) => {
    const next = foldEvent(state, event, settings);
    return index % 5 === 0 ? stored(next) : next;
  }, emptyState('u1'));
}

describe('capped state does not depend on delivery', () => {
  test('any order and duplication of the same events, or folding them one by one, give the same state', () => {
    const reached = { anonymousIds: 0, productIds: 0, cartItems: 0, traits: 0 };
    fc.assert(
      fc.property(
        cappedHistory.chain((events) => fc.tuple(fc.constant(events), delivered(events))),
        ([events, redelivered]) => {
          const truth = stateOf(events);
          const sizes = {
            anonymousIds: [truth.anonymousIds.length, maxAnonymousIds],
            productIds: [truth.orders.productIds.length, maxProductIds],
            cartItems: [truth.cart.items.length, maxCartItems],
            traits: [Object.keys(truth.traits).length, maxTraits],
          } as const;
          for (const [name, [size, cap]] of Object.entries(sizes)) {
            expect(size).toBeLessThanOrEqual(cap);
            if (size === cap) reached[name as keyof typeof reached] += 1;
          }
          expect(stateOf(redelivered)).toStrictEqual(truth);
          expect(stateOf([...events].reverse())).toStrictEqual(truth);
          expect(foldStoringNowAndThen(events)).toStrictEqual(truth);
        },
      ),
      { numRuns: 10 },
    );
    // The histories do go past the caps, or this would prove nothing about them.
    for (const count of Object.values(reached)) expect(count).toBeGreaterThan(0);
  }, 30_000);
});
