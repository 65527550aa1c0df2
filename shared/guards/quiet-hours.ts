import type { SendingSettings } from '../campaigns/sending-settings.ts';
import type { JsonValue } from '../engagement/json-value.ts';

/**
 * Quiet hours: no mail between `start` and `end` on the customer's own wall clock, in their time
 * zone. A window that wraps midnight (21:00–08:00) covers the evening and the early morning; one that
 * does not (12:00–13:00) covers the middle of the day; `start` equal to `end` covers nothing.
 *
 * Time is local wall-clock time as Intl reports it, so daylight saving time is the zone's own: on
 * the night the clocks go forward an `end` that does not exist that night (02:30) is reached at the
 * moment the clocks jump past it, and on the night they go back the window ends at the first of the
 * two instants the clock shows `end`.
 */
export type QuietHours = NonNullable<SendingSettings['quietHours']>;

/** The customer's `timezone` trait when it names a time zone Intl knows, else `fallback`. */
export function customerTimezone(traits: Record<string, JsonValue>, fallback: string): string {
  const timezone = traits.timezone;
  return typeof timezone === 'string' && formatterOf(timezone) !== undefined ? timezone : fallback;
}

/**
 * When `at` falls in quiet hours in `timezone` (or, when that is absent or no zone, the default
 * one), the next instant the window ends; undefined when `at` is outside quiet hours or there are
 * none. The instant returned is after `at` and outside quiet hours.
 */
export function quietUntil(
  at: Date,
  timezone: string | undefined,
  quietHours: QuietHours | null,
): Date | undefined {
  if (quietHours === null) return undefined;
  const start = minuteOfDay(quietHours.start);
  const end = minuteOfDay(quietHours.end);
  if (start === end) return undefined;
  const zone = [timezone, quietHours.defaultTimezone].find(
    (name): name is string => name !== undefined && formatterOf(name) !== undefined,
  );
  const window = { start: start * minuteMillis, end: end * minuteMillis };
  let from = at.getTime();
  // An `end` found this way is outside the window but for a zone that skipped a whole day (Samoa,
  // 2011), where the clocks jumped from one evening to the next; one more step then gets out.
  for (let step = 0; step < 3; step++) {
    const wall = wallClock(from, zone);
    const time = ((wall % dayMillis) + dayMillis) % dayMillis;
    if (!inWindow(time, window)) return step === 0 ? undefined : new Date(from);
    const day = wall - time;
    const endDay = window.start > window.end && time >= window.start ? day + dayMillis : day;
    from = nextInstantShowing(endDay + window.end, from, zone);
  }
  return new Date(from);
}

const minuteMillis = 60_000;
const dayMillis = 86_400_000;

function minuteOfDay(timeOfDay: string): number {
  const [hours, minutes] = timeOfDay.split(':').map(Number);
  return (hours ?? 0) * 60 + (minutes ?? 0);
}

function inWindow(time: number, window: { start: number; end: number }): boolean {
  return window.start < window.end
    ? time >= window.start && time < window.end
    : time >= window.start || time < window.end;
}

/**
 * The first instant after `after` at which the clock of `zone` shows `wall` (local time written as
 * if it were UTC), or, when the clocks skip over it, at which they jump past it. The offset in force
 * a day either side covers every instant that can show it, as zones change offset at most once a day.
 */
function nextInstantShowing(wall: number, after: number, zone: string | undefined): number {
  const offsets = new Set([offsetAt(wall - dayMillis, zone), offsetAt(wall + dayMillis, zone)]);
  const candidates = [...offsets].map((offset) => wall - offset).sort((a, b) => a - b);
  const showing = candidates.find((instant) => instant > after && wallClock(instant, zone) === wall);
  if (showing !== undefined) return showing;
  // Skipped: the clock is before `wall` at the first candidate and past it at the last.
  let before = Math.max(after, candidates[0] ?? after);
  let past = Math.max(before + 1, candidates.at(-1) ?? before + 1);
  while (past - before > 1) {
    const middle = Math.floor((before + past) / 2);
    if (wallClock(middle, zone) >= wall) past = middle;
    else before = middle;
  }
  return past;
}

function offsetAt(instant: number, zone: string | undefined): number {
  return wallClock(instant, zone) - instant;
}

/** The local date and time of `instant` in `zone`, as milliseconds since the epoch read as UTC. */
function wallClock(instant: number, zone: string | undefined): number {
  const formatter = zone === undefined ? undefined : formatterOf(zone);
  if (formatter === undefined) return instant;
  const parts: Record<string, number> = {};
  for (const part of formatter.formatToParts(instant)) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  // setUTCFullYear, unlike Date.UTC, reads years 0 to 99 as they are.
  const wall = new Date(0).setUTCFullYear(parts.year ?? 1970, (parts.month ?? 1) - 1, parts.day ?? 1);
  const time = ((parts.hour ?? 0) * 60 + (parts.minute ?? 0)) * minuteMillis + (parts.second ?? 0) * 1000;
  return wall + time + (((instant % 1000) + 1000) % 1000);
}

/** Formatters by zone name; a name Intl refuses maps to undefined. Bounded: names come from traits. */
const formatters = new Map<string, Intl.DateTimeFormat | undefined>();
const maxFormatters = 1_000;

function formatterOf(zone: string): Intl.DateTimeFormat | undefined {
  if (formatters.has(zone)) return formatters.get(zone);
  let formatter: Intl.DateTimeFormat | undefined;
  try {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  } catch {
    formatter = undefined;
  }
  if (formatters.size >= maxFormatters) formatters.clear();
  formatters.set(zone, formatter);
  return formatter;
}
