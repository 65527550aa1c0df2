import { describe, expect, it } from 'vitest';
import { correctedEventTime, formatInstant, parseInstant } from '#shared/collect/time.ts';

const noon = Date.UTC(2024, 4, 1, 12, 0, 0);
const hour = 3_600_000;

describe('parseInstant', () => {
  it('reads the ISO 8601 forms Segment clients send', () => {
    expect(parseInstant('2024-05-01T12:00:00.000Z')).toBe(noon);
    expect(parseInstant('2024-05-01T14:00:00+02:00')).toBe(noon);
    expect(parseInstant('2024-05-01T07:30:00-0430')).toBe(noon);
    // Python's isoformat(): microseconds and an explicit offset.
    expect(parseInstant('2024-05-01T12:00:00.123456+00:00')).toBe(noon + 123);
    expect(parseInstant('2024-05-01')).toBe(Date.UTC(2024, 4, 1));
  });

  it('takes a date-time without an offset as UTC, whatever the machine says', () => {
    expect(parseInstant('2024-05-01T12:00:00')).toBe(noon);
    expect(parseInstant('2024-05-01 12:00')).toBe(noon);
  });

  it('refuses text that is no date, or a day that does not exist', () => {
    for (const text of [
      'yesterday',
      '2024-13-01T00:00:00Z',
      '2023-02-29',
      '2024-04-31',
      '2024-05-01T24:00:00Z',
      '',
    ]) {
      expect(parseInstant(text), text).toBeUndefined();
    }
    expect(parseInstant('2024-02-29')).toBe(Date.UTC(2024, 1, 29));
  });

  it('keeps years below 100 as they are', () => {
    expect(formatInstant(parseInstant('0050-01-01T00:00:00Z') ?? Number.NaN)).toBe(
      '0050-01-01T00:00:00.000Z',
    );
  });
});

describe('formatInstant', () => {
  it('writes ISO 8601 UTC with milliseconds, within years 0000-9999', () => {
    expect(formatInstant(noon + 5)).toBe('2024-05-01T12:00:00.005Z');
    expect(formatInstant(Date.UTC(10_000, 0, 1))).toBeUndefined();
    expect(formatInstant(Number.NaN)).toBeUndefined();
  });
});

describe('clock-skew correction', () => {
  it('corrects a client clock that is 1 hour fast', () => {
    // The event happened 5 s before the request was sent, by the client's clock, which runs an hour ahead.
    const clientTimestamp = noon + hour - 5_000;
    const clientSentAt = noon + hour;
    expect(correctedEventTime(clientTimestamp, clientSentAt, noon)).toBe(noon - 5_000);
  });

  it('corrects a reset clock that thinks it is 1970', () => {
    expect(correctedEventTime(1_000, 61_000, noon)).toBe(noon - 60_000);
  });

  it('takes the timestamp as it is without sentAt, and the receive time without a timestamp', () => {
    expect(correctedEventTime(noon - hour, undefined, noon)).toBe(noon - hour);
    expect(correctedEventTime(undefined, noon + hour, noon)).toBe(noon);
  });
});
