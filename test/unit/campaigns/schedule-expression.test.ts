import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  latestFireAtOrBefore,
  nextFireAfter,
  parseRate,
  parseScheduleExpression,
  ScheduleExpressionError,
} from '#shared/campaigns/schedule-expression.ts';

const minute = 60_000;
const day = 86_400_000;
const at = (iso: string) => new Date(iso);
const iso = (date: Date | undefined) => date?.toISOString();

describe('parseScheduleExpression', () => {
  it('reads rate expressions as a period', () => {
    expect(parseScheduleExpression('rate(5 minutes)')).toEqual({
      kind: 'rate',
      text: 'rate(5 minutes)',
      periodMs: 5 * minute,
    });
    expect(parseRate(' rate( 1 day ) ')).toBe(day);
    expect(parseRate('rate(12 hours)')).toBe(12 * 3_600_000);
  });

  it('reads cron expressions with the text kept', () => {
    const parsed = parseScheduleExpression(' cron(0 9 ? * MON *) ');
    expect(parsed.kind).toBe('cron');
    expect(parsed.text).toBe('cron(0 9 ? * MON *)');
  });

  it.each([
    ['cron(0 9 ? * MON)', 'expected 6 fields (minutes hours day-of-month month day-of-week year), found 5'],
    ['cron(0 9 * * MON *)', 'exactly one of day-of-month and day-of-week must be "?"'],
    ['cron(0 9 ? * ? *)', 'exactly one of day-of-month and day-of-week must be "?"'],
    ['cron(0 25 ? * MON *)', 'number 25 is not between 0 and 23'],
    ['cron(60 9 ? * MON *)', 'number 60 is not between 0 and 59'],
    ['cron(0 9 32 * ? *)', 'number 32 is not between 1 and 31'],
    ['cron(0 9 ? 13 MON *)', 'number 13 is not between 1 and 12'],
    ['rate(1 minutes)', 'write rate(1 minute)'],
    ['rate(5 minute)', 'write rate(5 minutes)'],
    ['rate(0 hours)', 'the rate must be at least 1'],
    ['rate(30 seconds)', 'is not a rate expression'],
    ['every monday', 'is not a schedule expression'],
    ['0 9 ? * MON *', 'is not a schedule expression'],
  ])('refuses %s, saying why', (expression, reason) => {
    expect(() => parseScheduleExpression(expression)).toThrow(ScheduleExpressionError);
    expect(() => parseScheduleExpression(expression)).toThrow(reason);
  });
});

describe('cron fire times', () => {
  // Mondays at 09:00 UTC; 2026-11-02 is a Monday.
  const weekly = parseScheduleExpression('cron(0 9 ? * MON *)');

  it('take a fire at the very minute as the latest one', () => {
    expect(iso(latestFireAtOrBefore(weekly, at('2026-11-02T09:00:00.000Z')))).toBe(
      '2026-11-02T09:00:00.000Z',
    );
    expect(iso(latestFireAtOrBefore(weekly, at('2026-11-02T09:00:59.999Z')))).toBe(
      '2026-11-02T09:00:00.000Z',
    );
    expect(iso(latestFireAtOrBefore(weekly, at('2026-11-06T18:00:00.000Z')))).toBe(
      '2026-11-02T09:00:00.000Z',
    );
  });

  it('look back a week from just before the fire', () => {
    expect(iso(latestFireAtOrBefore(weekly, at('2026-11-02T08:59:59.999Z')))).toBe(
      '2026-10-26T09:00:00.000Z',
    );
  });

  it('find the next fire strictly after the given time', () => {
    expect(iso(nextFireAfter(weekly, at('2026-11-02T08:59:00.000Z')))).toBe('2026-11-02T09:00:00.000Z');
    expect(iso(nextFireAfter(weekly, at('2026-11-02T09:00:00.000Z')))).toBe('2026-11-09T09:00:00.000Z');
    expect(iso(nextFireAfter(weekly, at('2026-11-04T12:00:00.000Z')))).toBe('2026-11-09T09:00:00.000Z');
  });

  it('follow month ends and day-of-month lists', () => {
    const lastDay = parseScheduleExpression('cron(30 23 L * ? *)');
    expect(iso(nextFireAfter(lastDay, at('2026-02-01T00:00:00.000Z')))).toBe('2026-02-28T23:30:00.000Z');
    expect(iso(nextFireAfter(lastDay, at('2028-02-01T00:00:00.000Z')))).toBe('2028-02-29T23:30:00.000Z');
    const twiceMonthly = parseScheduleExpression('cron(0 8 1,15 * ? *)');
    expect(iso(latestFireAtOrBefore(twiceMonthly, at('2026-11-14T00:00:00.000Z')))).toBe(
      '2026-11-01T08:00:00.000Z',
    );
    expect(iso(nextFireAfter(twiceMonthly, at('2026-11-14T00:00:00.000Z')))).toBe('2026-11-15T08:00:00.000Z');
  });

  it('run out when the year field has passed', () => {
    const once = parseScheduleExpression('cron(0 9 1 1 ? 2020)');
    expect(nextFireAfter(once, at('2026-11-02T09:00:00.000Z'))).toBeUndefined();
    expect(iso(latestFireAtOrBefore(once, at('2026-11-02T09:00:00.000Z')))).toBe('2020-01-01T09:00:00.000Z');
  });
});

describe('rate fire times', () => {
  const everyFive = parseScheduleExpression('rate(5 minutes)');

  it('count periods from the Unix epoch unless given an origin', () => {
    expect(latestFireAtOrBefore(everyFive, new Date(17 * minute))?.getTime()).toBe(15 * minute);
    expect(latestFireAtOrBefore(everyFive, new Date(15 * minute))?.getTime()).toBe(15 * minute);
    expect(nextFireAfter(everyFive, new Date(15 * minute))?.getTime()).toBe(20 * minute);
    expect(latestFireAtOrBefore(everyFive, new Date(17 * minute), 3 * minute)?.getTime()).toBe(13 * minute);
    expect(nextFireAfter(everyFive, new Date(17 * minute), 3 * minute)?.getTime()).toBe(18 * minute);
  });

  it('have no fire before the origin, and fire first at it', () => {
    expect(latestFireAtOrBefore(everyFive, new Date(2 * minute), 3 * minute)).toBeUndefined();
    expect(nextFireAfter(everyFive, new Date(2 * minute), 3 * minute)?.getTime()).toBe(3 * minute);
  });

  it('bracket every time between the latest fire and the next one, a period apart', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4_000_000_000_000 }),
        fc.integer({ min: 0, max: 2_000_000_000_000 }),
        fc.constantFrom('rate(1 minute)', 'rate(7 minutes)', 'rate(3 hours)', 'rate(1 day)', 'rate(30 days)'),
        (time, origin, expression) => {
          const schedule = parseScheduleExpression(expression);
          if (schedule.kind !== 'rate') throw new Error('expected a rate');
          const latest = latestFireAtOrBefore(schedule, new Date(time), origin);
          const next = nextFireAfter(schedule, new Date(time), origin);
          if (next === undefined) throw new Error('a rate always has a next fire');
          expect(next.getTime()).toBeGreaterThan(time);
          if (latest === undefined) {
            expect(time).toBeLessThan(origin);
            expect(next.getTime()).toBe(origin);
            return;
          }
          expect(latest.getTime()).toBeLessThanOrEqual(time);
          expect(next.getTime() - latest.getTime()).toBe(schedule.periodMs);
          expect((latest.getTime() - origin) % schedule.periodMs).toBe(0);
        },
      ),
    );
  });
});
