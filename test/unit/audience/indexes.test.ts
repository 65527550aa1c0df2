import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { matchesAudience } from '#shared/audience/evaluate.ts';
import {
  dateQueries,
  type IndexItem,
  indexChanges,
  indexItemsOf,
  membershipRange,
} from '#shared/audience/indexes.ts';
import type { Condition } from '#shared/campaigns/audience.ts';
import type { Campaign } from '#shared/campaigns/campaign.ts';
import type { JsonValue } from '#shared/engagement/json-value.ts';
import type { EngagementState } from '#shared/engagement/state.ts';
import { shardOf } from '#shared/store/shard.ts';
import { dateIndexPartition, indexShards, membershipPartition } from '#shared/store/table.ts';
import {
  audience,
  campaignOf,
  catalogOf,
  conditions,
  customer,
  lastSeenConditions,
  settings,
  states,
  times,
} from './fixtures.ts';

const weekly = { kind: 'schedule', expression: 'cron(0 9 ? * MON *)' };
const member = (campaignId: string, sk: string, profileId = 'u1'): IndexItem => ({
  pk: membershipPartition(campaignId, shardOf(profileId, indexShards)),
  sk,
  attributes: { customerId: profileId },
});
const dated = (field: string, day: string, profileId = 'u1'): IndexItem => ({
  pk: dateIndexPartition(field, day.slice(5)),
  sk: `${day}#${profileId}`,
  attributes: { customerId: profileId },
});

function itemsOf(state: EngagementState | undefined, ...campaigns: Campaign[]): IndexItem[] {
  return indexItemsOf('u1', state, catalogOf(...campaigns), settings);
}

function scheduled(id: string, written?: unknown, enabled = true): Campaign {
  return campaignOf(id, weekly, {
    enabled,
    ...(written === undefined ? {} : { audience: audience(written) }),
  });
}

function dateCampaign(trigger: Record<string, unknown>, id = 'dates', enabled = true) {
  const found = campaignOf(id, { kind: 'date', ...trigger }, { enabled });
  const { trigger: parsed } = found;
  if (parsed.kind !== 'date') throw new Error('expected a date trigger');
  return { ...found, trigger: parsed };
}

/** The items a set of date-index queries reads, as DynamoDB would answer them. */
function queried(
  items: readonly IndexItem[],
  queries: ReturnType<typeof dateQueries>['queries'],
): IndexItem[] {
  return items.filter((item) =>
    queries.some(
      (query) =>
        item.pk === query.pk &&
        (query.skPrefix === undefined || item.sk.startsWith(query.skPrefix)) &&
        (query.skBefore === undefined || item.sk < query.skBefore),
    ),
  );
}

describe('audience membership', () => {
  const seenAt = '2025-05-20T08:30:00.000Z';
  const gold = customer({ tier: 'gold', web: { lastSeenAt: seenAt } });

  test('a customer without a state is in no index', () => {
    expect(
      itemsOf(undefined, scheduled('weekly'), dateCampaign({ field: 'traits.birthday', repeat: 'yearly' })),
    ).toEqual([]);
  });

  test('every customer is a member of a schedule campaign without an audience, in a shard of its partition', () => {
    expect(itemsOf(gold, scheduled('weekly'))).toEqual([member('weekly', 'u1')]);
    const shards = new Set(
      ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'].map(
        (id) => indexItemsOf(id, customer(), catalogOf(scheduled('weekly')), settings)[0]?.pk,
      ),
    );
    expect(shards.size).toBeGreaterThan(1);
    for (const pk of shards) expect(pk).toMatch(/^aud#weekly#[0-7]$/);
  });

  test('a customer is a member unless the audience is false at every time', () => {
    expect(itemsOf(gold, scheduled('vip', { tier: 'gold' }))).toEqual([member('vip', 'u1')]);
    expect(itemsOf(gold, scheduled('vip', { tier: 'silver' }))).toEqual([]);
    // Lapsed or not depends on when the campaign fires: a member, for the selection to decide.
    const buyer = customer({ orders: { count: 1 }, lastActivityAt: seenAt });
    expect(itemsOf(buyer, scheduled('winback', { lifecycle: 'lapsed' }))).toEqual([member('winback', 'u1')]);
    expect(itemsOf(customer(), scheduled('winback', { lifecycle: 'lapsed' }))).toEqual([]);
  });

  test('only enabled schedule campaigns keep members', () => {
    const others = [
      scheduled('paused', undefined, false),
      campaignOf('thanks', { kind: 'event', event: 'Order Completed' }),
      campaignOf('cart', {
        kind: 'delay-unless',
        on: 'Product Added',
        after: '1h',
        unless: 'Order Completed',
      }),
      dateCampaign({ field: 'traits.birthday', repeat: 'yearly' }),
    ];
    expect(itemsOf(gold, ...others)).toEqual([]);
    expect(itemsOf(gold, ...others, scheduled('weekly'))).toEqual([member('weekly', 'u1')]);
  });

  test('a lastSeen window at the top level puts the time first in the sort key', () => {
    const window = { 'web.lastSeenAt': { olderThan: '60d' } };
    const sk = `${seenAt}#u1`;
    expect(itemsOf(gold, scheduled('alone', window))).toEqual([member('alone', sk)]);
    expect(itemsOf(gold, scheduled('among', { all: [{ tier: 'gold' }, window] }))).toEqual([
      member('among', sk),
    ]);
    // A segment resolves to a nested all: its window binds every member too.
    const nested = { all: [{ tier: 'gold' }, { all: [{ subscribed: false }, window] }] };
    expect(itemsOf(gold, scheduled('nested', nested))).toEqual([member('nested', sk)]);
  });

  test('a window that does not bind every member leaves the sort key the customer id', () => {
    const either = { any: [{ tier: 'gold' }, { 'web.lastSeenAt': { olderThan: '60d' } }] };
    expect(itemsOf(gold, scheduled('either', either))).toEqual([member('either', 'u1')]);
    const neither = { not: { 'web.lastSeenAt': { newerThan: '60d' } } };
    expect(itemsOf(gold, scheduled('neither', neither))).toEqual([member('neither', 'u1')]);
  });

  test('a customer never seen is in no lastSeen window', () => {
    const window = { all: [{ tier: 'gold' }, { 'web.lastSeenAt': { olderThan: '60d' } }] };
    expect(itemsOf(customer({ tier: 'gold' }), scheduled('quiet', window))).toEqual([]);
  });
});

describe('membershipRange', () => {
  const fire = new Date('2025-06-01T09:00:00.000Z');
  const iso = (days: number) => new Date(fire.getTime() - days * 86_400_000).toISOString();

  test('olderThan is an exclusive upper bound, newerThan a lower bound, at the fire time', () => {
    expect(membershipRange(scheduled('a', { 'web.lastSeenAt': { olderThan: '60d' } }), fire)).toEqual({
      to: iso(60),
    });
    expect(membershipRange(scheduled('b', { 'web.lastSeenAt': { newerThan: '7d' } }), fire)).toEqual({
      from: iso(7),
    });
    const window = {
      all: [{ subscribed: true }, { 'web.lastSeenAt': { olderThan: '60d', newerThan: '67d' } }],
    };
    expect(membershipRange(scheduled('c', window), fire)).toEqual({ from: iso(67), to: iso(60) });
  });

  test('several windows bind together', () => {
    const windows = {
      all: [
        { 'web.lastSeenAt': { olderThan: '30d', newerThan: '90d' } },
        { all: [{ 'web.lastSeenAt': { olderThan: '60d', newerThan: '120d' } }] },
      ],
    };
    expect(membershipRange(scheduled('d', windows), fire)).toEqual({ from: iso(90), to: iso(60) });
  });

  test('the whole partition otherwise', () => {
    expect(membershipRange(scheduled('e'), fire)).toBeUndefined();
    expect(membershipRange(scheduled('f', { tier: 'gold' }), fire)).toBeUndefined();
    const either = { any: [{ tier: 'gold' }, { 'web.lastSeenAt': { olderThan: '60d' } }] };
    expect(membershipRange(scheduled('g', either), fire)).toBeUndefined();
  });

  test('the range bounds the sort keys of exactly the customers in the window', () => {
    const window = { 'web.lastSeenAt': { olderThan: '60d', newerThan: '67d' } };
    const campaign = scheduled('window', window);
    const range = membershipRange(campaign, fire);
    const inRange = (sk: string) =>
      (range?.from === undefined || sk >= range.from) && (range?.to === undefined || sk < range.to);
    for (const days of [59, 60, 60.001, 63, 66.999, 67, 68]) {
      const state = customer({ web: { lastSeenAt: iso(days) } });
      const [item] = indexItemsOf('u1', state, catalogOf(campaign), settings);
      expect(item).toBeDefined();
      const sk = item?.sk ?? '';
      // The edge of newerThan may be read and then left out by the audience, never the other way.
      if (matchesAudience(campaign.audience, state, fire, settings)) expect(inRange(sk)).toBe(true);
      if (days !== 67) expect(inRange(sk)).toBe(matchesAudience(campaign.audience, state, fire, settings));
    }
  });

  test('whoever the audience takes at a fire time is a member, inside the range', () => {
    const audiences = fc.oneof(
      conditions,
      lastSeenConditions,
      fc
        .tuple(lastSeenConditions, conditions)
        .map(([window, other]): Condition => ({ kind: 'all', conditions: [other, window] })),
    );
    let taken = 0;
    let ranged = 0;
    fc.assert(
      fc.property(states, audiences, times, (state, written, fireTime) => {
        const campaign = campaignOf('prop', weekly, { audience: written });
        const items = indexItemsOf('u1', state, catalogOf(campaign), settings);
        if (!matchesAudience(written, state, fireTime, settings)) return;
        taken += 1;
        expect(items).toHaveLength(1);
        const sk = items[0]?.sk ?? '';
        const range = membershipRange(campaign, fireTime);
        if (range === undefined) {
          expect(sk).toBe('u1');
          return;
        }
        ranged += 1;
        expect(sk.endsWith('#u1')).toBe(true);
        if (range.from !== undefined) expect(sk >= range.from).toBe(true);
        if (range.to !== undefined) expect(sk < range.to).toBe(true);
      }),
      { numRuns: 500 },
    );
    expect(taken).toBeGreaterThan(20);
    expect(ranged).toBeGreaterThan(10);
  });
});

describe('date index', () => {
  const birthdays = dateCampaign({ field: 'traits.birthday', repeat: 'yearly' });
  const withBirthday = (birthday: JsonValue) => customer({ traits: { birthday } });

  test('a date as written is indexed under its month and day', () => {
    expect(itemsOf(withBirthday('1990-05-17'), birthdays)).toEqual([dated('traits.birthday', '1990-05-17')]);
  });

  test('a datetime is the day it was written on, whatever its offset', () => {
    expect(itemsOf(withBirthday('1990-05-17T23:30:00-05:00'), birthdays)).toEqual([
      dated('traits.birthday', '1990-05-17'),
    ]);
    expect(itemsOf(withBirthday('1990-05-17T01:00:00+09:00'), birthdays)).toEqual([
      dated('traits.birthday', '1990-05-17'),
    ]);
  });

  test('other text that is a date is taken on its UTC day', () => {
    expect(itemsOf(withBirthday('Thu, 17 May 1990 23:30:00 GMT'), birthdays)).toEqual([
      dated('traits.birthday', '1990-05-17'),
    ]);
    expect(itemsOf(withBirthday('Thu, 17 May 1990 23:30:00 GMT-0500'), birthdays)).toEqual([
      dated('traits.birthday', '1990-05-18'),
    ]);
  });

  test('no date, no entry', () => {
    for (const birthday of ['1990-02-30', '1990-13-01', 'soon', '', 19_900_517, null, true, { day: 17 }]) {
      expect(itemsOf(withBirthday(birthday), birthdays)).toEqual([]);
    }
    expect(itemsOf(customer(), birthdays)).toEqual([]);
    expect(itemsOf(withBirthday('2000-02-29'), birthdays)).toEqual([dated('traits.birthday', '2000-02-29')]);
    expect(itemsOf(withBirthday('1900-02-29'), birthdays)).toEqual([]);
  });

  test('each field an enabled date campaign fires on, once however many campaigns share it', () => {
    const state = customer({
      traits: { birthday: '1990-05-17', createdAt: '2024-01-09T10:00:00.000Z' },
      orders: { count: 2, firstOrderAt: '2024-02-01T12:00:00.000Z', lastOrderAt: '2025-04-30T23:59:59.999Z' },
    });
    const campaigns = [
      dateCampaign({ field: 'traits.birthday', repeat: 'yearly' }, 'birthday'),
      dateCampaign({ field: 'traits.birthday', repeat: 'yearly', offset: '-3d' }, 'birthday-soon'),
      dateCampaign({ field: 'orders.lastOrderAt', repeat: 'once', offset: '30d' }, 'miss-you'),
      dateCampaign({ field: 'orders.firstOrderAt', repeat: 'yearly' }, 'first-order'),
      dateCampaign({ field: 'traits.createdAt', repeat: 'yearly' }, 'signup', false),
    ];
    expect(itemsOf(state, ...campaigns)).toEqual([
      dated('traits.birthday', '1990-05-17'),
      dated('orders.firstOrderAt', '2024-02-01'),
      dated('orders.lastOrderAt', '2025-04-30'),
    ]);
    expect(itemsOf(state, dateCampaign({ field: 'traits.createdAt', repeat: 'yearly' }))).toEqual([
      dated('traits.createdAt', '2024-01-09'),
    ]);
  });

  test('date entries sit beside memberships', () => {
    const state = customer({ traits: { birthday: '1990-05-17' } });
    expect(itemsOf(state, birthdays, scheduled('weekly'))).toEqual([
      member('weekly', 'u1'),
      dated('traits.birthday', '1990-05-17'),
    ]);
  });
});

describe('dateQueries', () => {
  const at = (text: string) => new Date(text);

  test('yearly: the month and day of the fire day, in the years before it', () => {
    const birthdays = dateCampaign({ field: 'traits.birthday', repeat: 'yearly' });
    expect(dateQueries(birthdays, at('2025-05-17T09:00:00Z'))).toEqual({
      occurrence: '2025-05-17',
      queries: [{ pk: 'date#traits.birthday#05-17', skBefore: '2025' }],
    });
  });

  test('a negative offset looks ahead: 3 days before the birthday', () => {
    const soon = dateCampaign({ field: 'traits.birthday', repeat: 'yearly', offset: '-3d' });
    expect(dateQueries(soon, at('2025-05-14T09:00:00Z'))).toEqual({
      occurrence: '2025-05-17',
      queries: [{ pk: 'date#traits.birthday#05-17', skBefore: '2025' }],
    });
    expect(dateQueries(soon, at('2025-12-30T09:00:00Z'))).toEqual({
      occurrence: '2026-01-02',
      queries: [{ pk: 'date#traits.birthday#01-02', skBefore: '2026' }],
    });
    const hours = dateCampaign({ field: 'traits.birthday', repeat: 'yearly', offset: '-12h' });
    expect(dateQueries(hours, at('2025-05-16T13:00:00Z')).occurrence).toBe('2025-05-17');
    expect(dateQueries(hours, at('2025-05-16T11:00:00Z')).occurrence).toBe('2025-05-16');
  });

  test('once: the day itself, a positive offset looking back', () => {
    const missYou = dateCampaign({ field: 'orders.lastOrderAt', repeat: 'once', offset: '30d' });
    expect(dateQueries(missYou, at('2025-06-16T09:00:00Z'))).toEqual({
      occurrence: '2025-05-17',
      queries: [{ pk: 'date#orders.lastOrderAt#05-17', skPrefix: '2025-05-17#' }],
    });
  });

  test('Feb 29 is greeted on Feb 28 in a year without one, and on the day in a leap year', () => {
    const birthdays = dateCampaign({ field: 'traits.birthday', repeat: 'yearly' });
    expect(dateQueries(birthdays, at('2025-02-28T09:00:00Z')).queries).toEqual([
      { pk: 'date#traits.birthday#02-28', skBefore: '2025' },
      { pk: 'date#traits.birthday#02-29', skBefore: '2025' },
    ]);
    expect(dateQueries(birthdays, at('2100-02-28T09:00:00Z')).queries).toHaveLength(2);
    expect(dateQueries(birthdays, at('2024-02-28T09:00:00Z')).queries).toEqual([
      { pk: 'date#traits.birthday#02-28', skBefore: '2024' },
    ]);
    expect(dateQueries(birthdays, at('2024-02-29T09:00:00Z'))).toEqual({
      occurrence: '2024-02-29',
      queries: [{ pk: 'date#traits.birthday#02-29', skBefore: '2024' }],
    });
    expect(dateQueries(birthdays, at('2024-03-01T09:00:00Z')).queries).toEqual([
      { pk: 'date#traits.birthday#03-01', skBefore: '2024' },
    ]);
  });

  test('a yearly date never fires on the date itself: a sign-up is not its own anniversary', () => {
    const signups = dateCampaign({ field: 'traits.createdAt', repeat: 'yearly' });
    const items = itemsOf(customer({ traits: { createdAt: '2024-05-17T10:00:00Z' } }), signups);
    expect(queried(items, dateQueries(signups, at('2024-05-17T09:00:00Z')).queries)).toEqual([]);
    expect(queried(items, dateQueries(signups, at('2025-05-17T09:00:00Z')).queries)).toEqual(items);
  });

  /** The day of the date's anniversary in a year: Feb 29 falls on Feb 28 in a year without it. */
  function anniversary(date: string, year: number): string {
    const [month, day] = date.slice(5).split('-').map(Number);
    const found = new Date(0);
    found.setUTCFullYear(year, (month ?? 1) - 1, day);
    if (found.getUTCMonth() !== (month ?? 1) - 1) found.setUTCDate(0);
    return found.toISOString().slice(0, 10);
  }

  test('the queries find exactly the customers whose date falls on the day', () => {
    const firing = fc.record({
      fireDay: fc.oneof(
        fc.integer({ min: 19_000, max: 21_000 }),
        fc.constantFrom(
          ...['2025-02-28', '2028-02-29', '2027-03-01'].map((text) => Date.parse(text) / 86_400_000),
        ),
      ),
      hour: fc.integer({ min: 0, max: 23 }),
      offsetDays: fc.integer({ min: -40, max: 40 }),
      repeat: fc.constantFrom('yearly', 'once'),
    });
    // Dates anywhere, and dates on the target's month and day (or Feb 29) in years around it.
    const scenario = firing.chain((fire) => {
      const target = targetOf(fire);
      return fc
        .oneof(
          fc
            .integer({ min: -3_650, max: 20_500 })
            .map((days) => new Date(days * 86_400_000).toISOString().slice(0, 10)),
          fc.integer({ min: 1950, max: 2030 }).map((year) => `${year}${target.slice(4)}`),
          fc.constantFrom('1996-02-29', '2000-02-29', '2024-02-29', target),
        )
        .map((date) => ({ ...fire, date, target }));
    });
    let found = 0;
    fc.assert(
      fc.property(scenario, ({ date, target, fireDay, hour, offsetDays, repeat }) => {
        const campaign = dateCampaign({ field: 'traits.birthday', repeat, offset: `${offsetDays}d` });
        const items = itemsOf(customer({ traits: { birthday: date } }), campaign);
        const { occurrence, queries } = dateQueries(
          campaign,
          new Date(fireDay * 86_400_000 + hour * 3_600_000),
        );
        expect(occurrence).toBe(target);
        const year = Number(target.slice(0, 4));
        const due =
          items.length > 0 &&
          (repeat === 'once'
            ? date === target
            : Number(date.slice(0, 4)) < year && anniversary(date, year) === target);
        if (due) found += 1;
        expect(queried(items, queries)).toEqual(due ? items : []);
      }),
      { numRuns: 1_000 },
    );
    expect(found).toBeGreaterThan(100);
  });
});

/** The day a campaign firing at the hour of the day looks for: the offset earlier. */
function targetOf({
  fireDay,
  hour,
  offsetDays,
}: {
  fireDay: number;
  hour: number;
  offsetDays: number;
}): string {
  return new Date((fireDay - offsetDays) * 86_400_000 + hour * 3_600_000).toISOString().slice(0, 10);
}

describe('indexChanges', () => {
  const a = member('weekly', 'u1');
  const b = dated('traits.birthday', '1990-05-17');

  test('puts new items and deletes the ones no longer wanted', () => {
    expect(indexChanges([], [a, b])).toEqual({ puts: [a, b], deletes: [] });
    expect(indexChanges([a, b], [b])).toEqual({ puts: [], deletes: [{ pk: a.pk, sk: a.sk }] });
    expect(indexChanges([a, b], [b, a])).toEqual({ puts: [], deletes: [] });
  });

  test('puts an item whose attributes changed', () => {
    const changed = { ...a, attributes: { customerId: 'u1', score: 2 } };
    expect(indexChanges([a], [changed])).toEqual({ puts: [changed], deletes: [] });
    const renamed = { ...a, attributes: { customerId: 'u2' } };
    expect(indexChanges([a], [renamed])).toEqual({ puts: [renamed], deletes: [] });
  });

  test('a customer seen again moves to a new sort key', () => {
    const window = scheduled('window', { 'web.lastSeenAt': { olderThan: '60d' } });
    const before = itemsOf(customer({ web: { lastSeenAt: '2025-01-01T00:00:00.000Z' } }), window);
    const after = itemsOf(customer({ web: { lastSeenAt: '2025-03-01T00:00:00.000Z' } }), window);
    expect(indexChanges(before, after)).toEqual({
      puts: [member('window', '2025-03-01T00:00:00.000Z#u1')],
      deletes: [{ pk: member('window', '').pk, sk: '2025-01-01T00:00:00.000Z#u1' }],
    });
  });

  test('applied to the table, the changes leave exactly the new items', () => {
    const item = fc.record({
      pk: fc.constantFrom('aud#a#0', 'aud#a#1', 'date#traits.birthday#05-17'),
      sk: fc.constantFrom('u1', 'u2', '1990-05-17#u1'),
      attributes: fc.record({ customerId: fc.constantFrom('u1', 'u2') }),
    });
    const unique = (items: IndexItem[]) =>
      fc.constant([...new Map(items.map((found) => [`${found.pk} ${found.sk}`, found])).values()]);
    fc.assert(
      fc.property(
        fc.array(item, { maxLength: 6 }).chain(unique),
        fc.array(item, { maxLength: 6 }).chain(unique),
        (before, after) => {
          const table = new Map(before.map((found) => [`${found.pk} ${found.sk}`, found]));
          const { puts, deletes } = indexChanges(before, after);
          for (const key of deletes) table.delete(`${key.pk} ${key.sk}`);
          for (const put of puts) table.set(`${put.pk} ${put.sk}`, put);
          const sortKey = (found: IndexItem) => `${found.pk} ${found.sk}`;
          expect([...table.values()].sort((x, y) => sortKey(x).localeCompare(sortKey(y)))).toEqual(
            [...after].sort((x, y) => sortKey(x).localeCompare(sortKey(y))),
          );
          expect(puts.length).toBeLessThanOrEqual(after.length);
          for (const put of puts) {
            const old = before.find((found) => found.pk === put.pk && found.sk === put.sk);
            expect(old === undefined || old.attributes.customerId !== put.attributes.customerId).toBe(true);
          }
        },
      ),
    );
  });
});
