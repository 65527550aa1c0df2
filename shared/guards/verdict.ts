import type { Campaign } from '../campaigns/campaign.ts';
import type { SendingSettings } from '../campaigns/sending-settings.ts';
import type { EngagementState } from '../engagement/state.ts';
import { consentProblem } from './consent.ts';
import { frequencyCapped, type LedgerEntry, lastEnteredAt, reentryBlocked } from './frequency.ts';
import { isHeldOut } from './holdout.ts';
import { quietUntil } from './quiet-hours.ts';

export type GuardOutcome =
  | { kind: 'send' }
  | { kind: 'skip'; reason: SkipReason }
  | { kind: 'hold-out' }
  | { kind: 'defer'; until: Date };

/** Why a customer was not mailed; each is counted per campaign. */
export const skipReasons = [
  'audience',
  'unsubscribed',
  'suppressed',
  'no-email',
  'reentry',
  'frequency-cap',
] as const;

export type SkipReason = (typeof skipReasons)[number];

/**
 * What to do with one customer for one campaign at `at`:
 * 1. skip who is not in the audience, may not be mailed (suppressed, unsubscribed, no address), was
 *    taken in by this campaign too recently (re-entry) or has had enough mail lately (frequency cap);
 * 2. hold out the campaign's control group, only now, so that it is drawn from the same eligible
 *    customers as those who get the mail and the difference between the two is the campaign's lift;
 * 3. defer to the end of quiet hours in the customer's time zone;
 * 4. send.
 */
export function guardVerdict(input: {
  campaign: Campaign;
  profileId: string;
  state: EngagementState;
  inAudience: boolean;
  /** Recent sends of every campaign to the customer. */
  ledger: readonly LedgerEntry[];
  /** When each campaign last took the customer in (sent or held out); absent, the ledger alone. */
  entered?: Readonly<Record<string, string>>;
  at: Date;
  sending: SendingSettings;
}): GuardOutcome {
  const { campaign, state, ledger, at, sending } = input;
  if (!input.inAudience) return { kind: 'skip', reason: 'audience' };
  const consent = consentProblem(state);
  if (consent !== undefined) return { kind: 'skip', reason: consent };
  if (reentryBlocked(lastEnteredAt(campaign.id, ledger, input.entered), campaign.reentry, at)) {
    return { kind: 'skip', reason: 'reentry' };
  }
  if (frequencyCapped(ledger, at, sending.frequencyCap)) return { kind: 'skip', reason: 'frequency-cap' };
  if (isHeldOut(campaign.id, input.profileId, campaign.holdout)) return { kind: 'hold-out' };
  const timezone = typeof state.traits.timezone === 'string' ? state.traits.timezone : undefined;
  const until = quietUntil(at, timezone, sending.quietHours);
  return until === undefined ? { kind: 'send' } : { kind: 'defer', until };
}
