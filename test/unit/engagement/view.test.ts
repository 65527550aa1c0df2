import { describe, expect, test } from 'vitest';
import { defaultEngagementSettings } from '#shared/engagement/settings.ts';
import { foldEvents } from '#shared/engagement/state.ts';
import { maxViewedInterests, viewCustomer } from '#shared/engagement/view.ts';
import { daysAfterStart as day, track } from './events.ts';

const settings = defaultEngagementSettings;

function viewOf(events: Parameters<typeof foldEvents>[1], now: string) {
  return viewCustomer(foldEvents('u1', events, settings), new Date(now), settings);
}

describe('customer view', () => {
  test('money is shown as decimal strings of each currency', () => {
    const view = viewOf(
      [
        track('Order Completed', day(0), { order_id: 'a', revenue: 69.9 }),
        track('Order Completed', day(0), { order_id: 'b', revenue: 1500, currency: 'JPY' }),
        track('Product Added', day(1), { product_id: 'p1', price: 5, quantity: 2 }),
        track('Product Added', day(1), { product_id: 'p2' }),
      ],
      day(2),
    );
    expect(view.orders.revenue).toEqual({ JPY: '1500', USD: '69.90' });
    expect(view.cart).toEqual({
      items: [
        { productId: 'p1', name: null, price: '5.00', quantity: 2 },
        { productId: 'p2', name: null, price: null, quantity: 1 },
      ],
      value: '10.00',
      currency: 'USD',
      updatedAt: day(1),
      status: 'open',
    });
  });

  test('bookkeeping stays inside', () => {
    const view = viewOf(
      [track('Order Completed', day(0), { order_id: 'a', products: [{ product_id: 'p' }] })],
      day(1),
    );
    expect(view).not.toHaveProperty('watermark');
    expect(view.orders).not.toHaveProperty('ledger');
    expect(view.interests[0]).not.toHaveProperty('at');
  });

  test('interests are decayed to now, strongest first, rounded to 3 decimals', () => {
    const view = viewOf(
      [
        track('Product Viewed', day(0), { product_id: 'old', category: 'Hats' }),
        track('Product Viewed', day(0), { product_id: 'old' }),
        track('Product Viewed', day(13), { product_id: 'new' }),
      ],
      day(14),
    );
    expect(view.interests).toEqual([
      { kind: 'product', id: 'old', name: null, score: 1 },
      { kind: 'product', id: 'new', name: null, score: 0.952 },
      { kind: 'category', id: 'Hats', name: 'Hats', score: 0.5 },
    ]);
  });

  test(`at most ${maxViewedInterests} interests are shown`, () => {
    const events = Array.from({ length: 30 }, (_, index) =>
      track('Product Viewed', day(index), { product_id: `p${index}` }),
    );
    const view = viewOf(events, day(30));
    expect(view.interests).toHaveLength(maxViewedInterests);
    expect(view.interests[0]?.id).toBe('p29');
  });

  test.each([
    [0, day(1), 'prospect'],
    [1, day(1), 'customer'],
    [2, day(1), 'repeat'],
    [1, day(90), 'customer'],
    [2, new Date(Date.parse(day(90)) + 1).toISOString(), 'lapsed'],
    [0, day(400), 'prospect'],
  ])('%i orders, seen last on day 0, is %s at %s', (count, now, lifecycle) => {
    const orders = Array.from({ length: count }, (_, index) =>
      track('Order Completed', day(0), { order_id: `o${index}`, revenue: 1 }),
    );
    expect(viewOf(orders, now).lifecycle).toBe(lifecycle);
  });
});
