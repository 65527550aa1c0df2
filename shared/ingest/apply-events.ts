import { isDeepStrictEqual } from 'node:util';
import type { IngestEvent } from '#events/ingest-event.ts';
import type { LifecycleEvent } from '#events/lifecycle.ts';
import { matchesAudience } from '../audience/evaluate.ts';
import { indexChanges, indexItemsOf } from '../audience/indexes.ts';
import { publishLifecycleEvents } from '../bus.ts';
import { type Catalog, noCampaigns } from '../campaigns/catalog.ts';
import { dispatchTriggers } from '../campaigns/dispatch-triggers.ts';
import { eventTriggers } from '../campaigns/triggers.ts';
import type { EngagementSettings } from '../engagement/settings.ts';
import {
  compareEvents,
  type EngagementState,
  emptyState,
  foldEvent,
  replayOrder,
  sortsAfterWatermark,
} from '../engagement/state.ts';
import { lifecycleTransitions } from '../engagement/transitions.ts';
import {
  clearOutbox,
  type Outbox,
  type OutboxClear,
  type ProfileWrite,
  VersionConflictError,
  writeLiveProfile,
} from '../store/profiles.ts';
import { queryPartitionEvents } from '../store/timeline.ts';
import { type ResolvedProfile, resolveProfile } from './identity.ts';

export interface TimelineWrite {
  event: IngestEvent;
  outcome: 'stored' | 'duplicate';
}

/**
 * What folding a profile's events comes to: a new state to write (conditionally on the version
 * read), or nothing to write and perhaps lifecycle events left over from an earlier writer.
 */
export type FoldPlan =
  | { kind: 'write'; write: ProfileWrite }
  | { kind: 'unchanged'; id: string; version: number; pending: Outbox; state: EngagementState };

const maxAttempts = 10;

/**
 * Folds events that are already on the timeline into their profile's engagement state, exactly once.
 *
 * 1. Read the profile (following redirects). The caller's read serves the first attempt, and it must
 *    have been made before the events were looked up on the timeline: then a copy of an event that
 *    another worker stores and folds at the same time is either seen as a duplicate, or makes the
 *    conditional write below fail.
 * 2. Plan the fold (see planFold).
 * 3. Write the state conditionally on the version read; on a conflict start again from 1.
 * 4. Publish the lifecycle events the change caused, then clear them, and act on the campaign
 *    triggers of the events (see afterFold).
 *
 * `first`, when given, is a plan already made from `initial` (the batch tried to write it together
 * with other profiles' and could not), or 'stale' when that write was refused because the profile
 * had moved on: the fold then starts again from 1.
 */
export async function applyEvents(
  initial: ResolvedProfile,
  writes: readonly TimelineWrite[],
  settings: EngagementSettings,
  first?: FoldPlan | 'stale',
  catalog: Catalog = noCampaigns,
): Promise<void> {
  for (let attempt = first === 'stale' ? 1 : 0; attempt < maxAttempts; attempt++) {
    try {
      // After a conflict someone else folded concurrently, maybe another copy of one of these
      // events: only a replay of the timeline is then sure to count each event once.
      if (attempt > 0) await backoff(attempt);
      const plan =
        attempt === 0 && first !== 'stale'
          ? (first ?? (await planFold(initial, writes, false, settings, catalog)))
          : await planFold(await resolveProfile(initial.id), writes, true, settings, catalog);
      if (plan.kind === 'write') await writeLiveProfile(plan.write);
      const clear = await afterFold(plan, writes, settings, catalog);
      if (clear) await clearOutbox(clear);
      return;
    } catch (error) {
      if (!(error instanceof VersionConflictError)) throw error;
    }
  }
  throw new Error(`profile ${initial.id} is updated too often concurrently; the batch will be retried`);
}

/**
 * The fold of new events on a profile read before they were stored. Events that all sort after the
 * state's watermark are folded on top of it; anything else (a late event, a redelivery, members
 * merged in and not folded yet, a retry after a conflict) replays the whole timeline, which is the
 * definition of truth. The lifecycle events the new events cause go into the outbox, after any left
 * over from an earlier writer; the campaign index items of the new state are written with it.
 */
export async function planFold(
  resolved: ResolvedProfile,
  writes: readonly TimelineWrite[],
  forceReplay: boolean,
  settings: EngagementSettings,
  catalog: Catalog = noCampaigns,
): Promise<FoldPlan> {
  const profile = resolved.profile;
  const before = profile?.state ?? emptyState(resolved.id);
  const members = profile?.members ?? [resolved.id];
  const unfoldedMembers = members.some((member) => !profile?.foldedMembers.includes(member));
  const stored = writes
    .filter((write) => write.outcome === 'stored')
    .map((write) => write.event)
    .sort(compareEvents);
  const anyDuplicate = writes.some((write) => write.outcome === 'duplicate');
  const [first] = stored;
  const incremental =
    !forceReplay &&
    !(profile && unfoldedMembers) &&
    !anyDuplicate &&
    first !== undefined &&
    sortsAfterWatermark(before, first);

  const { state: after, transitions } = incremental
    ? foldStepwise(before, stored, settings)
    : await replay(resolved.id, members, profile?.foldedMembers ?? [], writes, settings);

  const pending = profile?.outbox ?? { events: [] };
  const index = indexItemsOf(resolved.id, after, catalog, settings);
  const changes = indexChanges(profile?.indexed ?? [], index);
  const unchangedIndex = changes.puts.length === 0 && changes.deletes.length === 0;
  if (profile && !unfoldedMembers && unchangedIndex && isDeepStrictEqual(after, before)) {
    return { kind: 'unchanged', id: profile.id, version: profile.version, pending, state: after };
  }
  return {
    kind: 'write',
    write: {
      id: resolved.id,
      members,
      foldedMembers: members,
      state: after,
      outbox: { events: [...pending.events, ...transitions] },
      indexed: index,
      indexChanges: changes,
      expectedVersion: profile?.version ?? 0,
    },
  };
}

interface Folded {
  state: EngagementState;
  transitions: LifecycleEvent[];
}

/**
 * Folds events one by one, noting the lifecycle events each one causes, so that a crossing is
 * reported however the events were batched, and stamped with the event that caused it.
 */
function foldStepwise(
  start: EngagementState,
  events: readonly IngestEvent[],
  settings: EngagementSettings,
): Folded {
  let state = start;
  const transitions: LifecycleEvent[] = [];
  for (const event of events) {
    const next = foldEvent(state, event, settings);
    transitions.push(...lifecycleTransitions(state, next, settings));
    state = next;
  }
  return { state, transitions };
}

/**
 * Replays every member's events. The lifecycle events to publish are those of the full history that
 * the history already folded (the folded members' events, less the ones being applied) did not
 * cause: ids are stable, so the difference is what these events changed.
 */
async function replay(
  id: string,
  members: readonly string[],
  foldedMembers: readonly string[],
  writes: readonly TimelineWrite[],
  settings: EngagementSettings,
): Promise<Folded> {
  const partitions = await Promise.all(
    members.map(async (member) => [member, await queryPartitionEvents(member)] as const),
  );
  const applying = new Set(writes.map((write) => write.event.messageId));
  const earlier = partitions
    .filter(([member]) => foldedMembers.includes(member))
    .flatMap(([, events]) => events.filter((event) => !applying.has(event.messageId)));
  const full = foldStepwise(
    emptyState(id),
    replayOrder(partitions.flatMap(([, events]) => events)),
    settings,
  );
  const known = new Set(
    foldStepwise(emptyState(id), replayOrder(earlier), settings).transitions.map(transitionId),
  );
  return {
    state: full.state,
    transitions: full.transitions.filter((event) => !known.has(transitionId(event))),
  };
}

/** A growing, jittered pause, so that workers racing on one busy profile stop colliding. */
function backoff(attempt: number): Promise<void> {
  const millis = Math.min(250, 10 * 2 ** attempt) * (0.5 + Math.random() / 2);
  return new Promise((resolve) => setTimeout(resolve, millis));
}

function transitionId(event: LifecycleEvent): string {
  return event.detail.id;
}

/**
 * What follows a fold, once its plan is written: the lifecycle events of the outbox are published,
 * and the campaigns the events trigger for a customer in their audience are acted on (sends queued,
 * timers armed). A campaign's audience is checked here, as of each event, and again when it sends.
 * Returns the outbox to clear now that it is published, if there was one; the caller clears it (a
 * batch clears all of its customers' together). Events left over by a writer that died before
 * clearing are published by the next one to touch the profile: at least once, under ids that repeat.
 *
 * Triggers need no outbox: they follow from the events and the state they made, not from the state
 * before them. Should this process die before acting on them, the queue delivers the batch again, its
 * events come back as duplicates, the fold finds nothing to change, and this runs again for them;
 * sends are idempotent on their occurrence and timers on their starts.
 */
export async function afterFold(
  plan: FoldPlan,
  writes: readonly TimelineWrite[],
  settings: EngagementSettings,
  catalog: Catalog,
): Promise<OutboxClear | undefined> {
  const { id, outbox, version, state } =
    plan.kind === 'write'
      ? { ...plan.write, outbox: plan.write.outbox, version: plan.write.expectedVersion + 1 }
      : { id: plan.id, outbox: plan.pending, version: plan.version, state: plan.state };
  const triggers = eventTriggers(
    catalog,
    id,
    writes.map((write) => write.event),
    (campaign, at) => matchesAudience(campaign.audience, state, at, settings),
  );
  const publishing = outbox.events.length > 0;
  await Promise.all([
    publishing ? publishLifecycleEvents(outbox.events) : undefined,
    dispatchTriggers(triggers),
  ]);
  return publishing ? { id, version } : undefined;
}
