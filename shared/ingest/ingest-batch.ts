import { type IngestEvent, ingestEvent } from '#events/ingest-event.ts';
import { type Catalog, noCampaigns } from '../campaigns/catalog.ts';
import type { EngagementSettings } from '../engagement/settings.ts';
import { type ProfileWrite, writeLiveProfiles } from '../store/profiles.ts';
import { type PutOutcome, storeTimelineEvents } from '../store/timeline.ts';
import { afterFold, applyEvents, type FoldPlan, planFold, type TimelineWrite } from './apply-events.ts';
import { linkAnonymousId, mergeProfiles, type ResolvedProfile, resolveProfiles } from './identity.ts';

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

interface ProfileGroup {
  profile: ResolvedProfile;
  items: ParsedRecord[];
}

const groupConcurrency = 8;

/**
 * Ingests a batch from the ingest queue: every event lands once on its customer's timeline and in
 * the customer's engagement state. Returns the records that failed, with why; the rest are done.
 *
 * 1. Parse each record; a record that is not an ingest event fails alone.
 * 2. Read the profiles of every id in the batch at once, and apply the identity links that are not
 *    made yet (identify, alias, events that carry both ids), so that each event resolves to the
 *    profile it belongs to.
 * 3. Store the events on the timeline, in batches (each in the partition of the id it carries, see
 *    store/timeline.ts).
 * 4. Per profile, plan the fold of its events into its state; write the new states together, on
 *    each one's version condition. A profile whose write does not land (it changed meanwhile) is
 *    folded again on its own (see applyEvents). A profile that fails fails only its own records.
 * 5. Publish the lifecycle events the changes caused, and act on the campaigns the events trigger.
 */
export async function ingestBatch(
  records: readonly IngestRecord[],
  settings: EngagementSettings,
  catalog: Catalog = noCampaigns,
): Promise<IngestFailure[]> {
  const failures: IngestFailure[] = [];
  const fail = (items: readonly ParsedRecord[], error: unknown) => {
    for (const item of items) failures.push({ id: item.record.id, reason: describe(error) });
  };
  const parsed: ParsedRecord[] = [];
  for (const record of records) {
    const result = parseRecord(record);
    if ('reason' in result) failures.push(result);
    else parsed.push(result);
  }
  if (parsed.length === 0) return failures;

  const ids = parsed.flatMap(({ event }) => idsOf(event));
  let profiles = await resolveProfiles(ids);
  const linked: ParsedRecord[] = [];
  const linksDone = new Set<string>();
  for (const item of parsed) {
    try {
      const link = identityLink(item.event, profiles);
      if (link && !linksDone.has(link.key)) {
        await link.apply();
        linksDone.add(link.key);
      }
      linked.push(item);
    } catch (error) {
      fail([item], error);
    }
  }
  // Read again after merges, and in any case before the timeline: see applyEvents.
  if (linksDone.size > 0) profiles = await resolveProfiles(ids);

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
  const landed = await writeLiveProfiles(writes).catch(() => new Set<ProfileWrite>());
  await inParallel(planned, async ({ group, plan }) => {
    try {
      if (plan.kind === 'write' && landed.has(plan.write)) {
        await afterFold(plan, group.writes, settings, catalog);
      } else {
        await applyEvents(group.profile, group.writes, settings, plan, catalog);
      }
    } catch (error) {
      fail(group.items, error);
    }
  });
  return failures;
}

async function planGroups<Group extends ProfileGroup>(
  groups: readonly Group[],
  plan: (group: Group) => Promise<FoldPlan>,
  fail: (items: readonly ParsedRecord[], error: unknown) => void,
): Promise<{ group: Group; plan: FoldPlan }[]> {
  const planned: { group: Group; plan: FoldPlan }[] = [];
  await inParallel(groups, async (group) => {
    try {
      planned.push({ group, plan: await plan(group) });
    } catch (error) {
      fail(group.items, error);
    }
  });
  return planned;
}

/** Runs `work` over the items, a few at a time. */
async function inParallel<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  const runNext = async (): Promise<void> => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item);
  };
  await Promise.all(Array.from({ length: Math.min(groupConcurrency, queue.length) }, runNext));
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
  const { userId, anonymousId } = result.data;
  if (!userId && !anonymousId) {
    return {
      id: record.id,
      reason: 'message body is not an ingest event: it has neither userId nor anonymousId',
    };
  }
  return { record, event: result.data };
}

/** The id an event is filed under: the customer's, else the visitor's (parseRecord ensures one). */
function primaryId(event: IngestEvent): string {
  return event.userId ?? event.anonymousId ?? '';
}

function idsOf(event: IngestEvent): string[] {
  return [event.userId, event.anonymousId, event.previousId].filter((id): id is string => Boolean(id));
}

/**
 * The identity link an event makes and that is not made yet: alias merges two customers, and an
 * event with both ids links a visitor to a customer.
 */
function identityLink(
  event: IngestEvent,
  profiles: Map<string, ResolvedProfile>,
): { key: string; apply: () => Promise<string | undefined> } | undefined {
  const { userId, anonymousId, previousId } = event;
  const profileOf = (id: string) => profiles.get(id)?.id ?? id;
  if (event.type === 'alias' && previousId && userId) {
    if (profileOf(previousId) === profileOf(userId)) return undefined;
    return { key: `alias:${previousId}:${userId}`, apply: () => mergeProfiles(previousId, userId, profiles) };
  }
  if (userId && anonymousId && userId !== anonymousId) {
    if (profileOf(anonymousId) !== anonymousId || profileOf(userId) === anonymousId) return undefined;
    return {
      key: `anon:${anonymousId}:${userId}`,
      apply: () => linkAnonymousId(anonymousId, userId, profiles),
    };
  }
  return undefined;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
