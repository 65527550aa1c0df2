import type { EngagementSettings } from '../engagement/settings.ts';
import { advanceScheduleCursor, lastFired } from '../store/schedule-cursors.ts';
import type { Campaign } from './campaign.ts';
import type { Catalog } from './catalog.ts';
import { type FireSummary, fireCampaign } from './fire-campaign.ts';
import { latestFireAtOrBefore, parseScheduleExpression } from './schedule-expression.ts';
import { type SweepSummary, sweepTimers } from './sweep-timers.ts';

/** The schedule a campaign fires on: its own, or, for a date campaign, daily at its time of day. */
export function scheduleOf(campaign: Campaign): string | undefined {
  const { trigger } = campaign;
  if (trigger.kind === 'schedule') return trigger.expression;
  if (trigger.kind === 'date') {
    const [hours, minutes] = trigger.at.split(':').map(Number);
    return `cron(${minutes} ${hours} * * ? *)`;
  }
  return undefined;
}

/**
 * Fires a campaign for its latest fire time at or before `at`, unless that fire time has fired
 * already (the cursor in the table says which did, so that AWS's scheduler, the local scheduler and
 * `rapport tick` do not select one time's audience twice). The cursor moves once the whole audience
 * is queued: a run that dies halfway is fired again by the retry, and the sends it had queued are
 * recognised as duplicates (the occurrence is the fire time). Returns undefined when nothing was due.
 */
export async function fireIfDue(
  campaign: Campaign,
  at: Date,
  settings: EngagementSettings,
  options: Parameters<typeof fireCampaign>[3] = {},
): Promise<FireSummary | undefined> {
  const expression = scheduleOf(campaign);
  if (!campaign.enabled || expression === undefined) return undefined;
  const fireTime = latestFireAtOrBefore(parseScheduleExpression(expression), at);
  if (!fireTime) return undefined;
  const fired = await lastFired(campaign.id);
  if (fired !== undefined && fired >= fireTime.toISOString()) return undefined;
  const summary = await fireCampaign(campaign, fireTime, settings, options);
  await advanceScheduleCursor(campaign.id, fireTime);
  return summary;
}

export interface DueSummary {
  fired: FireSummary[];
  timers: SweepSummary;
}

/** Everything due as of `at`: every schedule and date campaign, then every timer and deferral. */
export async function runDue(at: Date, catalog: Catalog, settings: EngagementSettings): Promise<DueSummary> {
  const fired: FireSummary[] = [];
  for (const campaign of catalog.campaigns) {
    const summary = await fireIfDue(campaign, at, settings);
    if (summary) fired.push(summary);
  }
  return { fired, timers: await sweepTimers(at, catalog) };
}
