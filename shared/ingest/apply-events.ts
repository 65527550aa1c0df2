import { isDeepStrictEqual } from 'node:util';
import type { IngestEvent } from '#events/ingest-event.ts';
import type { LifecycleEvent } from '#events/lifecycle.ts';
import { publishLifecycleEvents } from '../bus.ts';
import type { EngagementSettings } from '../engagement/settings.ts';
import {
  compareEvents,
  type EngagementState,
  emptyState,
  foldEvent,
  foldEvents,
  sortsAfterWatermark,
} from '../engagement/state.ts';
import { lifecycleTransitions } from '../engagement/transitions.ts';
import { clearOutbox, VersionConflictError, writeLiveProfile } from '../store/profiles.ts';
import { queryProfileEvents } from '../store/timeline.ts';
import { type ResolvedProfile, resolveProfile } from './identity.ts';

export interface TimelineWrite {
  event: IngestEvent;
  outcome: 'stored' | 'duplicate';
}

const maxAttempts = 10;

/**
 * Folds events that are already on the timeline into their profile's engagement state, exactly once.
 *
 * 1. Read the profile (following redirects); the caller's fresh read serves the first attempt.
 * 2. New events that all sort after the state's watermark are folded on top of it; anything else (a
 *    late event, a redelivery, a merge) replays the whole timeline, which is the definition of truth.
 * 3. Write the state conditionally on the version read; on a conflict start again from 1.
 * 4. Publish the lifecycle events the change caused, then clear them. They are written with the
 *    state, so events left over by a writer that died before publishing are published by the next
 *    one to touch the profile: at least once, under ids that repeat.
 */
export async function applyEvents(
  initial: ResolvedProfile,
  writes: readonly TimelineWrite[],
  forceReplay: boolean,
  settings: EngagementSettings,
): Promise<void> {
  let resolved = initial;
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    try {
      if (attempt > 0) resolved = await resolveProfile(initial.id);
      await applyOnce(resolved, writes, forceReplay, settings);
      return;
    } catch (error) {
      if (!(error instanceof VersionConflictError)) throw error;
    }
  }
  throw new Error(`profile ${initial.id} is updated too often concurrently; the batch will be retried`);
}

async function applyOnce(
  resolved: ResolvedProfile,
  writes: readonly TimelineWrite[],
  forceReplay: boolean,
  settings: EngagementSettings,
): Promise<void> {
  const profile = resolved.profile;
  const before = profile?.state ?? emptyState(resolved.id);
  const members = profile?.members ?? [resolved.id];
  const stored = writes
    .filter((write) => write.outcome === 'stored')
    .map((write) => write.event)
    .sort(compareEvents);
  const duplicates = writes.filter((write) => write.outcome === 'duplicate').map((w) => w.event.messageId);
  const [first] = stored;
  const incremental =
    !forceReplay && duplicates.length === 0 && first !== undefined && sortsAfterWatermark(before, first);

  const after: EngagementState = incremental
    ? stored.reduce((state, event) => foldEvent(state, event, settings), before)
    : foldEvents(resolved.id, await queryProfileEvents(members), settings);

  const pending = profile?.outbox.events ?? [];
  if (profile && isDeepStrictEqual(after, before)) {
    if (pending.length > 0) await publishAndClear(profile.id, pending, profile.version);
    return;
  }
  const outbox = { events: [...pending, ...lifecycleTransitions(before, after, settings)] };
  const version = await writeLiveProfile(
    { id: resolved.id, members, state: after, outbox },
    profile?.version ?? 0,
  );
  if (outbox.events.length > 0) await publishAndClear(resolved.id, outbox.events, version);
}

async function publishAndClear(id: string, events: LifecycleEvent[], version: number): Promise<void> {
  await publishLifecycleEvents(events);
  await clearOutbox(id, version);
}
