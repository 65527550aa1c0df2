import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { InterestScore } from '#shared/engagement/interests.ts';
import { defaultEngagementSettings } from '#shared/engagement/settings.ts';
import { type EngagementState, emptyState } from '#shared/engagement/state.ts';
import { recommend } from '#shared/messages/recommendations.ts';

const settings = defaultEngagementSettings;
const now = new Date('2025-03-15T00:00:00.000Z');
const daysAgo = (days: number) => new Date(now.getTime() - days * 86_400_000).toISOString();

function interest(kind: InterestScore['kind'], id: string, score: number, days = 0): InterestScore {
  return { kind, id, name: kind === 'category' ? id : `${id} name`, score, at: daysAgo(days) };
}

function stateWith(
  interests: InterestScore[],
  orders: { productIds?: string[]; categories?: string[] } = {},
): EngagementState {
  const state = emptyState('u1');
  return {
    ...state,
    interests,
    orders: { ...state.orders, productIds: orders.productIds ?? [], categories: orders.categories ?? [] },
  };
}

describe('recommend', () => {
  test('products by decayed score, strongest first, without the ones bought', () => {
    const state = stateWith(
      [
        interest('product', 'boots', 5, 0),
        interest('product', 'bought', 50, 0),
        // 8 two half-lives ago is 2 now: below the fresh 3.
        interest('product', 'old', 8, 28),
        interest('product', 'socks', 3, 0),
        interest('product', 'hat', 1, 0),
      ],
      { productIds: ['bought'] },
    );
    expect(recommend(state, now, settings, {}).products).toEqual([
      { id: 'boots', name: 'boots name' },
      { id: 'socks', name: 'socks name' },
      { id: 'old', name: 'old name' },
    ]);
    expect(recommend(state, now, settings, {}, 5).products.map((product) => product.id)).toEqual([
      'boots',
      'socks',
      'old',
      'hat',
    ]);
  });

  test('equal scores are ordered by id', () => {
    const state = stateWith([interest('product', 'b', 1), interest('product', 'a', 1)]);
    expect(recommend(state, now, settings, {}).products.map((product) => product.id)).toEqual(['a', 'b']);
  });

  test('categories by score, then what goes with them and with what was bought', () => {
    const state = stateWith([interest('category', 'paint', 4), interest('category', 'frames', 1)], {
      categories: ['easels', 'paper'],
    });
    const complementary = {
      paint: ['brushes', 'frames', 'canvas'],
      paper: ['pencils', 'brushes'],
      easels: ['lamps'],
    };
    expect(recommend(state, now, settings, complementary, 10).categories).toEqual([
      { id: 'paint', name: 'paint' },
      { id: 'frames', name: 'frames' },
      { id: 'brushes', name: 'brushes' },
      { id: 'canvas', name: 'canvas' },
      { id: 'pencils', name: 'pencils' },
      { id: 'lamps', name: 'lamps' },
    ]);
    expect(recommend(state, now, settings, complementary).categories.map((category) => category.id)).toEqual([
      'paint',
      'frames',
      'brushes',
    ]);
  });

  test('a customer with no interests still gets what goes with their purchases', () => {
    const state = stateWith([], { categories: ['paper', 'paint'] });
    const complementary = { paint: ['brushes'], paper: ['pencils'] };
    // The latest purchase (paint) first.
    expect(recommend(state, now, settings, complementary).categories.map((category) => category.id)).toEqual([
      'brushes',
      'pencils',
    ]);
  });

  test('a stored state from before bought categories were kept is read as having none', () => {
    const state = stateWith([interest('category', 'paint', 1)]);
    const older = {
      ...state,
      orders: { ...state.orders, categories: undefined },
    } as unknown as EngagementState;
    expect(recommend(older, now, settings, { paint: ['brushes'] }).categories).toEqual([
      { id: 'paint', name: 'paint' },
      { id: 'brushes', name: 'brushes' },
    ]);
  });

  const ids = fc.constantFrom('p1', 'p2', 'p3', 'p4', 'p5', 'p6');
  const categories = fc.constantFrom('c1', 'c2', 'c3', 'c4');
  const randomState = fc
    .record({
      interests: fc.uniqueArray(
        fc.record({
          kind: fc.constantFrom<InterestScore['kind']>('product', 'category'),
          id: fc.oneof(ids, categories),
          name: fc.option(fc.string(), { nil: null }),
          score: fc.double({ min: 1e-9, max: 100, noNaN: true }),
          at: fc.integer({ min: 0, max: 60 }).map(daysAgo),
        }),
        { selector: (found) => `${found.kind}:${found.id}` },
      ),
      productIds: fc.uniqueArray(ids),
      bought: fc.uniqueArray(categories),
    })
    .map(({ interests, productIds, bought }) => stateWith(interests, { productIds, categories: bought }));
  const complementary = fc.dictionary(categories, fc.array(categories, { maxLength: 3 }));

  test('never offers a product the customer owns, and offers the rest up to the limit', () => {
    fc.assert(
      fc.property(randomState, complementary, fc.integer({ min: 1, max: 6 }), (state, related, limit) => {
        const { products } = recommend(state, now, settings, related, limit);
        const owned = new Set(state.orders.productIds);
        expect(products.filter((product) => owned.has(product.id))).toEqual([]);
        const offerable = state.interests.filter(
          (found) => found.kind === 'product' && !owned.has(found.id),
        ).length;
        expect(products).toHaveLength(Math.min(limit, offerable));
      }),
    );
  });

  test('categories are unique, at most the limit, interests first', () => {
    fc.assert(
      fc.property(randomState, complementary, fc.integer({ min: 1, max: 6 }), (state, related, limit) => {
        const listed = recommend(state, now, settings, related, limit).categories.map(
          (category) => category.id,
        );
        expect(new Set(listed).size).toBe(listed.length);
        expect(listed.length).toBeLessThanOrEqual(limit);
        const interested = state.interests
          .filter((found) => found.kind === 'category')
          .map((found) => found.id);
        const leading = listed.slice(0, Math.min(limit, interested.length));
        expect(leading.every((id) => interested.includes(id))).toBe(true);
        const crossSold = listed.slice(leading.length);
        const complements = new Set<string>(Object.values(related).flat());
        expect(crossSold.every((id) => complements.has(id))).toBe(true);
      }),
    );
  });
});
