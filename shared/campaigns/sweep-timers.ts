import type { SendRequest } from '#events/send-request.ts';
import { millisOf } from '../engagement/instant.ts';
import type { EngagementState } from '../engagement/state.ts';
import { resolveProfile } from '../ingest/identity.ts';
import {
  type CampaignTimer,
  type DuePointer,
  duePointers,
  readTimer,
  removePointer,
  removeTimer,
} from '../store/timers.ts';
import type { Campaign } from './campaign.ts';
import type { Catalog } from './catalog.ts';
import { enqueueSends } from './dispatch-triggers.ts';

export interface SweepSummary {
  due: number;
  sent: number;
  cancelled: number;
  stale: number;
}

/**
 * Acts on every timer due at or before `at`: a deferred send goes back on the send queue; a
 * delay-unless timer sends unless it was cancelled. A timer pushed back since its pointer was
 * written is left for its later pointer. The send is queued before the timer is removed, so a
 * sweeper that dies in between only repeats a send that is idempotent on its occurrence.
 */
export async function sweepTimers(at: Date, catalog: Catalog): Promise<SweepSummary> {
  const summary: SweepSummary = { due: 0, sent: 0, cancelled: 0, stale: 0 };
  for (const pointer of await duePointers(at)) {
    summary.due += 1;
    const outcome = await settlePointer(pointer, catalog);
    summary[outcome] += 1;
  }
  return summary;
}

async function settlePointer(pointer: DuePointer, catalog: Catalog): Promise<'sent' | 'cancelled' | 'stale'> {
  const timer = await readTimer(pointer);
  if (!timer || timer.dueAt !== pointer.dueAt) {
    await removePointer(pointer);
    return 'stale';
  }
  let request: SendRequest | undefined;
  if (timer.kind === 'deferred') {
    request = timer.request;
  } else {
    const campaign = catalog.campaigns.find((candidate) => candidate.id === timer.campaignId);
    request = campaign && (await delayedSend(campaign, timer));
  }
  if (request) await enqueueSends([request]);
  if (await removeTimer(timer.profileId, timer.timerSk, timer.dueAt)) await removePointer(pointer);
  return request ? 'sent' : 'cancelled';
}

/** The send a delay-unless timer makes, unless the campaign is off or the timer was cancelled. */
async function delayedSend(campaign: Campaign, timer: CampaignTimer): Promise<SendRequest | undefined> {
  const { trigger } = campaign;
  if (!campaign.enabled || trigger.kind !== 'delay-unless') return undefined;
  if (timer.starts.length < trigger.times) return undefined;
  const resolved = await resolveProfile(timer.profileId);
  const latestStart = millisOf(timer.dueAt) - trigger.after.millis;
  if (resolved.profile && cancelledSince(resolved.profile.state, trigger.unless, latestStart))
    return undefined;
  return {
    campaignId: campaign.id,
    customerId: resolved.id,
    occurrence: `${timer.key}@${timer.dueAt}`,
    firedAt: timer.dueAt,
    trigger: timer.trigger,
  };
}

/** Whether one of the cancelling events happened after the latest start event. */
export function cancelledSince(state: EngagementState, unless: readonly string[], since: number): boolean {
  return unless.some((name) => {
    const last = state.lastEvents?.[name];
    return last !== undefined && millisOf(last) > since;
  });
}
