import type { Condition } from '../campaigns/audience.ts';
import { type Campaign, type DateField, dateFields } from '../campaigns/campaign.ts';
import type { Catalog } from '../campaigns/catalog.ts';
import type { JsonValue } from '../engagement/json-value.ts';
import type { EngagementSettings } from '../engagement/settings.ts';
import type { EngagementState } from '../engagement/state.ts';
import { shardOf } from '../store/shard.ts';
import { dateIndexPartition, indexShards, membershipPartition } from '../store/table.ts';
import { evaluateCondition } from './evaluate.ts';

/**
 * The indexes campaigns keep on write, so that choosing an audience reads only its members
 * (see shared/store/table.ts for the layout):
 *
 * - a membership item per schedule campaign whose audience the customer may be in: statically not
 *   false, which holds at every time, so the index never needs a sweep as time passes. The
 *   selection still evaluates the audience at its fire time. When the audience requires a
 *   `web.lastSeenAt` window, the sort key starts with that time and the selection queries only the
 *   window (membershipRange);
 * - a date index entry per date field that an enabled date campaign fires on, under the month and
 *   day, so that a day's campaign reads one partition (dateQueries).
 */
export interface IndexItem {
  pk: string;
  sk: string;
  attributes: Record<string, string | number>;
}

/** The index items a customer's state puts in the table, for every enabled campaign of the catalog that needs them. */
export function indexItemsOf(
  profileId: string,
  state: EngagementState | undefined,
  catalog: Catalog,
  settings: EngagementSettings,
): IndexItem[] {
  if (state === undefined) return [];
  const enabled = catalog.campaigns.filter((campaign) => campaign.enabled);
  const members = enabled.flatMap((campaign) =>
    campaign.trigger.kind === 'schedule' ? membershipItems(profileId, state, campaign, settings) : [],
  );
  const fields = new Set(enabled.flatMap((campaign) => dateFieldOf(campaign) ?? []));
  const dates = dateFields
    .filter((field) => fields.has(field))
    .flatMap((field) => dateItems(profileId, state, field));
  return [...members, ...dates];
}

/** What to write so the table holds `after`'s items instead of `before`'s: items to put (new or changed attributes) and keys to delete. */
export function indexChanges(
  before: readonly IndexItem[],
  after: readonly IndexItem[],
): { puts: IndexItem[]; deletes: { pk: string; sk: string }[] } {
  const held = new Map(before.map((item) => [keyOf(item), item]));
  const wanted = new Map(after.map((item) => [keyOf(item), item]));
  const puts = [...wanted].flatMap(([key, item]) => {
    const old = held.get(key);
    return old !== undefined && sameAttributes(old.attributes, item.attributes) ? [] : [item];
  });
  const deletes = [...held]
    .filter(([key]) => !wanted.has(key))
    .map(([, item]) => ({ pk: item.pk, sk: item.sk }));
  return { puts, deletes };
}

/**
 * The membership sort-key range a schedule campaign's selection may query at `fireTime`, or
 * undefined for the whole partition. `from` is inclusive and `to` exclusive; the range may hold a
 * member just on its lower edge that the audience then leaves out, never leaves one out.
 */
export function membershipRange(
  campaign: Campaign,
  fireTime: Date,
): { from?: string; to?: string } | undefined {
  const windows = campaign.audience === undefined ? [] : lastSeenWindows(campaign.audience);
  if (windows.length === 0) return undefined;
  const fire = fireTime.getTime();
  let from: number | undefined;
  let to: number | undefined;
  for (const { olderThan, newerThan } of windows) {
    if (newerThan !== undefined) from = Math.max(from ?? Number.NEGATIVE_INFINITY, fire - newerThan.millis);
    if (olderThan !== undefined) to = Math.min(to ?? Number.POSITIVE_INFINITY, fire - olderThan.millis);
  }
  return {
    ...(from === undefined ? {} : { from: new Date(from).toISOString() }),
    ...(to === undefined ? {} : { to: new Date(to).toISOString() }),
  };
}

/**
 * The date-index queries of a date campaign firing on the UTC day of `fireTime`: partitions with an
 * optional sort-key prefix / upper bound, and the occurrence (target date YYYY-MM-DD).
 *
 * The target day is the fire time moved back by the offset: a campaign 3 days before birthdays
 * (-3d) firing on May 14 looks for May 17. A yearly campaign takes the years before the target's,
 * so that "a year since sign-up" does not fire on the sign-up day; in a year without Feb 29, those
 * born on Feb 29 are greeted on Feb 28.
 */
export function dateQueries(
  campaign: Campaign & { trigger: { kind: 'date' } },
  fireTime: Date,
): { occurrence: string; queries: { pk: string; skPrefix?: string; skBefore?: string }[] } {
  const { field, offset, repeat } = campaign.trigger;
  const target = new Date(fireTime.getTime() - offset.millis);
  const occurrence = target.toISOString().slice(0, 10);
  const monthDay = occurrence.slice(5);
  if (repeat === 'once') {
    return { occurrence, queries: [{ pk: dateIndexPartition(field, monthDay), skPrefix: `${occurrence}#` }] };
  }
  const year = target.getUTCFullYear();
  const skBefore = String(year).padStart(4, '0');
  const queries = [{ pk: dateIndexPartition(field, monthDay), skBefore }];
  if (monthDay === '02-28' && !isLeapYear(year))
    queries.push({ pk: dateIndexPartition(field, '02-29'), skBefore });
  return { occurrence, queries };
}

type LastSeen = Extract<Condition, { kind: 'lastSeen' }>;

/**
 * The `web.lastSeenAt` windows every member must be in: the audience itself, or any condition
 * reached from it through `all` only. Nested `all`s count too, since a segment resolves to one.
 */
function lastSeenWindows(audience: Condition): LastSeen[] {
  if (audience.kind === 'lastSeen') return [audience];
  if (audience.kind === 'all') return audience.conditions.flatMap(lastSeenWindows);
  return [];
}

function membershipItems(
  profileId: string,
  state: EngagementState,
  campaign: Campaign,
  settings: EngagementSettings,
): IndexItem[] {
  const { audience } = campaign;
  if (audience !== undefined && evaluateCondition(audience, state, undefined, settings) === false) return [];
  const pk = membershipPartition(campaign.id, shardOf(profileId, indexShards));
  const attributes = { customerId: profileId };
  if (audience === undefined || lastSeenWindows(audience).length === 0) {
    return [{ pk, sk: profileId, attributes }];
  }
  // Unreachable in practice: a window of web.lastSeenAt is false for a customer never seen.
  const { lastSeenAt } = state.web;
  return lastSeenAt === null ? [] : [{ pk, sk: `${lastSeenAt}#${profileId}`, attributes }];
}

function dateFieldOf(campaign: Campaign): DateField | undefined {
  return campaign.trigger.kind === 'date' ? campaign.trigger.field : undefined;
}

function dateItems(profileId: string, state: EngagementState, field: DateField): IndexItem[] {
  const day = calendarDayOf(dateValueOf(state, field));
  if (day === undefined) return [];
  return [
    {
      pk: dateIndexPartition(field, day.slice(5)),
      sk: `${day}#${profileId}`,
      attributes: { customerId: profileId },
    },
  ];
}

function dateValueOf(state: EngagementState, field: DateField): JsonValue | undefined {
  switch (field) {
    case 'traits.birthday':
      return state.traits.birthday;
    case 'traits.createdAt':
      return state.traits.createdAt;
    case 'orders.firstOrderAt':
      return state.orders.firstOrderAt;
    case 'orders.lastOrderAt':
      return state.orders.lastOrderAt;
  }
}

const writtenDay = /^(\d{4})-(\d{2})-(\d{2})/;

/**
 * The YYYY-MM-DD of a date as the customer's data gives it. A value that starts with a day is that
 * day, whatever time and offset follow: a birthday is a day, not an instant. Other text is taken as
 * Date.parse reads it, on its UTC day. A day that is not on the calendar (1990-02-30) is no date.
 */
function calendarDayOf(value: JsonValue | undefined): string | undefined {
  if (typeof value !== 'string') return undefined;
  const written = writtenDay.exec(value.trim());
  if (written !== null) {
    const [day, year, month, date] = written;
    return isCalendarDay(Number(year), Number(month), Number(date)) ? day : undefined;
  }
  const millis = Date.parse(value);
  if (Number.isNaN(millis)) return undefined;
  const parsed = new Date(millis);
  const year = parsed.getUTCFullYear();
  return year >= 0 && year <= 9999 ? parsed.toISOString().slice(0, 10) : undefined;
}

function isCalendarDay(year: number, month: number, date: number): boolean {
  const days = [31, isLeapYear(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  return days !== undefined && date >= 1 && date <= days;
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function keyOf(item: { pk: string; sk: string }): string {
  return JSON.stringify([item.pk, item.sk]);
}

function sameAttributes(a: IndexItem['attributes'], b: IndexItem['attributes']): boolean {
  const keys = Object.keys(a);
  return (
    keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && a[key] === b[key])
  );
}
