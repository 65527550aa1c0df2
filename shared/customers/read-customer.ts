import type { IngestEvent } from '#events/ingest-event.ts';
import type { EngagementSettings } from '../engagement/settings.ts';
import { replayOrder } from '../engagement/state.ts';
import { type CustomerView, viewCustomer } from '../engagement/view.ts';
import { NotFoundError } from '../http.ts';
import { resolveProfile } from '../ingest/identity.ts';
import type { LiveProfile } from '../store/profiles.ts';
import { queryProfileEvents } from '../store/timeline.ts';

/** The customer's engagement state as of `now`, by userId or any linked anonymousId. */
export async function readCustomer(
  id: string,
  now: Date,
  settings: EngagementSettings,
): Promise<CustomerView> {
  const profile = await findProfile(id);
  return viewCustomer(profile.state, now, settings);
}

export interface TimelinePage {
  items: IngestEvent[];
  /** Pass as `before` to read the next (older) page; absent on the last page. */
  next?: string;
}

export const maxTimelineLimit = 500;

/**
 * The customer's events, newest first, one item per event. `before` is an ISO timestamp or the
 * `next` cursor of a previous page.
 */
export async function readTimeline(
  id: string,
  options: { limit: number; before?: TimelineCursor },
): Promise<TimelinePage> {
  const profile = await findProfile(id);
  const events = replayOrder(await queryProfileEvents(profile.members)).reverse();
  const before = options.before;
  const older = before ? events.filter((event) => isBefore(event, before)) : events;
  const items = older.slice(0, options.limit);
  const last = items.at(-1);
  return older.length > items.length && last
    ? { items, next: encodeCursor({ timestamp: last.timestamp, messageId: last.messageId }) }
    : { items };
}

export interface TimelineCursor {
  timestamp: string;
  /** Absent when the cursor is a plain timestamp: then every event at that instant is excluded. */
  messageId?: string;
}

export function encodeCursor(cursor: TimelineCursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

/** Parses `before`: an ISO timestamp or a cursor. Undefined when it is neither. */
export function parseCursor(value: string): TimelineCursor | undefined {
  if (!Number.isNaN(Date.parse(value)) && /^\d{4}-\d{2}-\d{2}/.test(value)) {
    return { timestamp: new Date(value).toISOString() };
  }
  try {
    const decoded: unknown = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
    if (
      decoded &&
      typeof decoded === 'object' &&
      'timestamp' in decoded &&
      'messageId' in decoded &&
      typeof decoded.timestamp === 'string' &&
      typeof decoded.messageId === 'string' &&
      !Number.isNaN(Date.parse(decoded.timestamp))
    ) {
      return { timestamp: decoded.timestamp, messageId: decoded.messageId };
    }
  } catch {
    return undefined;
  }
  return undefined;
}

function isBefore(event: IngestEvent, cursor: TimelineCursor): boolean {
  const eventMillis = Date.parse(event.timestamp);
  const cursorMillis = Date.parse(cursor.timestamp);
  if (eventMillis !== cursorMillis) return eventMillis < cursorMillis;
  return cursor.messageId !== undefined && event.messageId < cursor.messageId;
}

async function findProfile(id: string): Promise<LiveProfile> {
  const { profile } = await resolveProfile(id);
  if (!profile) throw new NotFoundError(`no customer with id ${JSON.stringify(id)}`);
  return profile;
}
