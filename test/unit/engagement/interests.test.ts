import { describe, expect, test } from 'vitest';
import { decayedScore, maxInterests } from '#shared/engagement/interests.ts';
import { defaultEngagementSettings } from '#shared/engagement/settings.ts';
import { foldEvents } from '#shared/engagement/state.ts';
import { daysAfterStart as day, track } from './events.ts';

const settings = defaultEngagementSettings;
const shoe = { product_id: 'p1', name: 'Trail Shoe', category: 'Shoes' };

function interestsOf(events: Parameters<typeof foldEvents>[1], custom = settings) {
  return foldEvents('u1', events, custom).interests;
}

describe('interests', () => {
  test('views, adds and purchases score the product and its category by their weights', () => {
    const interests = interestsOf([
      track('Product Viewed', day(0), shoe),
      track('Product Added', day(0), shoe),
      track('Order Completed', day(0), { order_id: 'o1', products: [{ ...shoe, price: 10 }] }),
    ]);
    expect(interests).toEqual([
      { kind: 'category', id: 'Shoes', name: 'Shoes', score: 9, at: day(0) },
      { kind: 'product', id: 'p1', name: 'Trail Shoe', score: 9, at: day(0) },
    ]);
  });

  test('a score halves exactly in one half-life', () => {
    const [interest] = interestsOf([track('Product Added', day(0), { sku: 'sku-9' })]);
    expect(interest?.score).toBe(3);
    const later = Date.parse(day(14));
    expect(interest && decayedScore(interest, later, 14)).toBe(1.5);
    expect(interest && decayedScore(interest, Date.parse(day(28)), 14)).toBe(0.75);
  });

  test('a new mention adds its weight to the decayed score', () => {
    const [interest] = interestsOf([
      track('Product Added', day(0), { product_id: 'p1' }),
      track('Product Viewed', day(14), { product_id: 'p1' }),
    ]);
    expect(interest).toEqual({ kind: 'product', id: 'p1', name: null, score: 2.5, at: day(14) });
  });

  test('the half-life and weights come from the settings', () => {
    const custom = {
      ...settings,
      interestHalfLifeDays: 7,
      interestWeights: { view: 4, add: 0, purchase: 0 },
    };
    const [interest] = interestsOf(
      [
        track('Product Viewed', day(0), { product_id: 'p1' }),
        track('Product Viewed', day(7), { product_id: 'p1' }),
      ],
      custom,
    );
    expect(interest?.score).toBe(6);
  });

  test('a resent order scores its products once', () => {
    const order = { order_id: 'o1', products: [{ product_id: 'p1' }] };
    const interests = interestsOf([
      track('Order Completed', day(0), order),
      track('Order Completed', day(0), order),
    ]);
    expect(interests.map((interest) => interest.score)).toEqual([5]);
  });

  test('events that name neither product nor category leave interests alone', () => {
    expect(
      interestsOf([track('Product Viewed', day(0), { name: 'No id' }), track('Cart Viewed', day(0))]),
    ).toEqual([]);
    expect(interestsOf([track('Product Viewed', day(0), { category: 'Hats' })])).toEqual([
      { kind: 'category', id: 'Hats', name: 'Hats', score: 1, at: day(0) },
    ]);
  });

  test('the weakest interests go beyond the limit', () => {
    const events = Array.from({ length: maxInterests + 1 }, (_, index) =>
      track('Product Viewed', day(index / 1000), { product_id: `p${String(index).padStart(3, '0')}` }),
    );
    const ids = interestsOf(events).map((interest) => interest.id);
    expect(ids).toHaveLength(maxInterests);
    expect(ids).not.toContain('p000');
    expect(ids).toContain(`p${maxInterests}`);
  });
});
