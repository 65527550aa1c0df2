import { describe, expect, test } from 'vitest';
import type { IngestEvent } from '#events/ingest-event.ts';
import { defaultEngagementSettings } from '#shared/engagement/settings.ts';
import {
  compareEvents,
  emptyState,
  foldEvent,
  foldEvents,
  sortsAfterWatermark,
} from '#shared/engagement/state.ts';
import { viewCustomer } from '#shared/engagement/view.ts';
import { minutesAfterStart as at, identify, page, track } from './events.ts';

const settings = defaultEngagementSettings;

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

describe('folding', () => {
  test('the watermark is the latest event folded in', () => {
    const first = page(at(0), {}, { messageId: 'b' });
    const state = foldEvent(emptyState('u1'), first, settings);
    expect(state.watermark).toEqual({ timestamp: at(0), messageId: 'b' });
    expect(sortsAfterWatermark(state, page(at(0), {}, { messageId: 'c' }))).toBe(true);
    expect(sortsAfterWatermark(state, page(at(0), {}, { messageId: 'a' }))).toBe(false);
    expect(sortsAfterWatermark(state, page(at(0), {}, { messageId: 'b' }))).toBe(false);
    expect(sortsAfterWatermark(state, page(at(1), {}, { messageId: 'a' }))).toBe(true);
    expect(sortsAfterWatermark(emptyState('u1'), first)).toBe(true);
  });

  test('folding never changes the state or the event it is given', () => {
    const events = [
      page(at(0), {
        page: { url: 'https://shop.example/', referrer: 'https://google.com/' },
        traits: { a: 1 },
      }),
      track('Product Added', at(1), { product_id: 'p1', category: 'c', price: 3 }),
      track('Product Removed', at(2), { product_id: 'p1', quantity: 1 }),
      track('Order Completed', at(3), { order_id: 'o', revenue: 9, products: [{ product_id: 'p1' }] }),
      track('Order Refunded', at(4), { order_id: 'o', total: 1 }),
      track('Email Opened', at(5)),
      identify(at(6), { subscribed: true, name: 'Ada' }, { anonymousId: 'anon-1' }),
    ];
    let state = deepFreeze(emptyState('u1'));
    for (const event of events) {
      const copy = structuredClone(state);
      state = deepFreeze(foldEvent(state, deepFreeze(event), settings));
      expect(state).not.toEqual(copy);
    }
  });

  test('compareEvents orders by instant, then by messageId', () => {
    const a = { timestamp: '2025-03-01T12:00:00+02:00', messageId: 'z' };
    const b = { timestamp: '2025-03-01T10:00:00.001Z', messageId: 'a' };
    const c = { timestamp: '2025-03-01T10:00:00.001Z', messageId: 'b' };
    expect([c, b, a].sort(compareEvents)).toEqual([a, b, c]);
  });

  test('foldEvents keeps one event per messageId, in time order', () => {
    const add = track('Product Added', at(0), { product_id: 'p1' }, { messageId: 'm1' });
    const resent = { ...add, timestamp: at(5), receivedAt: at(5) };
    const state = foldEvents('u1', [resent, add, add], settings);
    expect(state.cart.items).toEqual([{ productId: 'p1', name: null, price: null, quantity: 1 }]);
    expect(state.watermark).toEqual({ timestamp: at(0), messageId: 'm1' });
  });

  test('anonymous ids are collected unique, least recently seen first; the view sorts them', () => {
    const state = foldEvents(
      'u1',
      [
        page(at(0), {}, { anonymousId: 'b' }),
        page(at(1), {}, { anonymousId: 'c' }),
        page(at(2), {}, { anonymousId: 'a' }),
        page(at(3), {}, { anonymousId: 'b' }),
      ],
      settings,
    );
    expect(state.anonymousIds).toEqual(['c', 'a', 'b']);
    expect(viewCustomer(state, new Date(at(4)), settings).anonymousIds).toEqual(['a', 'b', 'c']);
  });

  test('identify traits win per key; a later, stale context copy only fills keys never identified', () => {
    const state = foldEvents(
      'u1',
      [
        identify(at(0), { name: 'Ada', plan: 'free', nested: { keep: true, drop: undefined } }),
        page(at(1), { traits: { plan: 'pro', city: 'Oslo', bad: Number.NaN } }),
        identify(at(2), { city: 'Bergen' }, { context: { traits: { city: 'Stale', age: 36 } } }),
      ],
      settings,
    );
    expect(state.traits).toStrictEqual({
      city: 'Bergen',
      age: 36,
      name: 'Ada',
      plan: 'free',
      nested: { keep: true },
    });
  });

  test('a trait named __proto__ stays a plain trait', () => {
    const traits = JSON.parse('{"__proto__": {"polluted": true}}') as Record<string, unknown>;
    const state = foldEvents('u1', [identify(at(0), traits)], settings);
    expect(Object.getPrototypeOf(state.traits)).toBe(Object.prototype);
    expect(Object.keys(state.traits)).toEqual(['__proto__']);
  });

  test('last activity is the latest event but a mail delivery or bounce', () => {
    const state = foldEvents(
      'u1',
      [
        identify(at(0), {}),
        track('Email Opened', at(10)),
        track('Email Delivered', at(20)),
        track('Email Bounced', at(30)),
      ],
      settings,
    );
    expect(state.lastActivityAt).toBe(at(10));
  });

  test('the state is plain JSON: it survives a round trip unchanged', () => {
    const events: IngestEvent[] = [
      page(at(0), { page: { url: 'https://shop.example/', referrer: 'https://blog.example/' } }),
      track('Product Viewed', at(1), { product_id: 'p1', category: 'c', price: 'x' }),
      track('Cart Viewed', at(2), { products: [{ product_id: 'p1', price: 1.1 }] }),
      track('Order Completed', at(3), { order_id: 'o', products: [{ product_id: 'p1', price: 1.1 }] }),
      identify(at(4), { a: undefined, b: [undefined, Number.POSITIVE_INFINITY] }),
    ];
    const state = foldEvents('u1', events, settings);
    expect(JSON.parse(JSON.stringify(state))).toStrictEqual(state);
  });
});
