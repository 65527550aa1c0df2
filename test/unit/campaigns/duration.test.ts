import { describe, expect, it } from 'vitest';
import { duration, durationHint, offset, parseDuration } from '#shared/campaigns/duration.ts';

const minute = 60_000;
const hour = 60 * minute;
const day = 24 * hour;

describe('parseDuration', () => {
  it.each([
    ['30m', 30 * minute],
    ['1h', hour],
    ['24h', day],
    ['7d', 7 * day],
    ['2w', 14 * day],
    [' 90m ', 90 * minute],
    ['1 h', hour],
  ])('reads %j as %i ms', (text, millis) => {
    expect(parseDuration(text)).toBe(millis);
  });

  it.each(['', 'soon', 'h', '1', '0d', '1h30m', '1.5h', '-1d', '2y', '1H', '10s'])('refuses %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe('duration fields', () => {
  it('keep what the marketer wrote next to the milliseconds', () => {
    expect(duration.parse(' 60d')).toEqual({ text: '60d', millis: 60 * day });
  });

  it('say what a duration looks like when given something else', () => {
    for (const input of ['later', 5, null]) {
      const parsed = duration.safeParse(input);
      expect(parsed.success).toBe(false);
      expect(parsed.error?.issues.map((issue) => issue.message)).toEqual([durationHint]);
    }
  });
});

describe('offsets', () => {
  it.each([
    ['30d', 30 * day],
    ['+30d', 30 * day],
    ['-3d', -3 * day],
    ['-12h', -12 * hour],
    ['0d', 0],
    ['0', 0],
  ])('read %j as %i ms from the date', (text, millis) => {
    expect(offset.parse(text).millis).toBe(millis);
  });

  it.each(['3x', '--3d', '-', 'tomorrow'])('refuse %j with an example', (text) => {
    const parsed = offset.safeParse(text);
    expect(parsed.error?.issues.map((issue) => issue.message)).toEqual([
      'expected an offset like "30d" or "-3d"',
    ]);
  });
});
