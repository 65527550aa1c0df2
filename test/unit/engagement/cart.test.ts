import { describe, expect, test } from 'vitest';
import { defaultEngagementSettings } from '#shared/engagement/settings.ts';
import { foldEvents } from '#shared/engagement/state.ts';
import { minutesAfterStart as at, track } from './events.ts';

const settings = defaultEngagementSettings;

function cartOf(events: Parameters<typeof foldEvents>[1]) {
  return foldEvents('u1', events, settings).cart;
}

describe('cart', () => {
  test('adds accumulate quantities and value in minor units', () => {
    const cart = cartOf([
      track('Product Added', at(0), { product_id: 'p1', name: 'Shoe', price: 69.9 }),
      track('Product Added', at(1), { product_id: 'p1', quantity: 2 }),
      track('Product Added', at(2), { sku: 'p2', price: '0.10', quantity: '3' }),
    ]);
    expect(cart).toEqual({
      items: [
        { productId: 'p1', name: 'Shoe', price: 6990, quantity: 3 },
        { productId: 'p2', name: null, price: 10, quantity: 3 },
      ],
      value: 21000,
      currency: 'USD',
      updatedAt: at(2),
      status: 'open',
    });
  });

  test('a remove takes away its quantity, or the whole product when it gives none', () => {
    const added = [
      track('Product Added', at(0), { product_id: 'p1', price: 5, quantity: 3 }),
      track('Product Added', at(0), { product_id: 'p2', price: 7 }),
    ];
    const partly = cartOf([...added, track('Product Removed', at(1), { product_id: 'p1', quantity: 2 })]);
    expect(partly.items.map((item) => [item.productId, item.quantity])).toEqual([
      ['p1', 1],
      ['p2', 1],
    ]);
    expect(partly.value).toBe(1200);
    const emptied = cartOf([
      ...added,
      track('Product Removed', at(1), { product_id: 'p1' }),
      track('Product Removed', at(2), { product_id: 'p2', quantity: 5 }),
    ]);
    expect(emptied).toMatchObject({ items: [], value: 0, status: 'empty', updatedAt: at(2) });
  });

  test('removing a product that is not in the cart changes nothing', () => {
    const add = track('Product Added', at(0), { product_id: 'p1', price: 5 });
    expect(cartOf([add, track('Product Removed', at(1), { product_id: 'p9' })])).toEqual(cartOf([add]));
  });

  test('a cart view or checkout that lists products replaces the items', () => {
    const cart = cartOf([
      track('Product Added', at(0), { product_id: 'p1', price: 5 }),
      track('Checkout Started', at(1), {
        currency: 'eur',
        products: [
          { product_id: 'p2', price: 2.5, quantity: 2 },
          { product_id: 'p3', price: 1 },
          { product_id: 'p2', quantity: 1 },
          { name: 'no id' },
          'junk',
        ],
      }),
    ]);
    expect(cart).toEqual({
      items: [
        { productId: 'p2', name: null, price: 250, quantity: 3 },
        { productId: 'p3', name: null, price: 100, quantity: 1 },
      ],
      value: 850,
      currency: 'EUR',
      updatedAt: at(1),
      status: 'open',
    });
  });

  test('a cart view without a product list keeps the items', () => {
    const add = track('Product Added', at(0), { product_id: 'p1', price: 5 });
    expect(cartOf([add, track('Cart Viewed', at(1), { cart_id: 'c1' })])).toEqual(cartOf([add]));
    expect(cartOf([add, track('Cart Viewed', at(1), { products: [] })])).toMatchObject({
      items: [],
      status: 'empty',
    });
  });

  test('an order converts the cart and empties it; a resent order does not touch a new cart', () => {
    const order = { order_id: 'o1', total: 5 };
    const converted = cartOf([
      track('Product Added', at(0), { product_id: 'p1', price: 5 }),
      track('Order Completed', at(1), order),
    ]);
    expect(converted).toEqual({ items: [], value: 0, currency: null, updatedAt: at(1), status: 'converted' });
    const again = cartOf([
      track('Product Added', at(0), { product_id: 'p1', price: 5 }),
      track('Order Completed', at(1), order),
      track('Product Added', at(2), { product_id: 'p2', price: 3 }),
      track('Order Completed', at(3), order),
    ]);
    expect(again).toMatchObject({ status: 'open', value: 300, updatedAt: at(2) });
  });

  test('a product added in another currency leaves the earlier prices unknown', () => {
    const cart = cartOf([
      track('Product Added', at(0), { product_id: 'p1', price: 5, currency: 'USD' }),
      track('Product Added', at(1), { product_id: 'p2', price: 4, currency: 'EUR' }),
    ]);
    expect(cart.items.map((item) => item.price)).toEqual([null, 400]);
    expect(cart).toMatchObject({ value: 400, currency: 'EUR' });
  });

  test('wrongly typed properties are ignored, never thrown on', () => {
    const cart = cartOf([
      track('Product Added', at(0), { product_id: { id: 1 }, price: 5 }),
      track('Product Added', at(1), {
        product_id: 42,
        price: 'cheap',
        quantity: -2,
        currency: 7,
        name: ['x'],
      }),
    ]);
    expect(cart.items).toEqual([{ productId: '42', name: null, price: null, quantity: 1 }]);
  });
});
