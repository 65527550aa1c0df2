import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { customerTimezone, type QuietHours, quietUntil } from '#shared/guards/quiet-hours.ts';

const night: QuietHours = { start: '21:00', end: '08:00', defaultTimezone: 'UTC' };
const lunch: QuietHours = { start: '12:00', end: '13:00', defaultTimezone: 'UTC' };

function until(at: string, timezone: string | undefined, quietHours: QuietHours | null = night) {
  return quietUntil(new Date(at), timezone, quietHours)?.toISOString();
}

describe('quiet hours, a window over midnight', () => {
  test.each([
    ['2026-05-10T20:59:59.999Z', undefined],
    ['2026-05-10T21:00:00.000Z', '2026-05-11T08:00:00.000Z'],
    ['2026-05-10T23:59:59.999Z', '2026-05-11T08:00:00.000Z'],
    ['2026-05-11T00:00:00.000Z', '2026-05-11T08:00:00.000Z'],
    ['2026-05-11T07:59:59.999Z', '2026-05-11T08:00:00.000Z'],
    ['2026-05-11T08:00:00.000Z', undefined],
    ['2026-05-11T12:00:00.000Z', undefined],
  ])('at %s (UTC) until %s', (at, expected) => {
    expect(until(at, 'UTC')).toBe(expected);
  });

  test('on the customer clock, not the server one', () => {
    // 22:00 in Tokyo (UTC+9) is 13:00 UTC; 08:00 there is 23:00 UTC.
    expect(until('2026-05-10T13:00:00.000Z', 'Asia/Tokyo')).toBe('2026-05-10T23:00:00.000Z');
    expect(until('2026-05-10T13:00:00.000Z', 'UTC')).toBeUndefined();
    // Half-hour and quarter-hour offsets: Kathmandu is UTC+5:45.
    expect(until('2026-05-10T16:00:00.000Z', 'Asia/Kathmandu')).toBe('2026-05-11T02:15:00.000Z');
  });

  test('America/New_York when the clocks go forward (2026-03-08, 02:00 EST to 03:00 EDT)', () => {
    // 22:00 EST the evening before, and 01:30 EST that night: the morning is already EDT (UTC-4).
    expect(until('2026-03-08T03:00:00.000Z', 'America/New_York')).toBe('2026-03-08T12:00:00.000Z');
    expect(until('2026-03-08T06:30:00.000Z', 'America/New_York')).toBe('2026-03-08T12:00:00.000Z');
    // 21:30 EDT that evening.
    expect(until('2026-03-09T01:30:00.000Z', 'America/New_York')).toBe('2026-03-09T12:00:00.000Z');
    // An end that does not exist that night (02:30) is reached when the clocks jump to 03:00 EDT.
    const toHalfPastTwo = { ...night, end: '02:30' };
    expect(until('2026-03-08T06:30:00.000Z', 'America/New_York', toHalfPastTwo)).toBe(
      '2026-03-08T07:00:00.000Z',
    );
  });

  test('America/New_York when the clocks go back (2026-11-01, 02:00 EDT to 01:00 EST)', () => {
    // 22:00 EDT the evening before: the morning is EST (UTC-5).
    expect(until('2026-11-01T02:00:00.000Z', 'America/New_York')).toBe('2026-11-01T13:00:00.000Z');
    // 21:30 EST that evening.
    expect(until('2026-11-02T02:30:00.000Z', 'America/New_York')).toBe('2026-11-02T13:00:00.000Z');
    // 01:30 happens twice: 00:30 EDT waits for the first, 01:45 EDT is past it, 01:10 EST waits for the second.
    const toHalfPastOne = { ...night, end: '01:30' };
    expect(until('2026-11-01T04:30:00.000Z', 'America/New_York', toHalfPastOne)).toBe(
      '2026-11-01T05:30:00.000Z',
    );
    expect(until('2026-11-01T05:45:00.000Z', 'America/New_York', toHalfPastOne)).toBeUndefined();
    expect(until('2026-11-01T06:10:00.000Z', 'America/New_York', toHalfPastOne)).toBe(
      '2026-11-01T06:30:00.000Z',
    );
  });

  test('Europe/Berlin across both changes (2026-03-29 and 2026-10-25)', () => {
    // 23:00 CET (UTC+1), the morning is CEST (UTC+2); and back.
    expect(until('2026-03-28T22:00:00.000Z', 'Europe/Berlin')).toBe('2026-03-29T06:00:00.000Z');
    expect(until('2026-10-24T21:00:00.000Z', 'Europe/Berlin')).toBe('2026-10-25T07:00:00.000Z');
    // 02:30 on 2026-03-29 does not exist: 02:00 CET jumps to 03:00 CEST at 01:00 UTC.
    expect(until('2026-03-29T00:30:00.000Z', 'Europe/Berlin', { ...night, end: '02:30' })).toBe(
      '2026-03-29T01:00:00.000Z',
    );
  });

  test('a zone that skipped a whole day (Samoa, 2011-12-30)', () => {
    // 22:00 on 2011-12-29 at UTC-10; the next morning there was 2011-12-31, at UTC+14.
    expect(until('2011-12-30T08:00:00.000Z', 'Pacific/Apia')).toBe('2011-12-30T18:00:00.000Z');
  });
});

describe('quiet hours, a window within the day', () => {
  test.each([
    ['2026-05-10T11:59:59.999Z', undefined],
    ['2026-05-10T12:00:00.000Z', '2026-05-10T13:00:00.000Z'],
    ['2026-05-10T12:59:00.000Z', '2026-05-10T13:00:00.000Z'],
    ['2026-05-10T13:00:00.000Z', undefined],
    ['2026-05-10T23:00:00.000Z', undefined],
    ['2026-05-10T03:00:00.000Z', undefined],
  ])('at %s (UTC) until %s', (at, expected) => {
    expect(until(at, 'UTC', lunch)).toBe(expected);
  });

  test('in the customer zone', () => {
    // 12:30 CEST is 10:30 UTC.
    expect(until('2026-05-10T10:30:00.000Z', 'Europe/Berlin', lunch)).toBe('2026-05-10T11:00:00.000Z');
  });
});

describe('which zone and which window', () => {
  test('no quiet hours, or a window that starts where it ends, hold nothing', () => {
    expect(until('2026-05-10T23:00:00.000Z', 'UTC', null)).toBeUndefined();
    expect(until('2026-05-10T23:00:00.000Z', 'UTC', { ...night, end: '21:00' })).toBeUndefined();
  });

  test('a missing or unknown zone falls back to the default one', () => {
    const berlinNights = { ...night, defaultTimezone: 'Europe/Berlin' };
    // 20:30 UTC is 22:30 in Berlin.
    expect(until('2026-05-10T20:30:00.000Z', undefined, berlinNights)).toBe('2026-05-11T06:00:00.000Z');
    expect(until('2026-05-10T20:30:00.000Z', 'Mars/Olympus_Mons', berlinNights)).toBe(
      '2026-05-11T06:00:00.000Z',
    );
    expect(until('2026-05-10T20:30:00.000Z', '', berlinNights)).toBe('2026-05-11T06:00:00.000Z');
    expect(until('2026-05-10T20:30:00.000Z', 'UTC', berlinNights)).toBeUndefined();
  });

  test("the customer's zone is their timezone trait when Intl knows it", () => {
    expect(customerTimezone({ timezone: 'America/New_York' }, 'UTC')).toBe('America/New_York');
    expect(customerTimezone({ timezone: 'Mars/Olympus_Mons' }, 'Europe/Berlin')).toBe('Europe/Berlin');
    expect(customerTimezone({ timezone: 42 }, 'Europe/Berlin')).toBe('Europe/Berlin');
    expect(customerTimezone({}, 'Europe/Berlin')).toBe('Europe/Berlin');
  });
});

const zones = [
  'UTC',
  'America/New_York',
  'Europe/Berlin',
  'Europe/London',
  'America/Santiago',
  'America/St_Johns',
  'Australia/Lord_Howe',
  'Asia/Kathmandu',
  'Pacific/Chatham',
  'Pacific/Apia',
  'Asia/Tokyo',
  'Africa/Casablanca',
];

const timeOfDay = fc
  .tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }))
  .map(([hours, minutes]) => `${String(hours).padStart(2, '0')}:${String(minutes).padStart(2, '0')}`);

/** The wall clock's hour and minute at an instant, read independently of the code under test. */
function clockAt(instant: Date, zone: string): string {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone: zone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(instant);
}

describe('quiet hours, for any zone, window and time', () => {
  test('the end is after the time, outside quiet hours, and when the clock shows the end or jumps to it', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...zones),
        timeOfDay,
        timeOfDay,
        fc.date({
          min: new Date('1990-01-01T00:00:00Z'),
          max: new Date('2040-01-01T00:00:00Z'),
          noInvalidDate: true,
        }),
        (zone, start, end, at) => {
          expectQuietEnd(zone, { start, end, defaultTimezone: 'UTC' }, at);
        },
      ),
      { numRuns: 2_000 },
    );
  });

  test('around the clock changes of the zones, too', () => {
    // The same, at times within hours of the 2026 changes, where the odd cases are.
    const changes = [
      ['America/New_York', '2026-03-08T07:00:00Z'],
      ['America/New_York', '2026-11-01T06:00:00Z'],
      ['Europe/Berlin', '2026-03-29T01:00:00Z'],
      ['Europe/Berlin', '2026-10-25T01:00:00Z'],
      ['Australia/Lord_Howe', '2026-04-04T15:00:00Z'],
      ['America/Santiago', '2026-04-05T03:00:00Z'],
    ] as const;
    fc.assert(
      fc.property(
        fc.constantFrom(...changes),
        fc.integer({ min: -30 * 3_600_000, max: 30 * 3_600_000 }),
        timeOfDay,
        timeOfDay,
        ([zone, change], shift, start, end) => {
          expectQuietEnd(zone, { start, end, defaultTimezone: 'UTC' }, new Date(Date.parse(change) + shift));
        },
      ),
      { numRuns: 2_000 },
    );
  });
});

/**
 * When `at` is in quiet hours, the end is after it, outside quiet hours, on the minute, and shows the
 * window's end on the clock, unless the clocks skipped that and jumped to the end.
 */
function expectQuietEnd(zone: string, quietHours: QuietHours, at: Date): void {
  const result = quietUntil(at, zone, quietHours);
  if (result === undefined) return;
  expect(result.getTime()).toBeGreaterThan(at.getTime());
  expect(quietUntil(result, zone, quietHours)).toBeUndefined();
  expect(result.getTime() % 60_000).toBe(0);
  const shown = clockAt(result, zone);
  if (shown !== quietHours.end) {
    expect(clockAt(new Date(result.getTime() - 60_000), zone)).not.toBe(previousMinute(shown));
  }
}

function previousMinute(clock: string): string {
  const [hours = 0, minutes = 0] = clock.split(':').map(Number);
  const total = (hours * 60 + minutes + 1439) % 1440;
  return `${String(Math.floor(total / 60)).padStart(2, '0')}:${String(total % 60).padStart(2, '0')}`;
}
