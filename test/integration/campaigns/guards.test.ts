import { describe, expect, it } from 'vitest';
import { sweepTimers } from '#shared/campaigns/sweep-timers.ts';
import { readCampaignCounters } from '#shared/store/sends.ts';
import {
  buildCatalog,
  eventCampaign,
  identify,
  minutesAfter,
  newCustomer,
  track,
  useCampaignHarness,
} from './harness.ts';

/**
 * The send guards as the send function applies them to requests that ingest put on the send queue:
 * the frequency cap across campaigns, quiet hours in the customer's time zone, and suppression.
 */
const harness = useCampaignHarness();

describe('frequency cap', () => {
  it('lets one of two campaigns that the same event triggers mail, and counts the other as capped', async () => {
    const catalog = buildCatalog(
      [eventCampaign('cap-thanks', 'Order Completed'), eventCampaign('cap-review', 'Order Completed')],
      { frequencyCap: { max: 1, per: '7d' } },
    );
    const customer = newCustomer('capped');
    const at = '2027-02-10T14:00:00.000Z';
    await harness.ingest(catalog, [
      identify(customer, minutesAfter(at, -5)),
      track(customer, 'Order Completed', at, {
        order_id: `order-${customer.id}`,
        revenue: '20',
        currency: 'USD',
      }),
    ]);

    // Both requests at once, as two send function instances would take them.
    const deliveries = await harness.drainSends(catalog, at, { concurrent: true });
    expect(deliveries.map(({ request }) => request.campaignId).sort()).toEqual(['cap-review', 'cap-thanks']);
    expect(deliveries.map(({ result }) => result.kind).sort()).toEqual(['sent', 'skipped']);
    const skipped = deliveries.find(({ result }) => result.kind === 'skipped');
    expect(skipped?.result).toEqual({ kind: 'skipped', reason: 'frequency-cap' });

    const emails = await harness.outbox(customer.email);
    expect(emails).toHaveLength(1);
    const sentBy = deliveries.find(({ result }) => result.kind === 'sent')?.request.campaignId ?? '';
    const cappedBy = sentBy === 'cap-thanks' ? 'cap-review' : 'cap-thanks';
    expect(emails[0]?.subject).toBe(`Test ${sentBy} for Robin`);
    expect(await readCampaignCounters(sentBy)).toEqual({ sent: 1 });
    expect(await readCampaignCounters(cappedBy)).toEqual({ 'skipped:frequency-cap': 1 });
  });
});

describe('quiet hours', () => {
  it('defers a send due at 22:00 in New York to 08:00 there, and sends it when the sweep reaches that time', async () => {
    const catalog = buildCatalog([eventCampaign('quiet-thanks', 'Order Completed')]);
    const customer = newCustomer('night-owl');
    // 03:00 UTC in January is 22:00 the evening before in New York (EST, UTC-5); 08:00 EST is 13:00 UTC.
    const at = '2027-01-12T03:00:00.000Z';
    const morning = '2027-01-12T13:00:00.000Z';
    await harness.ingest(catalog, [
      identify(customer, minutesAfter(at, -60), { timezone: 'America/New_York' }),
      track(customer, 'Order Completed', at, {
        order_id: `order-${customer.id}`,
        revenue: '35',
        currency: 'USD',
      }),
    ]);

    const deferred = await harness.drainSends(catalog, at);
    expect(deferred.map(({ result }) => result)).toEqual([{ kind: 'deferred', until: morning }]);
    expect(await harness.outbox(customer.email)).toEqual([]);
    expect(await readCampaignCounters('quiet-thanks')).toEqual({ deferred: 1 });

    expect(await sweepTimers(new Date(minutesAfter(morning, -1)), catalog)).toMatchObject({ due: 0 });
    expect(await harness.takeSendRequests()).toEqual([]);
    expect(await sweepTimers(new Date(morning), catalog)).toEqual({
      due: 1,
      sent: 1,
      cancelled: 0,
      stale: 0,
    });
    const sent = await harness.drainSends(catalog, morning);
    expect(sent).toEqual([
      {
        request: expect.objectContaining({
          campaignId: 'quiet-thanks',
          customerId: customer.id,
          firedAt: morning,
        }),
        result: { kind: 'sent', messageId: expect.any(String) },
      },
    ]);
    expect(sent[0]?.request.occurrence).toBe(deferred[0]?.request.occurrence);

    const emails = await harness.outbox(customer.email);
    expect(emails.map((email) => email.subject)).toEqual(['Test quiet-thanks for Robin']);
    expect(await readCampaignCounters('quiet-thanks')).toEqual({ deferred: 1, sent: 1 });
  });
});

describe('suppression', () => {
  it('never mails a customer whose address bounced or who complained, even after subscribing again', async () => {
    const catalog = buildCatalog([eventCampaign('suppressed-thanks', 'Order Completed')]);
    const at = '2027-02-11T15:00:00.000Z';
    const bounced = newCustomer('bounced');
    const complained = newCustomer('complained');
    const resubscribed = newCustomer('resubscribed');
    const subscribedAgain = identify(resubscribed, minutesAfter(at, -10), { subscribed: true });
    await harness.ingest(catalog, [
      identify(bounced, minutesAfter(at, -60)),
      identify(complained, minutesAfter(at, -60)),
      identify(resubscribed, minutesAfter(at, -60)),
      track(bounced, 'Email Bounced', minutesAfter(at, -30), { email_id: 'm-1' }),
      track(complained, 'Email Marked as Spam', minutesAfter(at, -30), { email_id: 'm-2' }),
      track(resubscribed, 'Email Bounced', minutesAfter(at, -30), { email_id: 'm-3' }),
      track(resubscribed, 'Unsubscribed', minutesAfter(at, -20)),
      subscribedAgain,
    ]);
    const order = (customer: typeof bounced) =>
      track(customer, 'Order Completed', at, {
        order_id: `order-${customer.id}`,
        revenue: '12',
        currency: 'USD',
      });
    await harness.ingest(catalog, [order(bounced), order(complained), order(resubscribed)]);

    const deliveries = await harness.drainSends(catalog, at);
    expect(deliveries.map(({ request }) => request.customerId).sort()).toEqual(
      [bounced.id, complained.id, resubscribed.id].sort(),
    );
    for (const { result } of deliveries) expect(result).toEqual({ kind: 'skipped', reason: 'suppressed' });
    for (const customer of [bounced, complained, resubscribed]) {
      expect(await harness.outbox(customer.email)).toEqual([]);
    }
    expect(await readCampaignCounters('suppressed-thanks')).toEqual({ 'skipped:suppressed': 3 });
  });
});
