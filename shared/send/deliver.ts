import type { SendRequest } from '#events/send-request.ts';
import type { Campaign } from '../campaigns/campaign.ts';
import type { Catalog } from '../campaigns/catalog.ts';
import type { EngagementSettings } from '../engagement/settings.ts';
import { emailAddressOf } from '../guards/consent.ts';
import { pruneLedger } from '../guards/frequency.ts';
import type { GuardOutcome } from '../guards/verdict.ts';
import { resolveProfile } from '../ingest/identity.ts';
import { renderMessage } from '../messages/render.ts';
import {
  type Claim,
  type Decision,
  readSendState,
  recordDecision,
  resumeClaim,
  type SendLedger,
  settleClaim,
} from '../store/sends.ts';
import { deferSend } from '../store/timers.ts';
import { assessSend } from './assess.ts';
import { personalize } from './message-context.ts';
import { type OutcomeKind, outcomeEvent, recordOutcomes } from './outcomes.ts';
import { acquireSendSlots, type Clock } from './pacing.ts';
import { PermanentSendError, sendEmail, TransientSendError } from './ses-email.ts';

export interface DeliveryDeps {
  catalog: Catalog;
  settings: EngagementSettings;
  secret: string;
  /** Emails per second across all senders; undefined sends unpaced. */
  maxSendRate: number | undefined;
  clock: Clock;
}

export type DeliveryResult =
  | { kind: 'sent'; messageId: string }
  | { kind: 'held-out' }
  | { kind: 'skipped'; reason: string }
  | { kind: 'deferred'; until: string }
  | { kind: 'failed'; reason: string }
  | { kind: 'duplicate' };

const maxLedgerAttempts = 5;

/**
 * Delivers one send request: decides, once, whether the customer gets this campaign's email for this
 * occurrence, and sends it.
 *
 * 1. Read the customer (following merges). A decision already recorded for this occurrence ends
 *    here, except a send that SES throttled, which is sent now. Read the send ledger.
 * 2. Apply the guards (audience, consent, re-entry, frequency cap, holdout, quiet hours) as of the
 *    request's time.
 * 3. Record the decision with its counter; a send also claims its place in the ledger. Whoever
 *    records first decides: a duplicate request stops here, and a ledger changed meanwhile by another
 *    campaign's send means deciding again from 1.
 * 4. For a send: wait for a pacing slot, render, send through SES, and settle the claim as sent, or
 *    failed (SES refused for good), or waiting for a retry (SES throttled; the error is rethrown
 *    so that the queue redelivers).
 * 5. Put the outcome on the customer's timeline.
 */
export async function deliverSend(request: SendRequest, deps: DeliveryDeps): Promise<DeliveryResult> {
  const campaign = deps.catalog.campaigns.find((candidate) => candidate.id === request.campaignId);
  if (!campaign?.enabled) {
    return { kind: 'skipped', reason: campaign ? 'campaign disabled' : 'campaign not in the catalog' };
  }
  const resolved = await resolveProfile(request.customerId);
  const profile = resolved.profile;
  if (!profile) return { kind: 'skipped', reason: 'unknown customer' };
  const at = new Date(request.firedAt);
  const { claim, ledger: firstLedger } = await readSendState(profile.id, campaign.id, request.occurrence);
  if (claim?.status === 'retry') {
    // Decided already, and SES throttled the send: send it now, unless another retry took it.
    if (!(await resumeClaim(profile.id, campaign.id, request.occurrence))) return { kind: 'duplicate' };
    const result = await send(campaign, profile.id, profile.state, request, at, deps);
    await recordOutcomes([outcomeOf(result, campaign, profile.id, request, deps)].flat());
    return result;
  }
  if (claim) {
    // Decided already. The outcome event may not have reached the timeline (a crash right after the
    // decision): it goes again, under the same id. A send still marked `sending` is not: SES may have
    // taken it, and a customer gets at most one email per occurrence.
    const settled = settledResult(claim);
    if (settled) await recordOutcomes([outcomeOf(settled, campaign, profile.id, request, deps)].flat());
    return { kind: 'duplicate' };
  }

  for (let attempt = 0; attempt < maxLedgerAttempts; attempt++) {
    const { verdict, ledger } = await assessSend(
      campaign,
      profile,
      at,
      deps.catalog,
      deps.settings,
      attempt === 0 ? firstLedger : undefined,
    );
    const decision = decisionOf(verdict, campaign, profile.id, request, ledger, deps);
    const recorded = await recordDecision(decision);
    if (recorded === 'ledger-changed') continue;
    // A send claimed by someone else is theirs to send. Any other decision is finished again, which
    // is safe: the deferral timer and the outcome event are written under the same keys.
    if (recorded === 'duplicate' && verdict.kind === 'send') return { kind: 'duplicate' };
    const result =
      verdict.kind === 'send'
        ? await send(campaign, profile.id, profile.state, request, at, deps)
        : await decided(verdict, profile.id, request, deps);
    await recordOutcomes([outcomeOf(result, campaign, profile.id, request, deps)].flat());
    return recorded === 'duplicate' ? { kind: 'duplicate' } : result;
  }
  throw new Error(`the send ledger of ${profile.id} changed ${maxLedgerAttempts} times while deciding`);
}

/** The result a settled claim stands for; undefined while it is still being sent. */
function settledResult(claim: Claim): DeliveryResult | undefined {
  const detail = claim.detail ?? {};
  switch (claim.status) {
    case 'sent':
      return { kind: 'sent', messageId: detail.messageId ?? '' };
    case 'held-out':
      return { kind: 'held-out' };
    case 'skipped':
      return { kind: 'skipped', reason: detail.reason ?? '' };
    case 'failed':
      return { kind: 'failed', reason: detail.reason ?? '' };
    default:
      return undefined;
  }
}

function decisionOf(
  verdict: GuardOutcome,
  campaign: Campaign,
  profileId: string,
  request: SendRequest,
  ledger: SendLedger,
  deps: DeliveryDeps,
): Decision {
  const base = { profileId, campaignId: campaign.id, occurrence: request.occurrence };
  const keep = Math.max(deps.catalog.sending.frequencyCap.per.millis, 0);
  switch (verdict.kind) {
    case 'skip':
      return {
        ...base,
        status: 'skipped',
        counter: `skipped:${verdict.reason}`,
        detail: { reason: verdict.reason },
      };
    case 'defer':
      // A deferral is its own occurrence of the claim: the send it defers is decided when it comes due.
      return {
        ...base,
        occurrence: `${request.occurrence}~deferred@${verdict.until.toISOString()}`,
        status: 'deferred',
        counter: 'deferred',
        detail: { until: verdict.until.toISOString() },
      };
    case 'hold-out':
      return {
        ...base,
        status: 'held-out',
        counter: 'held-out',
        ledger: { ...ledger, entered: { ...ledger.entered, [campaign.id]: request.firedAt } },
      };
    case 'send': {
      const entry = { campaignId: campaign.id, at: request.firedAt };
      const kept = pruneLedger(ledger.recent, new Date(request.firedAt), keep);
      // A send retried after SES throttled it holds its place already.
      const known = kept.some((held) => held.campaignId === entry.campaignId && held.at === entry.at);
      return {
        ...base,
        status: 'sending',
        ledger: {
          ...ledger,
          recent: known ? kept : [...kept, entry],
          entered: { ...ledger.entered, [campaign.id]: request.firedAt },
        },
      };
    }
  }
}

async function decided(
  verdict: Exclude<GuardOutcome, { kind: 'send' }>,
  profileId: string,
  request: SendRequest,
  _deps: DeliveryDeps,
): Promise<DeliveryResult> {
  if (verdict.kind === 'skip') return { kind: 'skipped', reason: verdict.reason };
  if (verdict.kind === 'hold-out') return { kind: 'held-out' };
  const until = verdict.until.toISOString();
  await deferSend(profileId, { ...request, firedAt: until }, verdict.until);
  return { kind: 'deferred', until };
}

async function send(
  campaign: Campaign,
  profileId: string,
  state: Parameters<typeof personalize>[0]['state'],
  request: SendRequest,
  at: Date,
  deps: DeliveryDeps,
): Promise<DeliveryResult> {
  const settle = (status: 'sent' | 'failed' | 'retry', detail: Record<string, string>, counter?: string) =>
    settleClaim(profileId, campaign.id, request.occurrence, status, detail, counter);
  const to = emailAddressOf(state.traits) ?? '';
  try {
    const { context, headers } = personalize({
      catalog: deps.catalog,
      campaign,
      profileId,
      state,
      occurrence: request.occurrence,
      at,
      trigger: request.trigger,
      settings: deps.settings,
      secret: deps.secret,
    });
    const message = await renderMessage(deps.catalog, campaign, context);
    if (deps.maxSendRate !== undefined) await acquireSendSlots(1, deps.maxSendRate, deps.clock);
    const messageId = await sendEmail({
      from: campaign.message.from ?? deps.catalog.sending.from,
      to,
      ...(deps.catalog.sending.replyTo ? { replyTo: deps.catalog.sending.replyTo } : {}),
      ...message,
      headers,
      tags: { campaign: campaign.id, customer: profileId },
    });
    await settle('sent', { messageId, ...(context.promo ? { promoCode: context.promo.code } : {}) }, 'sent');
    return { kind: 'sent', messageId };
  } catch (error) {
    if (error instanceof TransientSendError) {
      // The claim waits for the queue's retry, which may take it over (see recordDecision).
      await settle('retry', { reason: error.message });
      throw error;
    }
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    await settle('failed', { reason }, 'failed');
    if (!(error instanceof PermanentSendError))
      console.error('send failed', { campaign: campaign.id, profileId, reason });
    return { kind: 'failed', reason };
  }
}

function outcomeOf(
  result: DeliveryResult,
  campaign: Campaign,
  profileId: string,
  request: SendRequest,
  deps: DeliveryDeps,
) {
  if (result.kind === 'duplicate') return [];
  const properties: Record<string, string> =
    result.kind === 'sent'
      ? { ses_message_id: result.messageId }
      : result.kind === 'skipped' || result.kind === 'failed'
        ? { reason: result.reason }
        : result.kind === 'deferred'
          ? { until: result.until }
          : {};
  const kinds: Record<Exclude<DeliveryResult['kind'], 'duplicate'>, OutcomeKind> = {
    sent: 'sent',
    'held-out': 'held-out',
    skipped: 'skipped',
    deferred: 'deferred',
    failed: 'failed',
  };
  return outcomeEvent({
    kind: kinds[result.kind],
    profileId,
    request,
    campaignName: campaign.name,
    at: request.firedAt,
    receivedAt: new Date(deps.clock.now()).toISOString(),
    properties,
  });
}
