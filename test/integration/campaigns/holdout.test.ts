import { describe, expect, it } from 'vitest';
import { isHeldOut } from '#shared/guards/holdout.ts';
import { readCampaignCounters } from '#shared/store/sends.ts';
import {
  buildCatalog,
  eventCampaign,
  identify,
  minutesAfter,
  newCustomer,
  type TestCustomer,
  track,
  useCampaignHarness,
} from './harness.ts';

/**
 * The holdout (control) group: a stable tenth of a campaign's eligible customers, drawn by hash, who
 * are never mailed but are recorded as held out, so that their conversions measure the campaign.
 */
const harness = useCampaignHarness();

const campaignId = 'holdout-thanks';

describe('holdout split', () => {
  it('holds out the same customers every time, and 10% of them within 2 points', () => {
    const ids = Array.from({ length: 10_000 }, (_, index) => `synthetic-customer-${index}`);
    const first = ids.filter((id) => isHeldOut(campaignId, id, 10));
    const second = ids.filter((id) => isHeldOut(campaignId, id, 10));
    expect(second).toEqual(first);
    expect(first.length).toBeGreaterThanOrEqual(800);
    expect(first.length).toBeLessThanOrEqual(1200);
    // Independent between campaigns: another campaign holds out other customers.
    const other = ids.filter((id) => isHeldOut('another-campaign', id, 10));
    expect(other).not.toEqual(first);
  });

  it('records a held-out customer as held out, with no email and a "Campaign Email Held Out" event', async () => {
    const catalog = buildCatalog([eventCampaign(campaignId, 'Order Completed', { holdout: 10 })]);
    const heldOut = customerWhere((customer) => isHeldOut(campaignId, customer.id, 10), 'held-out');
    const mailed = customerWhere((customer) => !isHeldOut(campaignId, customer.id, 10), 'mailed');
    const at = '2027-02-12T10:00:00.000Z';
    const order = (customer: TestCustomer) =>
      track(customer, 'Order Completed', at, {
        order_id: `order-${customer.id}`,
        revenue: '40',
        currency: 'USD',
      });
    await harness.ingest(catalog, [
      identify(heldOut, minutesAfter(at, -5)),
      identify(mailed, minutesAfter(at, -5)),
      order(heldOut),
      order(mailed),
    ]);

    const deliveries = await harness.drainSends(catalog, at);
    const resultOf = (customer: TestCustomer) =>
      deliveries.find(({ request }) => request.customerId === customer.id)?.result;
    expect(deliveries).toHaveLength(2);
    expect(resultOf(heldOut)).toEqual({ kind: 'held-out' });
    expect(resultOf(mailed)).toEqual({ kind: 'sent', messageId: expect.any(String) });
    expect(await harness.outbox(heldOut.email)).toEqual([]);
    expect(await harness.outbox(mailed.email)).toHaveLength(1);
    expect(await readCampaignCounters(campaignId)).toEqual({ 'held-out': 1, sent: 1 });

    const outcomes = (await harness.takeIngestEvents()).filter((event) => event.source === 'rapport');
    const outcomeOf = (customer: TestCustomer) =>
      outcomes
        .filter((event) => event.userId === customer.id)
        .map((event) => [event.event, event.properties]);
    expect(outcomeOf(heldOut)).toEqual([
      [
        'Campaign Email Held Out',
        {
          campaign_id: campaignId,
          campaign_name: `Test ${campaignId}`,
          occurrence: expect.any(String),
        },
      ],
    ]);
    expect(outcomeOf(mailed)).toEqual([
      [
        'Campaign Email Sent',
        expect.objectContaining({ campaign_id: campaignId, ses_message_id: expect.any(String) }),
      ],
    ]);
  });
});

/** A new customer for whom `wanted` holds: about one in ten ids is held out, so a few tries do. */
function customerWhere(wanted: (customer: TestCustomer) => boolean, label: string): TestCustomer {
  for (let attempt = 0; attempt < 1_000; attempt++) {
    const customer = newCustomer(label);
    if (wanted(customer)) return customer;
  }
  throw new Error(`no ${label} customer in 1,000 tries`);
}
