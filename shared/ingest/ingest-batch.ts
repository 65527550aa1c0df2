import { type IngestEvent, ingestEvent } from '#events/ingest-event.ts';
import { type Catalog, noCampaigns } from '../campaigns/catalog.ts';
import type { EngagementSettings } from '../engagement/settings.ts';
import { inParallel } from '../in-parallel.ts';
import { ingestMessageEvents } from '../ingest-queue.ts';
import { clearOutboxes, type OutboxClear, type ProfileWrites, writeLiveProfiles } from '../store/profiles.ts';
import { type PutOutcome, storeTimelineEvents } from '../store/timeline.ts';
import { afterFold, applyEvents, type FoldPlan, planFold, type TimelineWrite } from './apply-events.ts';
import { applyLinks } from './batch-links.ts';
import { type ResolvedProfile, resolveProfiles } from './identity.ts';
import { idsOf, partsOfBatch, primaryId } from './ties.ts';

export interface IngestRecord {
  /** The queue's message id, reported back when the record fails. */
  id: string;
  /** An ingest queue message: the events of a collect request (see ingest-queue.ts). */
  body: string;
}

/** Why a record, or one of its events, failed. */
export interface IngestFailure {
  /** The record's id. */
  id: string;
  reason: string;
  /** The event that failed; absent when the whole record did (its body is not JSON). */
  event?: unknown;
}

/** An event of the batch, with the record it came in. */
interface ParsedRecord {
  record: IngestRecord;
  event: IngestEvent;
}

interface ProfileGroup {
  profile: ResolvedProfile;
  items: ParsedRecord[];
}

const groupConcurrency = 8;
/**
 * A batch of more events than this is ingested in parts that share no customer, side by side: while
 * one part waits on a request another computes, and no part waits for the slowest customer of
 * another.
 */
const eventsPerPart = 2_000;

/**
 * Ingests a batch from the ingest queue: every event lands once on its customer's timeline and in
 * the customer's engagement state. Returns the events that failed, with their records and why; the
 * rest are done. A record with a failed event is retried whole: its other events then come back as
 * duplicates, which change nothing.
 *
 * 1. Parse each record's events; an event that is not an ingest event fails alone. Read the
 *    profiles of every id in the batch at once; a large batch goes on in parts that share no
 *    customer (see ties.ts), side by side.
 * 2. Apply the identity links that are not made yet (identify, alias, events that carry both ids),
 *    so that each event resolves to the profile it belongs to.
 * 3. Store the events on the timeline, in batches (each in the partition of the id it carries, see
 *    store/timeline.ts).
 * 4. Per profile, plan the fold of its events into its state; write the new states together, on
 *    each one's version condition. A profile whose write does not land (it changed meanwhile) is
 *    folded again on its own (see applyEvents). A profile that fails fails only its own records.
 * 5. Publish the lifecycle events the changes caused, and act on the campaigns the events trigger;
 *    then clear the published outboxes together.
 */
export async function ingestBatch(
  records: readonly IngestRecord[],
  settings: EngagementSettings,
  catalog: Catalog = noCampaigns,
): Promise<IngestFailure[]> {
  const failures: IngestFailure[] = [];
  const fail = (items: readonly ParsedRecord[], error: unknown) => {
    for (const item of items) {
      failures.push({ id: item.record.id, reason: describe(error), event: item.event });
    }
  };
  const parsed: ParsedRecord[] = [];
  for (const record of records) parsed.push(...parseRecord(record, failures));
  if (parsed.length === 0) return failures;

  const ids = parsed.flatMap(({ event }) => idsOf(event));
  const read = await resolveProfiles(ids);
  const parts = partsOfBatch(parsed, read, Math.ceil(parsed.length / eventsPerPart));
  await Promise.all(parts.map((part) => ingestPart(part, read, settings, catalog, fail)));
  return failures;
}

/** One part of a batch, from its identity links on (steps 2 to 5 above). */
async function ingestPart(
  parsed: readonly ParsedRecord[],
  read: Map<string, ResolvedProfile>,
  settings: EngagementSettings,
  catalog: Catalog,
  fail: (items: readonly ParsedRecord[], error: unknown) => void,
): Promise<void> {
  const { linked, changed } = await applyLinks(parsed, read, fail);
  // Read again after merges, and in any case before the timeline: see applyEvents.
  const profiles = changed.length > 0 ? new Map([...read, ...(await resolveProfiles(changed))]) : read;

  const groups = groupByProfile(linked, profiles);
  const outcomes = await storeGroups(groups, fail);
  const stored = groups.flatMap((group) => {
    const outcome = outcomes.get(group);
    return outcome ? [{ ...group, writes: timelineWrites(group.items, outcome) }] : [];
  });
  const planned = await planGroups(
    stored,
    (group) => planFold(group.profile, group.writes, false, settings, catalog),
    fail,
  );
  const writes = planned.flatMap(({ plan }) => (plan.kind === 'write' ? [plan.write] : []));
  // Whatever does not land together (a conflict, a throttle) is written one by one below.
  const written = await writeLiveProfiles(writes).catch(
    (): ProfileWrites => ({ landed: new Set(), stale: new Set() }),
  );
  const clears: OutboxClear[] = [];
  await inParallel(planned, groupConcurrency, async ({ group, plan }) => {
    try {
      if (plan.kind === 'write' && written.landed.has(plan.write)) {
        const clear = await afterFold(plan, group.writes, settings, catalog);
        if (clear) clears.push(clear);
      } else {
        const first = plan.kind === 'write' && written.stale.has(plan.write) ? 'stale' : plan;
        await applyEvents(group.profile, group.writes, settings, first, catalog);
      }
    } catch (error) {
      fail(group.items, error);
    }
  });
  // An outbox left uncleared costs only a second publication, by the customer's next writer.
  await clearOutboxes(clears).catch((error) =>
    console.warn(
      `ingest: ${clears.length} published outboxes not cleared; they will be published again`,
      error,
    ),
  );
}

async function planGroups<Group extends ProfileGroup>(
  groups: readonly Group[],
  plan: (group: Group) => Promise<FoldPlan>,
  fail: (items: readonly ParsedRecord[], error: unknown) => void,
): Promise<{ group: Group; plan: FoldPlan }[]> {
  const planned: { group: Group; plan: FoldPlan }[] = [];
  await inParallel(groups, groupConcurrency, async (group) => {
    try {
      planned.push({ group, plan: await plan(group) });
    } catch (error) {
      fail(group.items, error);
    }
  });
  return planned;
}

function groupByProfile(
  items: readonly ParsedRecord[],
  profiles: Map<string, ResolvedProfile>,
): ProfileGroup[] {
  const groups = new Map<string, ProfileGroup>();
  for (const item of items) {
    const id = primaryId(item.event);
    const profile = profiles.get(id) ?? { id };
    const group = groups.get(profile.id) ?? { profile, items: [] };
    group.items.push(item);
    groups.set(profile.id, group);
  }
  return [...groups.values()];
}

/**
 * Stores every group's events in one go. Should that fail (an event DynamoDB refuses fails its
 * whole request), each group is stored on its own, so that only the failing customer's records fail.
 */
async function storeGroups(
  groups: readonly ProfileGroup[],
  fail: (items: readonly ParsedRecord[], error: unknown) => void,
): Promise<Map<ProfileGroup, Map<string, PutOutcome>>> {
  const entriesOf = (group: ProfileGroup) =>
    group.items.map(({ event }) => ({ partitionId: primaryId(event), event }));
  try {
    const outcomes = await storeTimelineEvents(groups.flatMap(entriesOf));
    return new Map(groups.map((group) => [group, outcomes]));
  } catch {
    const stored = new Map<ProfileGroup, Map<string, PutOutcome>>();
    await Promise.all(
      groups.map(async (group) => {
        try {
          stored.set(group, await storeTimelineEvents(entriesOf(group)));
        } catch (error) {
          fail(group.items, error);
        }
      }),
    );
    return stored;
  }
}

/** The group's events with their outcome; a messageId seen again within the batch is a duplicate. */
function timelineWrites(items: readonly ParsedRecord[], outcomes: Map<string, PutOutcome>): TimelineWrite[] {
  const seen = new Set<string>();
  return items.map(({ event }): TimelineWrite => {
    const repeated = seen.has(event.messageId);
    seen.add(event.messageId);
    return { event, outcome: repeated ? 'duplicate' : (outcomes.get(event.messageId) ?? 'duplicate') };
  });
}

/** The record's events; what is not an ingest event goes to `failures`. */
function parseRecord(record: IngestRecord, failures: IngestFailure[]): ParsedRecord[] {
  let events: unknown[];
  try {
    events = ingestMessageEvents(record.body);
  } catch {
    failures.push({ id: record.id, reason: 'message body is not JSON' });
    return [];
  }
  const parsed: ParsedRecord[] = [];
  events.forEach((body, index) => {
    const what = events.length === 1 ? 'message body' : `event ${index} of the message`;
    const problem = (detail: string) =>
      failures.push({ id: record.id, reason: `${what} is not an ingest event: ${detail}`, event: body });
    const result = ingestEvent.safeParse(body);
    if (!result.success) {
      problem(
        result.error.issues
          .map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`)
          .join('; '),
      );
    } else if (!result.data.userId && !result.data.anonymousId) {
      problem('it has neither userId nor anonymousId');
    } else {
      parsed.push({ record, event: result.data });
    }
  });
  return parsed;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
