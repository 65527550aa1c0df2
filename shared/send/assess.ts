import { matchesAudience } from '../audience/evaluate.ts';
import type { Campaign } from '../campaigns/campaign.ts';
import type { Catalog } from '../campaigns/catalog.ts';
import type { EngagementSettings } from '../engagement/settings.ts';
import { type GuardOutcome, guardVerdict } from '../guards/verdict.ts';
import type { LiveProfile } from '../store/profiles.ts';
import { readLedger, type SendLedger } from '../store/sends.ts';

/**
 * What the guards say about one customer for one campaign at `at`, with the send ledger they read
 * (`known`, when the caller has just read it).
 * The send function records the answer; a dry run only counts it.
 */
export async function assessSend(
  campaign: Campaign,
  profile: LiveProfile,
  at: Date,
  catalog: Catalog,
  settings: EngagementSettings,
  known?: SendLedger,
): Promise<{ verdict: GuardOutcome; ledger: SendLedger }> {
  const ledger = known ?? (await readLedger(profile.id));
  const verdict = guardVerdict({
    campaign,
    profileId: profile.id,
    state: profile.state,
    inAudience: matchesAudience(campaign.audience, profile.state, at, settings),
    ledger: ledger.recent,
    entered: ledger.entered,
    at,
    sending: catalog.sending,
  });
  return { verdict, ledger };
}
