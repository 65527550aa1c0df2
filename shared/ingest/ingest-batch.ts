import { type IngestEvent, ingestEvent } from '#events/ingest-event.ts';
import type { EngagementSettings } from '../engagement/settings.ts';
import { storeTimelineEvents } from '../store/timeline.ts';
import { applyEvents, type TimelineWrite } from './apply-events.ts';
import { linkAnonymousId, mergeProfiles, type ResolvedProfile, resolveProfile } from './identity.ts';

export interface IngestRecord {
  /** The queue's message id, reported back when the record fails. */
  id: string;
  body: string;
}

export interface IngestFailure {
  id: string;
  reason: string;
}

interface ParsedRecord {
  record: IngestRecord;
  event: IngestEvent;
}

const groupConcurrency = 8;

/**
 * Ingests a batch from the ingest queue: every event lands once on its customer's timeline and in
 * the customer's engagement state. Returns the records that failed, with why; the rest are done.
 *
 * 1. Parse each record; a record that is not an ingest event fails alone.
 * 2. Apply identity links (identify, alias, events that carry both ids) so that every event resolves
 *    to the profile it belongs to.
 * 3. Group the events by profile; per profile, store them on the timeline (each in the partition of
 *    the id it carries, see store/timeline.ts) and fold them into the state. A profile that fails
 *    fails only its own records.
 */
export async function ingestBatch(
  records: readonly IngestRecord[],
  settings: EngagementSettings,
): Promise<IngestFailure[]> {
  const failures: IngestFailure[] = [];
  const parsed: ParsedRecord[] = [];
  for (const record of records) {
    const result = parseRecord(record);
    if ('reason' in result) failures.push(result);
    else parsed.push(result);
  }

  const replay = new Set<string>();
  const linked: ParsedRecord[] = [];
  const linksDone = new Set<string>();
  for (const item of parsed) {
    try {
      const link = identityLink(item.event);
      if (link && !linksDone.has(link.key)) {
        const survivor = await link.apply();
        if (survivor) replay.add(survivor);
        linksDone.add(link.key);
      }
      linked.push(item);
    } catch (error) {
      failures.push({ id: item.record.id, reason: describe(error) });
    }
  }

  const resolved = new Map<string, ResolvedProfile>();
  const groups = new Map<string, { profile: ResolvedProfile; items: ParsedRecord[] }>();
  for (const item of linked) {
    try {
      const id = primaryId(item.event);
      const profile = resolved.get(id) ?? (await resolveProfile(id));
      resolved.set(id, profile);
      const group = groups.get(profile.id) ?? { profile, items: [] };
      group.items.push(item);
      groups.set(profile.id, group);
    } catch (error) {
      failures.push({ id: item.record.id, reason: describe(error) });
    }
  }

  const work = [...groups.entries()];
  const runNext = async (): Promise<void> => {
    for (let next = work.shift(); next; next = work.shift()) {
      const [profileId, { profile, items }] = next;
      try {
        await ingestProfileEvents(profile, items, replay.has(profileId), settings);
      } catch (error) {
        const reason = describe(error);
        for (const item of items) failures.push({ id: item.record.id, reason });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(groupConcurrency, work.length) }, runNext));
  return failures;
}

async function ingestProfileEvents(
  profile: ResolvedProfile,
  items: readonly ParsedRecord[],
  forceReplay: boolean,
  settings: EngagementSettings,
): Promise<void> {
  const outcomes = await storeTimelineEvents(
    items.map(({ event }) => ({ partitionId: primaryId(event), event })),
  );
  const seen = new Set<string>();
  const writes = items.map(({ event }): TimelineWrite => {
    const repeated = seen.has(event.messageId);
    seen.add(event.messageId);
    return { event, outcome: repeated ? 'duplicate' : (outcomes.get(event.messageId) ?? 'duplicate') };
  });
  await applyEvents(profile, writes, forceReplay, settings);
}

function parseRecord(record: IngestRecord): ParsedRecord | IngestFailure {
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch {
    return { id: record.id, reason: 'message body is not JSON' };
  }
  const result = ingestEvent.safeParse(body);
  if (!result.success) {
    const problems = result.error.issues.map(
      (issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`,
    );
    return { id: record.id, reason: `message body is not an ingest event: ${problems.join('; ')}` };
  }
  return { record, event: result.data };
}

/** The id an event is filed under before identity resolution: the customer's, else the visitor's. */
function primaryId(event: IngestEvent): string {
  const id = event.userId ?? event.anonymousId;
  if (!id) throw new Error(`event ${event.messageId} has neither userId nor anonymousId`);
  return id;
}

/** The identity link an event makes, if any: alias merges two customers, identify links a visitor. */
function identityLink(
  event: IngestEvent,
): { key: string; apply: () => Promise<string | undefined> } | undefined {
  const { userId, anonymousId, previousId } = event;
  if (event.type === 'alias' && previousId && userId) {
    return { key: `alias:${previousId}:${userId}`, apply: () => mergeProfiles(previousId, userId) };
  }
  if (userId && anonymousId && userId !== anonymousId) {
    return { key: `anon:${anonymousId}:${userId}`, apply: () => linkAnonymousId(anonymousId, userId) };
  }
  return undefined;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
