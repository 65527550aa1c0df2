import type { Comparison, Condition, InterestCondition, TraitCondition } from '../campaigns/audience.ts';
import { millisOf } from '../engagement/instant.ts';
import { byKey, decayedScore, type InterestScore } from '../engagement/interests.ts';
import type { JsonValue } from '../engagement/json-value.ts';
import type { EngagementSettings } from '../engagement/settings.ts';
import type { EngagementState } from '../engagement/state.ts';
import { lifecycleOf } from '../engagement/view.ts';
import { toMinor } from '../money.ts';

/**
 * Whether a customer is in an audience. Evaluated at a time (`at`), every condition is true or false.
 * Evaluated statically (`at` undefined), as indexing on write does, a condition whose truth depends
 * on when it is asked is unknown (undefined), and all/any/not combine unknowns by Kleene's logic. A
 * static answer that is defined holds at every time: that is what lets an index built on write leave
 * a customer out for good.
 */
export type Truth = boolean | undefined;

export function evaluateCondition(
  condition: Condition,
  state: EngagementState,
  at: Date | undefined,
  settings: EngagementSettings,
): Truth {
  switch (condition.kind) {
    case 'all': {
      let truth: Truth = true;
      for (const inner of condition.conditions) {
        const found = evaluateCondition(inner, state, at, settings);
        if (found === false) return false;
        if (found === undefined) truth = undefined;
      }
      return truth;
    }
    case 'any': {
      let truth: Truth = false;
      for (const inner of condition.conditions) {
        const found = evaluateCondition(inner, state, at, settings);
        if (found === true) return true;
        if (found === undefined) truth = undefined;
      }
      return truth;
    }
    case 'not': {
      const found = evaluateCondition(condition.condition, state, at, settings);
      return found === undefined ? undefined : !found;
    }
    case 'segment':
      throw new Error(
        `audience refers to segment "${condition.name}", which was not resolved: load campaigns through parseCatalog`,
      );
    case 'subscribed':
      return (state.email.subscribed && !state.email.suppressed) === condition.value;
    case 'trait':
      return traitHolds(condition, state.traits);
    case 'count':
      return compares(
        condition.field === 'orders.count' ? state.orders.count : state.email.openedWithoutClickStreak,
        condition.compare,
      );
    case 'revenue': {
      const currency = settings.mainCurrency;
      return compares(state.orders.revenue[currency] ?? 0, minorBounds(condition.compare, currency));
    }
    case 'tier':
      return state.tier !== null && condition.in.includes(state.tier);
    case 'lifecycle':
      return lifecycleIn(condition.in, state, at, settings);
    case 'lastSeen':
      return lastSeenHolds(condition, state.web.lastSeenAt, at);
    case 'interest':
      return interestHolds(condition, state.interests, at, settings);
    case 'bought': {
      const { product, category } = condition;
      const bought =
        product !== undefined
          ? state.orders.productIds.includes(product)
          : category !== undefined && (state.orders.categories ?? []).includes(category);
      return bought !== condition.negate;
    }
    case 'cart': {
      const { cart } = state;
      if (condition.status !== undefined && !condition.status.includes(cart.status)) return false;
      if (condition.value === undefined) return true;
      return compares(cart.value, minorBounds(condition.value, cart.currency ?? settings.mainCurrency));
    }
  }
}

/** Whether the customer is in the audience at `at`; everyone is in an audience that is not given. */
export function matchesAudience(
  audience: Condition | undefined,
  state: EngagementState,
  at: Date,
  settings: EngagementSettings,
): boolean {
  return audience === undefined || evaluateCondition(audience, state, at, settings) === true;
}

function compares(actual: number, compare: Comparison<number>): boolean {
  const { gt, gte, lt, lte, eq } = compare;
  return (
    (gt === undefined || actual > gt) &&
    (gte === undefined || actual >= gte) &&
    (lt === undefined || actual < lt) &&
    (lte === undefined || actual <= lte) &&
    (eq === undefined || actual === eq)
  );
}

/**
 * Decimal bounds in minor units of the currency. The parser admits only non-negative decimals, so a
 * bound toMinor refuses is one too large to count exactly: above any amount a state can hold.
 */
function minorBounds(compare: Comparison<string>, currency: string): Comparison<number> {
  const minor = (bound: string | undefined) =>
    bound === undefined ? undefined : (toMinor(bound, currency) ?? Number.POSITIVE_INFINITY);
  return {
    gt: minor(compare.gt),
    gte: minor(compare.gte),
    lt: minor(compare.lt),
    lte: minor(compare.lte),
    eq: minor(compare.eq),
  };
}

function traitHolds(condition: TraitCondition, traits: Record<string, JsonValue>): boolean {
  const value = traitValue(traits, condition.name);
  switch (condition.op) {
    case 'eq':
      return value === condition.value;
    case 'in':
      return condition.values.some((candidate) => candidate === value);
    case 'exists':
      return (value !== undefined && value !== null) === condition.value;
    case 'contains': {
      const wanted = condition.value.toLowerCase();
      if (typeof value === 'string') return value.toLowerCase().includes(wanted);
      if (Array.isArray(value)) {
        return value.some((item) => typeof item === 'string' && item.toLowerCase() === wanted);
      }
      return false;
    }
  }
}

/**
 * A trait by name: a key of the traits as it is (clients do send keys with dots in them), else a
 * path of keys into nested objects, like "address.city". Only own keys count, so "constructor"
 * is no trait unless the customer has one.
 */
function traitValue(traits: Record<string, JsonValue>, name: string): JsonValue | undefined {
  if (Object.hasOwn(traits, name)) return traits[name];
  let value: JsonValue | undefined = traits;
  for (const key of name.split('.')) {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.hasOwn(value, key)) {
      return undefined;
    }
    value = value[key];
  }
  return value;
}

/**
 * A prospect is one at any time. A customer who bought is customer or repeat while active and
 * lapsed after a quiet spell, so statically the answer is known only when both or neither are listed,
 * or when there is no last activity to grow quiet from.
 */
function lifecycleIn(
  names: readonly string[],
  state: EngagementState,
  at: Date | undefined,
  settings: EngagementSettings,
): Truth {
  if (at !== undefined) return names.includes(lifecycleOf(state, at, settings));
  const count = state.orders.count;
  if (count === 0) return names.includes('prospect');
  const active = names.includes(count === 1 ? 'customer' : 'repeat');
  const lastActivityAt = state.lastActivityAt;
  if (lastActivityAt === null || Number.isNaN(millisOf(lastActivityAt))) return active;
  return active === names.includes('lapsed') ? active : undefined;
}

/**
 * Seen before `at - olderThan` and after `at - newerThan`. Never seen matches neither, and a window
 * with newerThan no longer than olderThan is empty: both are known without a time.
 */
function lastSeenHolds(
  condition: Extract<Condition, { kind: 'lastSeen' }>,
  lastSeenAt: string | null,
  at: Date | undefined,
): Truth {
  const { olderThan, newerThan } = condition;
  const seen = lastSeenAt === null ? Number.NaN : millisOf(lastSeenAt);
  if (Number.isNaN(seen)) return false;
  if (olderThan !== undefined && newerThan !== undefined && newerThan.millis <= olderThan.millis) {
    return false;
  }
  if (olderThan === undefined && newerThan === undefined) return true;
  if (at === undefined) return undefined;
  const now = at.getTime();
  return (
    (olderThan === undefined || seen < now - olderThan.millis) &&
    (newerThan === undefined || seen > now - newerThan.millis)
  );
}

function interestHolds(
  condition: InterestCondition,
  interests: readonly InterestScore[],
  at: Date | undefined,
  settings: EngagementSettings,
): Truth {
  const ofKind = interests.filter((interest) => interest.kind === condition.interestKind);
  const interest = ofKind.find((candidate) => candidate.id === condition.id);
  if (interest === undefined) return false;
  const halfLifeDays = settings.interestHalfLifeDays;
  if (condition.top !== undefined && rankOf(interest, ofKind, halfLifeDays) >= condition.top) return false;
  if (condition.minScore === undefined) return true;
  // Scores only decay, so one already below the bound stays below it.
  if (interest.score < condition.minScore) return false;
  if (at === undefined) return undefined;
  return decayedScore(interest, at.getTime(), halfLifeDays) >= condition.minScore;
}

/**
 * The interest's place among its kind, strongest first (0 is the top), ties by key as the customer
 * view breaks them. Every score decays at the same rate, so the order is the same at every time; it
 * is computed at the latest update among them, where no score is decayed to before its own time
 * (decayedScore holds a score still for earlier times, which would break the invariance).
 */
function rankOf(interest: InterestScore, ofKind: readonly InterestScore[], halfLifeDays: number): number {
  const reference = Math.max(...ofKind.map((candidate) => millisOf(candidate.at)));
  const score = decayedScore(interest, reference, halfLifeDays);
  return ofKind.filter((other) => {
    const otherScore = decayedScore(other, reference, halfLifeDays);
    return otherScore > score || (otherScore === score && byKey(other, interest) < 0);
  }).length;
}
