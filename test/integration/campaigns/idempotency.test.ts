import { describe, expect, it } from 'vitest';
import { deliverSend } from '#shared/send/deliver.ts';
import { readCampaignCounters, readClaimStatus, recordDecision } from '#shared/store/sends.ts';
import { storeTimelineEvents } from '#shared/store/timeline.ts';
import { duePointers } from '#shared/store/timers.ts';
import {
  buildCatalog,
  deliveryDeps,
  eventCampaign,
  identify,
  minutesAfter,
  newCustomer,
  sendRequestFor,
  track,
  useCampaignHarness,
} from './harness.ts';

/**
 * At-least-once delivery everywhere, one email per occurrence: a trigger that ingest sees twice and a
 * send request that the send function gets twice, one after the other or at the same time.
 */
const harness = useCampaignHarness();

/** A campaign of one test's own, so that its counters are the test's. */
const catalogOf = (campaignId: string) =>
  buildCatalog([eventCampaign(campaignId, 'Order Completed', { reentry: { every: '1d' } })]);

describe('duplicate triggers and requests', () => {
  it('mails once for an Order Completed that two ingest batches carry', async () => {
    const campaignId = 'once-ingested';
    const catalog = catalogOf(campaignId);
    const customer = newCustomer('twice-ingested');
    const at = '2027-02-15T11:00:00.000Z';
    const order = track(
      customer,
      'Order Completed',
      at,
      { order_id: `order-${customer.id}`, revenue: '25', currency: 'USD' },
      `order-message-${customer.id}`,
    );
    await harness.ingest(catalog, [identify(customer, minutesAfter(at, -5)), order]);
    await harness.ingest(catalog, [order]);

    const deliveries = await harness.drainSends(catalog, at);
    expect(deliveries.length).toBeGreaterThanOrEqual(1);
    for (const { request } of deliveries) {
      expect(request).toMatchObject({ campaignId, customerId: customer.id, occurrence: order.messageId });
    }
    expect(deliveries.filter(({ result }) => result.kind === 'sent')).toHaveLength(1);
    expect(await harness.outbox(customer.email)).toHaveLength(1);
    expect(await readClaimStatus(customer.id, campaignId, order.messageId)).toBe('sent');
    expect(await readCampaignCounters(campaignId)).toEqual({ sent: 1 });
  });

  it('mails once for a send request delivered again later, and for one delivered three times at once', async () => {
    const campaignId = 'once-delivered';
    const catalog = catalogOf(campaignId);
    const at = '2027-02-16T11:00:00.000Z';
    const later = newCustomer('redelivered');
    const racing = newCustomer('raced');
    const order = (customer: typeof later) =>
      track(customer, 'Order Completed', at, {
        order_id: `order-${customer.id}`,
        revenue: '25',
        currency: 'USD',
      });
    await harness.ingest(catalog, [
      identify(later, minutesAfter(at, -5)),
      identify(racing, minutesAfter(at, -5)),
      order(later),
      order(racing),
    ]);
    const requests = await harness.takeSendRequests();
    const requestOf = (customer: typeof later) => {
      const found = requests.find((request) => request.customerId === customer.id);
      if (!found) throw new Error(`no send request for ${customer.id}`);
      return found;
    };
    const deps = deliveryDeps(catalog, at);

    const first = await deliverSend(requestOf(later), deps);
    const again = await deliverSend(requestOf(later), deps);
    expect([first.kind, again.kind]).toEqual(['sent', 'duplicate']);

    const raced = await Promise.all([1, 2, 3].map(() => deliverSend(requestOf(racing), deps)));
    expect(raced.map((result) => result.kind).sort()).toEqual(['duplicate', 'duplicate', 'sent']);

    expect(await harness.outbox(later.email)).toHaveLength(1);
    expect(await harness.outbox(racing.email)).toHaveLength(1);
    expect(await readCampaignCounters(campaignId)).toEqual({ sent: 2 });
  });

  it('fires the campaign of an event whose first ingest stored it and died before the state write', async () => {
    const campaignId = 'after-a-crash';
    const catalog = catalogOf(campaignId);
    const customer = newCustomer('crashed-ingest');
    const at = '2027-02-17T11:00:00.000Z';
    await harness.ingest(catalog, [identify(customer, minutesAfter(at, -5))]);
    const order = track(customer, 'Order Completed', at, { order_id: `order-${customer.id}`, revenue: '25' });
    // The first attempt got as far as the timeline; its redelivery finds the event stored already.
    await storeTimelineEvents([{ partitionId: customer.id, event: order }]);
    await harness.ingest(catalog, [order]);

    const deliveries = await harness.drainSends(catalog, at);
    expect(deliveries.map(({ result }) => result.kind)).toEqual(['sent']);
    expect(await harness.outbox(customer.email)).toHaveLength(1);
  });

  it('fires the campaign of an event whose first ingest wrote the state and died before acting on it', async () => {
    const campaignId = 'after-the-state';
    const catalog = catalogOf(campaignId);
    const customer = newCustomer('crashed-after-state');
    const at = '2027-02-19T11:00:00.000Z';
    const order = track(customer, 'Order Completed', at, { order_id: `order-${customer.id}`, revenue: '25' });
    // The first attempt folded everything and died before its triggers: as if it had no campaigns.
    await harness.ingest(buildCatalog([]), [identify(customer, minutesAfter(at, -5)), order]);
    expect(await harness.takeSendRequests()).toEqual([]);
    await harness.ingest(catalog, [order]);

    const deliveries = await harness.drainSends(catalog, at);
    expect(deliveries.map(({ result }) => result.kind)).toEqual(['sent']);
    expect(await harness.outbox(customer.email)).toHaveLength(1);
  });

  it('defers again a send whose deferral was recorded before its timer was written', async () => {
    const campaignId = 'deferral-after-a-crash';
    const catalog = catalogOf(campaignId);
    const customer = newCustomer('crashed-deferral');
    // 03:00 UTC is 03:00 in the default time zone: quiet until 08:00.
    const at = '2027-02-18T03:00:00.000Z';
    const until = '2027-02-18T08:00:00.000Z';
    await harness.ingest(catalog, [identify(customer, minutesAfter(at, -5))]);
    const request = sendRequestFor(customer, campaignId, at);
    // The first attempt recorded the deferral and died before writing its timer.
    await recordDecision({
      profileId: customer.id,
      campaignId,
      occurrence: `${request.occurrence}~deferred@${until}`,
      status: 'deferred',
      counter: 'deferred',
      detail: { until },
    });

    expect(await deliverSend(request, deliveryDeps(catalog, at))).toEqual({ kind: 'duplicate' });
    const due = await duePointers(new Date(until));
    expect(due.filter((pointer) => pointer.profileId === customer.id)).toHaveLength(1);
    expect(await readCampaignCounters(campaignId)).toEqual({ deferred: 1 });
  });
});
