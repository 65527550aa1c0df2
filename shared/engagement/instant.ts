/**
 * Event times as stored in engagement state: ISO 8601 UTC with milliseconds, whatever offset or
 * precision the event was sent with, so that stored times compare as text and as numbers alike.
 */
export interface Instant {
  at: string;
  millis: number;
}

/** Epoch milliseconds of an ISO timestamp; NaN when it is not one. */
export function millisOf(timestamp: string): number {
  return Date.parse(timestamp);
}

export function instantOf(timestamp: string): Instant | undefined {
  const millis = millisOf(timestamp);
  return Number.isNaN(millis) ? undefined : { at: new Date(millis).toISOString(), millis };
}

/** The later of a stored time and an event's, treating no time yet as earliest. */
export function laterAt(stored: string | null, when: Instant): string {
  return stored !== null && millisOf(stored) >= when.millis ? stored : when.at;
}

/** The earlier of a stored time and an event's, treating no time yet as latest. */
export function earlierAt(stored: string | null, when: Instant): string {
  return stored !== null && millisOf(stored) <= when.millis ? stored : when.at;
}
