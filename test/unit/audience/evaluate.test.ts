import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { evaluateCondition, matchesAudience } from '#shared/audience/evaluate.ts';
import type { Condition } from '#shared/campaigns/audience.ts';
import { engagementSettings } from '#shared/engagement/settings.ts';
import type { EngagementState } from '#shared/engagement/state.ts';
import { audience, conditions, customer, settings, states, times } from './fixtures.ts';

const now = new Date('2025-06-01T12:00:00.000Z');
const daysBefore = (days: number) => new Date(now.getTime() - days * 86_400_000).toISOString();
const daysAfter = (days: number) => new Date(now.getTime() + days * 86_400_000);

/** The condition (as written in YAML) statically, and at `now` unless another time is given. */
function both(written: unknown, state: EngagementState, at: Date = now) {
  const parsed = audience(written);
  return {
    static: evaluateCondition(parsed, state, undefined, settings),
    at: evaluateCondition(parsed, state, at, settings),
  };
}

const at = (written: unknown, state: EngagementState, when: Date = now) => both(written, state, when).at;

describe('subscribed', () => {
  test('matches the consent the customer gave', () => {
    const subscriber = customer({ email: { subscribed: true } });
    const stranger = customer();
    expect(both({ subscribed: true }, subscriber)).toEqual({ static: true, at: true });
    expect(both({ subscribed: false }, subscriber)).toEqual({ static: false, at: false });
    expect(both({ subscribed: true }, stranger)).toEqual({ static: false, at: false });
    expect(both({ subscribed: false }, stranger)).toEqual({ static: true, at: true });
  });

  test('a suppressed customer is never subscribed, whatever the consent says', () => {
    const bounced = customer({ email: { subscribed: true, suppressed: true } });
    expect(both({ subscribed: true }, bounced)).toEqual({ static: false, at: false });
    expect(both({ subscribed: false }, bounced)).toEqual({ static: true, at: true });
  });
});

describe('trait', () => {
  const traits = customer({
    traits: {
      plan: 'pro',
      score: 5,
      beta: true,
      nickname: null,
      'utm.source': 'partner',
      address: { city: 'Oslo', geo: { country: 'NO' } },
      tags: ['VIP', 'Outdoor', 42],
      list: [{ city: 'Bergen' }],
    },
  });

  test('eq is strict: numbers and numeric strings do not match', () => {
    expect(both({ trait: { name: 'plan', eq: 'pro' } }, traits)).toEqual({ static: true, at: true });
    expect(at({ trait: { name: 'plan', eq: 'Pro' } }, traits)).toBe(false);
    expect(at({ trait: { name: 'score', eq: 5 } }, traits)).toBe(true);
    expect(at({ trait: { name: 'score', eq: '5' } }, traits)).toBe(false);
    expect(at({ trait: { name: 'beta', eq: true } }, traits)).toBe(true);
    expect(at({ trait: { name: 'beta', eq: 'true' } }, traits)).toBe(false);
    expect(at({ trait: { name: 'missing', eq: 'pro' } }, traits)).toBe(false);
  });

  test('a dot path reaches into nested objects; a key with a dot in it is found as it is', () => {
    expect(at({ trait: { name: 'address.city', eq: 'Oslo' } }, traits)).toBe(true);
    expect(at({ trait: { name: 'address.geo.country', in: ['NO', 'SE'] } }, traits)).toBe(true);
    expect(at({ trait: { name: 'utm.source', eq: 'partner' } }, traits)).toBe(true);
    expect(at({ trait: { name: 'address.zip', exists: true } }, traits)).toBe(false);
    expect(at({ trait: { name: 'plan.length', exists: true } }, traits)).toBe(false);
    expect(at({ trait: { name: 'list.0.city', exists: true } }, traits)).toBe(false);
    expect(at({ trait: { name: 'nickname.first', exists: true } }, traits)).toBe(false);
  });

  test('only the customer’s own keys are traits', () => {
    expect(at({ trait: { name: 'constructor', exists: true } }, traits)).toBe(false);
    expect(at({ trait: { name: 'address.toString', exists: true } }, traits)).toBe(false);
    expect(at({ trait: { name: '__proto__', exists: true } }, traits)).toBe(false);
  });

  test('in matches any of the values, strictly', () => {
    expect(at({ trait: { name: 'plan', in: ['free', 'pro'] } }, traits)).toBe(true);
    expect(at({ trait: { name: 'plan', in: ['free', 'team'] } }, traits)).toBe(false);
    expect(at({ trait: { name: 'score', in: ['5', 6] } }, traits)).toBe(false);
    expect(at({ trait: { name: 'score', in: [5] } }, traits)).toBe(true);
  });

  test('exists: present and not null', () => {
    expect(at({ trait: { name: 'plan', exists: true } }, traits)).toBe(true);
    expect(at({ trait: { name: 'nickname', exists: true } }, traits)).toBe(false);
    expect(at({ trait: { name: 'missing', exists: true } }, traits)).toBe(false);
    expect(at({ trait: { name: 'nickname', exists: false } }, traits)).toBe(true);
    expect(at({ trait: { name: 'missing', exists: false } }, traits)).toBe(true);
    expect(at({ trait: { name: 'plan', exists: false } }, traits)).toBe(false);
  });

  test('contains: a substring of text or an item of a list, ignoring case', () => {
    expect(at({ trait: { name: 'plan', contains: 'R' } }, traits)).toBe(true);
    expect(at({ trait: { name: 'address.city', contains: 'sl' } }, traits)).toBe(true);
    expect(at({ trait: { name: 'plan', contains: 'free' } }, traits)).toBe(false);
    expect(at({ trait: { name: 'tags', contains: 'vip' } }, traits)).toBe(true);
    expect(at({ trait: { name: 'tags', contains: 'VI' } }, traits)).toBe(false);
    expect(at({ trait: { name: 'tags', contains: '42' } }, traits)).toBe(false);
    expect(at({ trait: { name: 'score', contains: '5' } }, traits)).toBe(false);
    expect(at({ trait: { name: 'address', contains: 'Oslo' } }, traits)).toBe(false);
  });
});

describe('count', () => {
  const buyer = customer({ orders: { count: 3 }, email: { openedWithoutClickStreak: 6 } });

  test('every given bound must hold', () => {
    expect(both({ 'orders.count': { gte: 2 } }, buyer)).toEqual({ static: true, at: true });
    expect(at({ 'orders.count': { gt: 3 } }, buyer)).toBe(false);
    expect(at({ 'orders.count': { gte: 2, lt: 4 } }, buyer)).toBe(true);
    expect(at({ 'orders.count': { gte: 2, lt: 3 } }, buyer)).toBe(false);
    expect(at({ 'orders.count': { lte: 3 } }, buyer)).toBe(true);
    expect(at({ 'orders.count': { eq: 3 } }, buyer)).toBe(true);
    expect(at({ 'orders.count': { eq: 2 } }, buyer)).toBe(false);
  });

  test('counts the newsletter opens without a click', () => {
    expect(at({ 'email.openedWithoutClickStreak': { gte: 5 } }, buyer)).toBe(true);
    expect(at({ 'email.openedWithoutClickStreak': { gte: 7 } }, buyer)).toBe(false);
  });
});

describe('revenue', () => {
  const spender = customer({ orders: { count: 2, revenue: { USD: 9_999, EUR: 500_000 } } });

  test('compares the main currency in minor units with the decimal bounds', () => {
    expect(both({ 'orders.revenue': { gte: '99.99' } }, spender)).toEqual({ static: true, at: true });
    expect(at({ 'orders.revenue': { gt: '99.99' } }, spender)).toBe(false);
    expect(at({ 'orders.revenue': { eq: '99.99' } }, spender)).toBe(true);
    expect(at({ 'orders.revenue': { gte: '50', lt: '100' } }, spender)).toBe(true);
    expect(at({ 'orders.revenue': { gte: '100' } }, spender)).toBe(false);
  });

  test('other currencies do not count, and no revenue is zero', () => {
    expect(at({ 'orders.revenue': { gte: '1000' } }, spender)).toBe(false);
    expect(at({ 'orders.revenue': { eq: '0' } }, customer())).toBe(true);
    expect(at({ 'orders.revenue': { gt: '0' } }, customer())).toBe(false);
  });

  test('the bounds are read in the main currency’s minor unit', () => {
    const yen = engagementSettings.parse({
      mainCurrency: 'JPY',
      tiers: [{ name: 'bronze', minRevenue: '0' }],
      spendThresholds: ['100'],
    });
    const buyer = customer({ orders: { count: 1, revenue: { JPY: 1_500, USD: 1 } } });
    const revenue = (written: unknown) => evaluateCondition(audience(written), buyer, now, yen);
    expect(revenue({ 'orders.revenue': { eq: '1500' } })).toBe(true);
    expect(revenue({ 'orders.revenue': { gt: '1499.4' } })).toBe(true);
    expect(revenue({ 'orders.revenue': { gte: '1500.5' } })).toBe(false);
  });

  test('a bound too large to count exactly is above every revenue', () => {
    const huge = '123456789012345678901234567890';
    expect(at({ 'orders.revenue': { lt: huge } }, spender)).toBe(true);
    expect(at({ 'orders.revenue': { gte: huge } }, spender)).toBe(false);
  });
});

describe('tier', () => {
  test('the customer’s tier is one of the list; no tier is in none', () => {
    const gold = customer({ tier: 'gold' });
    expect(both({ tier: ['gold', 'silver'] }, gold)).toEqual({ static: true, at: true });
    expect(at({ tier: 'silver' }, gold)).toBe(false);
    expect(at({ tier: ['gold'] }, customer())).toBe(false);
  });
});

describe('lifecycle', () => {
  const lapseDays = settings.lapsedAfterDays;

  test('a prospect is one at any time', () => {
    const prospect = customer({ lastActivityAt: daysBefore(400) });
    expect(both({ lifecycle: 'prospect' }, prospect)).toEqual({ static: true, at: true });
    expect(both({ lifecycle: ['customer', 'repeat', 'lapsed'] }, prospect)).toEqual({
      static: false,
      at: false,
    });
  });

  test('a buyer is active until the quiet spell, then lapsed: statically unknown', () => {
    const buyer = customer({ orders: { count: 1 }, lastActivityAt: daysBefore(10) });
    expect(both({ lifecycle: 'customer' }, buyer)).toEqual({ static: undefined, at: true });
    expect(at({ lifecycle: 'customer' }, buyer, daysAfter(lapseDays))).toBe(false);
    expect(both({ lifecycle: 'lapsed' }, buyer, daysAfter(lapseDays))).toEqual({
      static: undefined,
      at: true,
    });
    expect(at({ lifecycle: 'lapsed' }, buyer)).toBe(false);
  });

  test('statically known when both or neither of its stages are listed', () => {
    const repeat = customer({ orders: { count: 4 }, lastActivityAt: daysBefore(200) });
    expect(both({ lifecycle: ['repeat', 'lapsed'] }, repeat)).toEqual({ static: true, at: true });
    expect(both({ lifecycle: ['customer', 'prospect'] }, repeat)).toEqual({ static: false, at: false });
    expect(both({ lifecycle: 'repeat' }, repeat)).toEqual({ static: undefined, at: false });
  });

  test('a buyer without a last activity never lapses', () => {
    const buyer = customer({ orders: { count: 2 }, lastActivityAt: null });
    expect(both({ lifecycle: 'repeat' }, buyer)).toEqual({ static: true, at: true });
    expect(both({ lifecycle: 'lapsed' }, buyer, daysAfter(1000))).toEqual({ static: false, at: false });
  });
});

describe('web.lastSeenAt', () => {
  const seen = (days: number) => customer({ web: { lastSeenAt: daysBefore(days) } });

  test('olderThan: seen before the time minus the duration', () => {
    expect(both({ 'web.lastSeenAt': { olderThan: '60d' } }, seen(61))).toEqual({
      static: undefined,
      at: true,
    });
    expect(at({ 'web.lastSeenAt': { olderThan: '60d' } }, seen(59))).toBe(false);
    expect(at({ 'web.lastSeenAt': { olderThan: '60d' } }, seen(60))).toBe(false);
  });

  test('newerThan: seen after the time minus the duration', () => {
    expect(both({ 'web.lastSeenAt': { newerThan: '7d' } }, seen(6))).toEqual({ static: undefined, at: true });
    expect(at({ 'web.lastSeenAt': { newerThan: '7d' } }, seen(8))).toBe(false);
    expect(at({ 'web.lastSeenAt': { newerThan: '7d' } }, seen(7))).toBe(false);
  });

  test('both: a window', () => {
    const window = { 'web.lastSeenAt': { olderThan: '60d', newerThan: '67d' } };
    expect(at(window, seen(59))).toBe(false);
    expect(at(window, seen(63))).toBe(true);
    expect(at(window, seen(68))).toBe(false);
  });

  test('a customer never seen matches neither, at any time', () => {
    const never = customer();
    expect(both({ 'web.lastSeenAt': { olderThan: '1d' } }, never)).toEqual({ static: false, at: false });
    expect(both({ 'web.lastSeenAt': { newerThan: '1d' } }, never)).toEqual({ static: false, at: false });
  });

  test('an empty window is false without a time', () => {
    expect(both({ 'web.lastSeenAt': { olderThan: '7d', newerThan: '7d' } }, seen(7))).toEqual({
      static: false,
      at: false,
    });
    expect(both({ 'web.lastSeenAt': { olderThan: '2w', newerThan: '7d' } }, seen(10))).toEqual({
      static: false,
      at: false,
    });
  });
});

describe('interest', () => {
  const halfLife = settings.interestHalfLifeDays;
  const interested = customer({
    interests: [
      // 8 two half-lives ago is 2 now: below the fresher 3.
      { kind: 'category', id: 'Hats', name: 'Hats', score: 8, at: daysBefore(2 * halfLife) },
      { kind: 'category', id: 'Shoes', name: 'Shoes', score: 3, at: daysBefore(0) },
      { kind: 'category', id: 'Socks', name: 'Socks', score: 2, at: daysBefore(0) },
      { kind: 'product', id: 'Shoes', name: 'A product called Shoes', score: 50, at: daysBefore(0) },
      { kind: 'product', id: 'p2', name: null, score: 1, at: daysBefore(0) },
    ],
  });

  test('top: among the strongest of its kind, by decayed score, ties by id', () => {
    expect(both({ interest: { category: 'Shoes', top: 1 } }, interested)).toEqual({ static: true, at: true });
    expect(both({ interest: { category: 'Hats', top: 1 } }, interested)).toEqual({
      static: false,
      at: false,
    });
    // Hats and Socks are tied at 2: Hats sorts first.
    expect(both({ interest: { category: 'Hats', top: 2 } }, interested)).toEqual({ static: true, at: true });
    expect(both({ interest: { category: 'Socks', top: 2 } }, interested)).toEqual({
      static: false,
      at: false,
    });
    expect(at({ interest: { category: 'Socks', top: 3 } }, interested)).toBe(true);
  });

  test('top ranks the kind asked for only', () => {
    expect(at({ interest: { product: 'p2', top: 1 } }, interested)).toBe(false);
    expect(at({ interest: { product: 'Shoes', top: 1 } }, interested)).toBe(true);
    expect(at({ interest: { product: 'Hats', top: 5 } }, interested)).toBe(false);
  });

  test('top ranks the same long after and before the latest interest', () => {
    for (const when of [daysAfter(365), new Date(daysBefore(3 * halfLife)), now]) {
      expect(at({ interest: { category: 'Shoes', top: 1 } }, interested, when)).toBe(true);
      expect(at({ interest: { category: 'Socks', top: 2 } }, interested, when)).toBe(false);
    }
  });

  test('minScore: the score decayed to the time, statically unknown while it can still be reached', () => {
    const minScore = (score: number) => ({ interest: { category: 'Shoes', minScore: score } });
    expect(both(minScore(3), interested)).toEqual({ static: undefined, at: true });
    expect(at(minScore(3), interested, daysAfter(1))).toBe(false);
    expect(at(minScore(1.5), interested, daysAfter(halfLife))).toBe(true);
    expect(at(minScore(1.5), interested, daysAfter(halfLife + 1))).toBe(false);
  });

  test('minScore above the undecayed score is false at any time', () => {
    expect(both({ interest: { category: 'Hats', minScore: 9 } }, interested)).toEqual({
      static: false,
      at: false,
    });
    expect(at({ interest: { category: 'Hats', minScore: 8 } }, interested)).toBe(false);
    expect(at({ interest: { category: 'Hats', minScore: 2 } }, interested)).toBe(true);
  });

  test('an interest the customer does not have is false', () => {
    expect(both({ interest: { category: 'Bags', top: 10 } }, interested)).toEqual({
      static: false,
      at: false,
    });
    expect(both({ interest: { category: 'Bags', minScore: 0.1 } }, interested)).toEqual({
      static: false,
      at: false,
    });
  });

  test('top and minScore must both hold', () => {
    expect(both({ interest: { category: 'Socks', top: 1, minScore: 1 } }, interested)).toEqual({
      static: false,
      at: false,
    });
    expect(both({ interest: { category: 'Shoes', top: 1, minScore: 1 } }, interested)).toEqual({
      static: undefined,
      at: true,
    });
  });
});

describe('bought', () => {
  const buyer = customer({ orders: { count: 1, productIds: ['p1', 'p2'], categories: ['canvas'] } });

  test('a product or a category among the orders', () => {
    expect(both({ bought: { product: 'p2' } }, buyer)).toEqual({ static: true, at: true });
    expect(at({ bought: { product: 'p3' } }, buyer)).toBe(false);
    expect(at({ bought: { category: 'canvas' } }, buyer)).toBe(true);
    expect(at({ bought: { category: 'paint' } }, buyer)).toBe(false);
    expect(at({ bought: { category: 'p1' } }, buyer)).toBe(false);
  });

  test('notBought is the opposite', () => {
    expect(both({ notBought: { product: 'p2' } }, buyer)).toEqual({ static: false, at: false });
    expect(at({ notBought: { category: 'paint' } }, buyer)).toBe(true);
  });

  test('a state stored before categories were kept has bought none', () => {
    const old = customer({ orders: { count: 1, productIds: ['p1'] } });
    Reflect.deleteProperty(old.orders, 'categories');
    expect(at({ bought: { category: 'canvas' } }, old)).toBe(false);
    expect(at({ notBought: { category: 'canvas' } }, old)).toBe(true);
  });
});

describe('cart', () => {
  const open = customer({
    cart: { status: 'open', value: 5_000, currency: 'EUR', updatedAt: daysBefore(1), items: [] },
  });

  test('status is one of the list', () => {
    expect(both({ cart: { status: 'open' } }, open)).toEqual({ static: true, at: true });
    expect(at({ cart: { status: ['converted', 'empty'] } }, open)).toBe(false);
    expect(at({ cart: { status: 'empty' } }, customer())).toBe(true);
  });

  test('value is compared in the cart’s own currency', () => {
    expect(at({ cart: { value: { gte: '50' } } }, open)).toBe(true);
    expect(at({ cart: { value: { gt: '50' } } }, open)).toBe(false);
    const yen = customer({ cart: { status: 'open', value: 5_000, currency: 'JPY' } });
    expect(at({ cart: { value: { gte: '5000' } } }, yen)).toBe(true);
    expect(at({ cart: { value: { gt: '50' } } }, yen)).toBe(true);
    const unknown = customer({ cart: { status: 'open', value: 1_999, currency: null } });
    expect(at({ cart: { value: { lt: '20' } } }, unknown)).toBe(true);
    expect(at({ cart: { value: { lt: '19.99' } } }, unknown)).toBe(false);
  });

  test('status and value must both hold', () => {
    expect(at({ cart: { status: 'open', value: { gte: '40' } } }, open)).toBe(true);
    expect(at({ cart: { status: 'converted', value: { gte: '40' } } }, open)).toBe(false);
    expect(at({ cart: { status: 'open', value: { gte: '60' } } }, open)).toBe(false);
  });
});

describe('segment', () => {
  test('an unresolved segment is an error that names it', () => {
    expect(() => evaluateCondition({ kind: 'segment', name: 'vip' }, customer(), now, settings)).toThrow(
      /segment "vip"/,
    );
    expect(() =>
      matchesAudience(audience({ not: { segment: 'lapsed-buyers' } }), customer(), now, settings),
    ).toThrow(/lapsed-buyers/);
  });
});

describe('all, any and not', () => {
  const state = customer({ tier: 'gold', web: { lastSeenAt: daysBefore(10) } });
  const yes = { tier: 'gold' };
  const no = { tier: 'silver' };
  const unknown = { 'web.lastSeenAt': { olderThan: '7d' } }; // true at now
  const unknownFalse = { 'web.lastSeenAt': { olderThan: '30d' } }; // false at now

  test('all: false if any is false, else unknown if any is unknown', () => {
    expect(both({ all: [yes, yes] }, state)).toEqual({ static: true, at: true });
    expect(both({ all: [yes, no] }, state)).toEqual({ static: false, at: false });
    expect(both({ all: [unknown, no] }, state)).toEqual({ static: false, at: false });
    expect(both({ all: [no, unknown] }, state)).toEqual({ static: false, at: false });
    expect(both({ all: [yes, unknown] }, state)).toEqual({ static: undefined, at: true });
    expect(both({ all: [yes, unknownFalse] }, state)).toEqual({ static: undefined, at: false });
  });

  test('any: true if any is true, else unknown if any is unknown', () => {
    expect(both({ any: [no, no] }, state)).toEqual({ static: false, at: false });
    expect(both({ any: [no, yes] }, state)).toEqual({ static: true, at: true });
    expect(both({ any: [unknownFalse, yes] }, state)).toEqual({ static: true, at: true });
    expect(both({ any: [no, unknown] }, state)).toEqual({ static: undefined, at: true });
    expect(both({ any: [no, unknownFalse] }, state)).toEqual({ static: undefined, at: false });
  });

  test('not: flips a known answer, unknown stays unknown', () => {
    expect(both({ not: yes }, state)).toEqual({ static: false, at: false });
    expect(both({ not: no }, state)).toEqual({ static: true, at: true });
    expect(both({ not: unknown }, state)).toEqual({ static: undefined, at: false });
    expect(both({ not: { not: unknownFalse } }, state)).toEqual({ static: undefined, at: false });
  });

  test('nested', () => {
    const nested = { all: [{ any: [no, { not: unknownFalse }] }, { not: { all: [no, unknown] } }] };
    expect(both(nested, state)).toEqual({ static: undefined, at: true });
  });
});

describe('matchesAudience', () => {
  test('no audience is everyone', () => {
    expect(matchesAudience(undefined, customer(), now, settings)).toBe(true);
  });

  test('the audience evaluated at the time', () => {
    const lapsedGold = audience({ all: [{ tier: 'gold' }, { 'web.lastSeenAt': { olderThan: '7d' } }] });
    const state = customer({ tier: 'gold', web: { lastSeenAt: daysBefore(3) } });
    expect(matchesAudience(lapsedGold, state, now, settings)).toBe(false);
    expect(matchesAudience(lapsedGold, state, daysAfter(5), settings)).toBe(true);
  });
});

describe('static evaluation', () => {
  test('never lies: when defined, it is the answer at every time', () => {
    let known = 0;
    let unknown = 0;
    fc.assert(
      fc.property(
        states,
        conditions,
        fc.array(times, { minLength: 1, maxLength: 4 }),
        (state, condition, ats) => {
          const answer = evaluateCondition(condition, state, undefined, settings);
          if (answer === undefined) unknown += 1;
          else known += 1;
          for (const when of ats) {
            const timed = evaluateCondition(condition, state, when, settings);
            expect(typeof timed).toBe('boolean');
            if (answer !== undefined) expect(timed).toBe(answer);
            expect(matchesAudience(condition, state, when, settings)).toBe(timed);
          }
        },
      ),
      { numRuns: 500 },
    );
    // The property says something only if both kinds of answer come up.
    expect(known).toBeGreaterThan(100);
    expect(unknown).toBeGreaterThan(25);
  });

  test('knows every condition of only time-free leaves', () => {
    const timeFree = (condition: Condition): boolean => {
      switch (condition.kind) {
        case 'all':
        case 'any':
          return condition.conditions.every(timeFree);
        case 'not':
          return timeFree(condition.condition);
        case 'lifecycle':
        case 'lastSeen':
          return false;
        case 'interest':
          return condition.minScore === undefined;
        default:
          return true;
      }
    };
    fc.assert(
      fc.property(states, conditions.filter(timeFree), (state, condition) => {
        expect(evaluateCondition(condition, state, undefined, settings)).toBeTypeOf('boolean');
      }),
    );
  });
});
