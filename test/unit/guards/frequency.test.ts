import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  frequencyCapped,
  type LedgerEntry,
  lastEnteredAt,
  pruneLedger,
  reentryBlocked,
} from '#shared/guards/frequency.ts';

const day = 86_400_000;
const now = new Date('2026-05-10T12:00:00.000Z');

function daysBefore(days: number): string {
  return new Date(now.getTime() - days * day).toISOString();
}

function sent(campaignId: string, daysAgo: number): LedgerEntry {
  return { campaignId, at: daysBefore(daysAgo) };
}

const weekCap = (max: number) => ({ max, per: { millis: 7 * day } });

describe('frequency cap', () => {
  test('counts the sends of every campaign in the window', () => {
    const recent = [sent('a', 1), sent('b', 2), sent('c', 3)];
    expect(frequencyCapped(recent, now, weekCap(3))).toBe(true);
    expect(frequencyCapped(recent, now, weekCap(4))).toBe(false);
    expect(frequencyCapped([], now, weekCap(1))).toBe(false);
  });

  test('the window is (at - per, at]', () => {
    expect(frequencyCapped([sent('a', 0)], now, weekCap(1))).toBe(true);
    expect(frequencyCapped([sent('a', 7)], now, weekCap(1))).toBe(false);
    expect(
      frequencyCapped(
        [{ campaignId: 'a', at: new Date(now.getTime() - 7 * day + 1).toISOString() }],
        now,
        weekCap(1),
      ),
    ).toBe(true);
    expect(frequencyCapped([sent('a', -0.001)], now, weekCap(1))).toBe(false);
  });

  test('a time that does not parse counts for nothing', () => {
    expect(frequencyCapped([{ campaignId: 'a', at: 'yesterday' }], now, weekCap(1))).toBe(false);
  });
});

describe('re-entry', () => {
  const every30Days = { every: { text: '30d', millis: 30 * day } };

  test('once: any earlier entry blocks, however old', () => {
    expect(reentryBlocked(daysBefore(400), 'once', now)).toBe(true);
    expect(reentryBlocked('not a time', 'once', now)).toBe(true);
    expect(reentryBlocked(undefined, 'once', now)).toBe(false);
  });

  test('every D: an entry less than D ago blocks', () => {
    expect(reentryBlocked(daysBefore(29), every30Days, now)).toBe(true);
    expect(reentryBlocked(daysBefore(30), every30Days, now)).toBe(false);
    expect(reentryBlocked(daysBefore(45), every30Days, now)).toBe(false);
    expect(reentryBlocked(undefined, every30Days, now)).toBe(false);
    // Evaluated late, for an earlier fire time: a later entry is as close.
    expect(reentryBlocked(daysBefore(-1), every30Days, now)).toBe(true);
  });

  test("the last entry is the latest of the campaign's record and its recent sends", () => {
    const recent = [sent('vip', 3), sent('vip', 1), sent('other', 0), sent('vip', 2)];
    expect(lastEnteredAt('vip', recent)).toBe(daysBefore(1));
    expect(lastEnteredAt('vip', recent, { vip: daysBefore(5) })).toBe(daysBefore(1));
    expect(lastEnteredAt('vip', recent, { vip: daysBefore(0.5) })).toBe(daysBefore(0.5));
    // A hold-out leaves no send, only the record.
    expect(lastEnteredAt('welcome', recent, { welcome: daysBefore(300), vip: daysBefore(0) })).toBe(
      daysBefore(300),
    );
    expect(lastEnteredAt('welcome', recent, { vip: daysBefore(0) })).toBeUndefined();
    expect(lastEnteredAt('constructor', recent, {})).toBeUndefined();
  });
});

describe('pruning the ledger', () => {
  test('drops the sends older than kept and times that do not parse', () => {
    const recent = [
      sent('welcome', 300),
      sent('vip', 8),
      sent('vip', 2),
      { campaignId: 'vip', at: 'soon' },
      sent('news', -1),
    ];
    expect(pruneLedger(recent, now, 7 * day)).toEqual([sent('vip', 2), sent('news', -1)]);
    expect(pruneLedger(recent, now, 7 * day + 1)).toEqual([sent('vip', 2), sent('news', -1)]);
    expect(pruneLedger(recent, now, 8 * day + 1)).toEqual([sent('vip', 8), sent('vip', 2), sent('news', -1)]);
  });

  test('pruning to the cap window changes no frequency verdict', () => {
    const entry = fc.record({
      campaignId: fc.constantFrom('welcome', 'vip', 'news'),
      at: fc
        .integer({ min: -2 * day, max: 400 * day })
        .map((ago) => new Date(now.getTime() - ago).toISOString()),
    });
    fc.assert(
      fc.property(
        fc.array<LedgerEntry>(entry, { maxLength: 30 }),
        fc.integer({ min: 1, max: 60 * day }),
        fc.integer({ min: 0, max: 60 * day }),
        fc.integer({ min: 1, max: 5 }),
        (recent, window, extra, max) => {
          const pruned = pruneLedger(recent, now, window + extra);
          const cap = { max, per: { millis: window } };
          expect(frequencyCapped(pruned, now, cap)).toBe(frequencyCapped(recent, now, cap));
          expect(pruned.every((kept) => recent.includes(kept))).toBe(true);
        },
      ),
    );
  });
});
