/**
 * Event time as Segment defines it. Clients send ISO 8601 strings from clocks that may be wrong by
 * minutes or years (a phone with a reset clock says 1970); the server's receive time is the one
 * clock we trust.
 */

const isoInstant =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?)?$/;

const daysInMonth = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function monthLength(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return month === 2 && leap ? 29 : (daysInMonth[month - 1] ?? 0);
}

/**
 * Epoch milliseconds of an ISO 8601 date or date-time, or undefined when the text is not one or names
 * a day that does not exist. A date-time without an offset is taken as UTC rather than as the local
 * time of whatever machine runs this, so that a laptop and Lambda agree.
 */
export function parseInstant(text: string): number | undefined {
  const match = isoInstant.exec(text);
  if (!match) return undefined;
  const [
    ,
    year,
    month,
    day,
    hour = '0',
    minute = '0',
    second = '0',
    fraction = '',
    ,
    sign,
    offsetHours,
    offsetMinutes,
  ] = match;
  const y = Number(year);
  const mo = Number(month);
  const d = Number(day);
  const h = Number(hour);
  const mi = Number(minute);
  const s = Number(second);
  const oh = Number(offsetHours ?? '0');
  const om = Number(offsetMinutes ?? '0');
  if (mo < 1 || mo > 12 || d < 1 || d > monthLength(y, mo)) return undefined;
  if (h > 23 || mi > 59 || s > 59 || oh > 23 || om > 59) return undefined;
  const millis = Number(`${fraction}00`.slice(0, 3));
  const date = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not read years 0-99 as 1900-1999.
  date.setUTCFullYear(y, mo - 1, d);
  date.setUTCHours(h, mi, s, millis);
  const offset = (sign === '-' ? -1 : 1) * (oh * 60 + om) * 60_000;
  return date.getTime() - offset;
}

/** ISO 8601 UTC with milliseconds, or undefined outside the years 0000-9999 that the format can carry. */
export function formatInstant(millis: number): string | undefined {
  const date = new Date(millis);
  if (Number.isNaN(date.getTime())) return undefined;
  const year = date.getUTCFullYear();
  if (year < 0 || year > 9999) return undefined;
  return date.toISOString();
}

/**
 * Segment's clock-skew correction. A client's clock may be off, but the gap between the time it gives
 * the event and the time it says it sent the request is still right; anchoring that gap at our receive
 * time puts the event on the server's clock:
 *
 *   timestamp = receivedAt - (sentAt - originalTimestamp)
 *
 * Without sentAt the client's timestamp is taken as it is (a historical import); without a timestamp
 * the event happened when it arrived.
 */
export function correctedEventTime(
  clientTime: number | undefined,
  sentAt: number | undefined,
  receivedAt: number,
): number {
  if (clientTime === undefined) return receivedAt;
  if (sentAt === undefined) return clientTime;
  return receivedAt - (sentAt - clientTime);
}
