import { describe, expect, test } from 'vitest';
import { defaultEngagementSettings } from '#shared/engagement/settings.ts';
import { foldEvents } from '#shared/engagement/state.ts';
import { daysAfterStart as day, track } from './events.ts';

const settings = defaultEngagementSettings;

function stateOf(events: Parameters<typeof foldEvents>[1], custom = settings) {
  return foldEvents('u1', events, custom);
}

describe('orders', () => {
  test('an order counts once per order_id, whatever its messageId', () => {
    const orders = stateOf([
      track('Order Completed', day(0), { order_id: 'o1', revenue: 69.9, products: [{ product_id: 'b' }] }),
      track('Order Completed', day(1), { order_id: 'o1', revenue: 69.9, products: [{ product_id: 'b' }] }),
      track('Order Completed', day(2), {
        order_id: 2,
        total: '10',
        products: [{ product_id: 'a' }, { sku: 'b' }],
      }),
    ]).orders;
    expect(orders).toMatchObject({
      count: 2,
      revenue: { USD: 7990 },
      firstOrderAt: day(0),
      lastOrderAt: day(2),
      productIds: ['a', 'b'],
    });
  });

  test('revenue is revenue, else total, else the sum of the products', () => {
    const orders = stateOf([
      track('Order Completed', day(0), { order_id: 'a', revenue: '10.00', total: '12.00' }),
      track('Order Completed', day(0), { order_id: 'b', revenue: 'n/a', total: '12.00' }),
      track('Order Completed', day(0), {
        order_id: 'c',
        products: [
          { product_id: 'p', price: '2.50', quantity: 2 },
          { product_id: 'q', price: 0.1 },
          { product_id: 'r' },
        ],
      }),
    ]).orders;
    expect(orders.ledger.map(([orderId, net]) => [orderId, net])).toEqual([
      ['a', 1000],
      ['b', 1200],
      ['c', 510],
    ]);
  });

  test('revenue is kept per currency', () => {
    const orders = stateOf([
      track('Order Completed', day(0), { order_id: 'a', revenue: 10, currency: 'eur' }),
      track('Order Completed', day(1), { order_id: 'b', revenue: 1500, currency: 'JPY' }),
      track('Order Completed', day(2), { order_id: 'c', revenue: 5 }),
      track('Order Completed', day(3), { order_id: 'd', revenue: 2.5, currency: 'EUR' }),
    ]).orders;
    expect(orders.revenue).toEqual({ EUR: 1250, JPY: 1500, USD: 500 });
  });

  test('an order without an order_id still counts, once per message', () => {
    const order = track('Order Completed', day(0), { revenue: 3 });
    expect(stateOf([order, order]).orders).toMatchObject({ count: 1, revenue: { USD: 300 } });
  });

  describe('refunds', () => {
    const order = track('Order Completed', day(0), { order_id: 'o1', revenue: '100.00' });

    test('a refund takes back its total, and never more than what is left of the order', () => {
      const orders = stateOf([
        order,
        track('Order Refunded', day(1), { order_id: 'o1', total: 30 }),
        track('Order Refunded', day(2), { order_id: 'o1', revenue: '-50.00' }),
        track('Order Refunded', day(3), { order_id: 'o1', total: 40 }),
      ]).orders;
      expect(orders.revenue).toEqual({ USD: 0 });
      expect(orders.ledger).toEqual([['o1', 0, 'USD']]);
      expect(orders.count).toBe(1);
    });

    test('a refund without an amount takes back what is left', () => {
      const orders = stateOf([
        order,
        track('Order Refunded', day(1), { order_id: 'o1', total: 30 }),
        track('Order Refunded', day(2), { order_id: 'o1' }),
      ]).orders;
      expect(orders.revenue).toEqual({ USD: 0 });
    });

    test('a refund of an unknown order, or in another currency, is ignored', () => {
      const before = stateOf([order]).orders;
      expect(stateOf([order, track('Order Refunded', day(1), { order_id: 'o2', total: 30 })]).orders).toEqual(
        before,
      );
      expect(
        stateOf([order, track('Order Refunded', day(1), { order_id: 'o1', total: 30, currency: 'EUR' })])
          .orders,
      ).toEqual(before);
    });
  });
});

describe('tier', () => {
  test('nobody has a tier before their first order', () => {
    expect(stateOf([track('Product Viewed', day(0), { product_id: 'p' })]).tier).toBeNull();
  });

  test('the highest tier whose minimum net revenue in the main currency is reached', () => {
    const orders = [
      track('Order Completed', day(0), { order_id: 'a', revenue: '499.99' }),
      track('Order Completed', day(1), { order_id: 'b', revenue: '9999', currency: 'EUR' }),
    ];
    expect(stateOf(orders).tier).toBe('bronze');
    const more = [...orders, track('Order Completed', day(2), { order_id: 'c', revenue: '0.01' })];
    expect(stateOf(more).tier).toBe('silver');
    expect(stateOf([...more, track('Order Refunded', day(3), { order_id: 'c' })]).tier).toBe('bronze');
    expect(stateOf(orders, { ...settings, mainCurrency: 'EUR' }).tier).toBe('gold');
  });
});

describe('refunds that cannot be read', () => {
  test('a refund amount that is given but unreadable is ignored, not taken as the whole order', () => {
    const state = stateOf([
      track('Order Completed', day(0), { order_id: 'o1', revenue: '100.00', currency: 'USD' }),
      track('Order Refunded', day(1), { order_id: 'o1', total: '12,50' }),
    ]);
    expect(state.orders.revenue).toEqual({ USD: 10000 });
  });

  test('a refund is the shop acting, not the customer: it does not keep a customer from lapsing', () => {
    const state = stateOf([
      track('Order Completed', day(0), { order_id: 'o1', revenue: '100.00', currency: 'USD' }),
      track('Order Refunded', day(100), { order_id: 'o1' }),
    ]);
    expect(state.lastActivityAt).toBe(day(0));
  });
});
