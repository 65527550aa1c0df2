import type { IngestEvent } from '#events/ingest-event.ts';
import { isVisit, trackName } from './event-kinds.ts';
import { earlierAt, type Instant, laterAt, millisOf } from './instant.ts';

/** What the customer did on the website or app, counted over all of their visits. */
export interface WebActivity {
  firstSeenAt: string | null;
  lastSeenAt: string | null;
  pageViews: number;
  productViews: number;
  /** Visits, where a visit ends after `sessionTimeoutMinutes` without any page or shop event. */
  sessions: number;
}

export function emptyWeb(): WebActivity {
  return {
    firstSeenAt: null,
    lastSeenAt: null,
    pageViews: 0,
    productViews: 0,
    sessions: 0,
  };
}

export function foldWeb(
  web: WebActivity,
  event: IngestEvent,
  when: Instant,
  sessionTimeoutMinutes: number,
): WebActivity {
  if (!isVisit(event)) return web;
  return {
    firstSeenAt: earlierAt(web.firstSeenAt, when),
    lastSeenAt: laterAt(web.lastSeenAt, when),
    pageViews: web.pageViews + (event.type === 'page' || event.type === 'screen' ? 1 : 0),
    productViews: web.productViews + (trackName(event) === 'Product Viewed' ? 1 : 0),
    sessions: web.sessions + (startsSession(web.lastSeenAt, when, sessionTimeoutMinutes) ? 1 : 0),
  };
}

function startsSession(lastSeenAt: string | null, when: Instant, sessionTimeoutMinutes: number): boolean {
  return lastSeenAt === null || when.millis - millisOf(lastSeenAt) >= sessionTimeoutMinutes * 60_000;
}
