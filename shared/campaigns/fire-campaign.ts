import type { SendRequest } from '#events/send-request.ts';
import { matchesAudience } from '../audience/evaluate.ts';
import { dateQueries, membershipRange } from '../audience/indexes.ts';
import type { EngagementSettings } from '../engagement/settings.ts';
import { type IndexQuery, membershipQueries, queryIndex } from '../store/audience-index.ts';
import { getProfiles } from '../store/profiles.ts';
import type { Campaign } from './campaign.ts';
import { enqueueSends } from './dispatch-triggers.ts';

export interface FireSummary {
  campaignId: string;
  occurrence: string;
  /** Customers the index gave. */
  candidates: number;
  /** Of those, the ones in the audience at the fire time, who were put on the send queue. */
  selected: number;
}

export interface FireOptions {
  /** Called as each page of candidates is done, for progress bars. */
  onProgress?: (summary: FireSummary) => void;
  /** Decide only: nothing goes on the send queue; the selected requests go here instead. */
  collect?: (requests: SendRequest[]) => void;
}

/**
 * Fires a schedule or date campaign for one fire time: reads its candidates from the campaign index
 * (never the whole customer table), keeps those in the audience at the fire time, and puts a send
 * request for each on the send queue. The guards and the send itself are the send function's. The
 * occurrence is the fire time (a date campaign's target day), so firing twice sends nothing twice.
 */
export async function fireCampaign(
  campaign: Campaign,
  fireTime: Date,
  settings: EngagementSettings,
  options: FireOptions = {},
): Promise<FireSummary> {
  const { occurrence, queries } = candidateQueries(campaign, fireTime);
  const summary: FireSummary = { campaignId: campaign.id, occurrence, candidates: 0, selected: 0 };
  await queryIndex(queries, async (customerIds) => {
    const profiles = await getProfiles(customerIds, false);
    const requests: SendRequest[] = [];
    for (const id of customerIds) {
      const profile = profiles.get(id);
      if (profile?.kind !== 'live') continue;
      if (!matchesAudience(campaign.audience, profile.state, fireTime, settings)) continue;
      requests.push({
        campaignId: campaign.id,
        customerId: id,
        occurrence,
        firedAt: fireTime.toISOString(),
        trigger: {},
      });
    }
    if (options.collect) options.collect(requests);
    else await enqueueSends(requests);
    summary.candidates += customerIds.length;
    summary.selected += requests.length;
    options.onProgress?.({ ...summary });
  });
  return summary;
}

function candidateQueries(campaign: Campaign, fireTime: Date): { occurrence: string; queries: IndexQuery[] } {
  const { trigger } = campaign;
  if (trigger.kind === 'schedule') {
    return {
      occurrence: fireTime.toISOString(),
      queries: membershipQueries(campaign.id, membershipRange(campaign, fireTime)),
    };
  }
  if (trigger.kind === 'date') {
    const { occurrence, queries } = dateQueries({ ...campaign, trigger }, fireTime);
    return {
      occurrence,
      queries: queries.map((query) => ({
        pk: query.pk,
        ...(query.skPrefix ? { prefix: query.skPrefix } : {}),
        ...(query.skBefore ? { before: query.skBefore } : {}),
      })),
    };
  }
  throw new Error(
    `campaign ${campaign.id} fires on events (trigger kind ${trigger.kind}), not on a schedule`,
  );
}
