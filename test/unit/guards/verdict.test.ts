import { describe, expect, test } from 'vitest';
import { type Campaign, campaign as campaignSchema } from '#shared/campaigns/campaign.ts';
import { sendingSettings } from '#shared/campaigns/sending-settings.ts';
import type { EngagementState } from '#shared/engagement/state.ts';
import type { LedgerEntry } from '#shared/guards/frequency.ts';
import { isHeldOut } from '#shared/guards/holdout.ts';
import { guardVerdict } from '#shared/guards/verdict.ts';
import { customer } from './customer.ts';

const sending = sendingSettings.parse({
  from: 'Shop <hello@shop.example>',
  linkBaseUrl: 'https://api.shop.example',
  unsubscribeMailbox: 'unsubscribe@shop.example',
  frequencyCap: { max: 2, per: '7d' },
  quietHours: { start: '21:00', end: '08:00', defaultTimezone: 'UTC' },
});

function campaignWith(fields: { reentry?: unknown; holdout?: number } = {}): Campaign {
  return campaignSchema.parse({
    id: 'cart-recovery',
    name: 'Cart recovery',
    trigger: { kind: 'event', event: 'Checkout Started' },
    message: { subject: 'Your cart', template: 'cart-recovery' },
    ...fields,
  });
}

const noon = new Date('2026-05-10T12:00:00.000Z');
const night = new Date('2026-05-10T23:00:00.000Z');
const earlier = (hours: number) => new Date(noon.getTime() - hours * 3_600_000).toISOString();

function verdict(
  overrides: {
    campaign?: Campaign;
    profileId?: string;
    state?: EngagementState;
    inAudience?: boolean;
    ledger?: LedgerEntry[];
    entered?: Record<string, string>;
    at?: Date;
  } = {},
) {
  return guardVerdict({
    campaign: overrides.campaign ?? campaignWith(),
    profileId: overrides.profileId ?? 'u1',
    state: overrides.state ?? customer(),
    inAudience: overrides.inAudience ?? true,
    ledger: overrides.ledger ?? [],
    entered: overrides.entered ?? {},
    at: overrides.at ?? noon,
    sending,
  });
}

/** Fails every guard at once; each case lifts the ones before it, so the first left must win. */
const everything = {
  inAudience: false,
  state: customer({ suppressed: true, subscribed: false, traits: {} }),
  ledger: [
    { campaignId: 'cart-recovery', at: earlier(1) },
    { campaignId: 'newsletter', at: earlier(2) },
  ],
  campaign: campaignWith({ holdout: 100 }),
  at: night,
};

describe('guard verdict', () => {
  test('a customer who passes every guard is sent to', () => {
    expect(verdict()).toEqual({ kind: 'send' });
  });

  test('the guards apply in order: audience, consent, re-entry, frequency cap, holdout, quiet hours', () => {
    expect(verdict(everything)).toEqual({ kind: 'skip', reason: 'audience' });
    const inAudience = { ...everything, inAudience: true };
    expect(verdict(inAudience)).toEqual({ kind: 'skip', reason: 'suppressed' });
    const notSuppressed = { ...inAudience, state: customer({ subscribed: false, traits: {} }) };
    expect(verdict(notSuppressed)).toEqual({ kind: 'skip', reason: 'unsubscribed' });
    const subscribed = { ...notSuppressed, state: customer({ traits: {} }) };
    expect(verdict(subscribed)).toEqual({ kind: 'skip', reason: 'no-email' });
    const withEmail = { ...subscribed, state: customer() };
    expect(verdict(withEmail)).toEqual({ kind: 'skip', reason: 'reentry' });
    const firstTime = {
      ...withEmail,
      ledger: [
        { campaignId: 'newsletter', at: earlier(1) },
        { campaignId: 'newsletter', at: earlier(2) },
      ],
    };
    expect(verdict(firstTime)).toEqual({ kind: 'skip', reason: 'frequency-cap' });
    const uncapped = { ...firstTime, ledger: [{ campaignId: 'newsletter', at: earlier(2) }] };
    expect(verdict(uncapped)).toEqual({ kind: 'hold-out' });
    const notHeldOut = { ...uncapped, campaign: campaignWith() };
    expect(verdict(notHeldOut)).toEqual({ kind: 'defer', until: new Date('2026-05-11T08:00:00.000Z') });
    expect(verdict({ ...notHeldOut, at: noon })).toEqual({ kind: 'send' });
  });

  test('re-entry every D lets the campaign mail again after D', () => {
    const everyDay = campaignWith({ reentry: { every: '1d' } });
    expect(
      verdict({ campaign: everyDay, ledger: [{ campaignId: 'cart-recovery', at: earlier(23) }] }),
    ).toEqual({
      kind: 'skip',
      reason: 'reentry',
    });
    expect(
      verdict({ campaign: everyDay, ledger: [{ campaignId: 'cart-recovery', at: earlier(24) }] }),
    ).toEqual({
      kind: 'send',
    });
  });

  test("re-entry reads the campaign's record of entries, which a hold-out leaves too", () => {
    const heldOutLastYear = { 'cart-recovery': '2025-05-10T12:00:00.000Z' };
    expect(verdict({ entered: heldOutLastYear })).toEqual({ kind: 'skip', reason: 'reentry' });
    expect(verdict({ entered: { newsletter: earlier(1) } })).toEqual({ kind: 'send' });
    const everyDay = campaignWith({ reentry: { every: '1d' } });
    expect(verdict({ campaign: everyDay, entered: heldOutLastYear })).toEqual({ kind: 'send' });
  });

  test('the holdout is drawn per customer, the same each time', () => {
    const halves = campaignWith({ holdout: 50 });
    const ids = Array.from({ length: 40 }, (_, index) => `customer-${index}`);
    const outcomes = ids.map((profileId) => verdict({ campaign: halves, profileId }).kind);
    expect(outcomes).toEqual(
      ids.map((profileId) => (isHeldOut('cart-recovery', profileId, 50) ? 'hold-out' : 'send')),
    );
    expect(new Set(outcomes)).toEqual(new Set(['hold-out', 'send']));
  });

  test("quiet hours follow the customer's timezone trait", () => {
    const inTokyo = customer({ traits: { email: 'ada@example.com', timezone: 'Asia/Tokyo' } });
    // Noon UTC is 21:00 in Tokyo; 08:00 there is 23:00 UTC.
    expect(verdict({ state: inTokyo })).toEqual({
      kind: 'defer',
      until: new Date('2026-05-10T23:00:00.000Z'),
    });
    const unknownZone = customer({ traits: { email: 'ada@example.com', timezone: 'Nowhere/Special' } });
    expect(verdict({ state: unknownZone })).toEqual({ kind: 'send' });
  });
});
