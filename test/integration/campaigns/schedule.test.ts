import { describe, expect, it } from 'vitest';
import { noCampaigns } from '#shared/campaigns/catalog.ts';
import { fireCampaign } from '#shared/campaigns/fire-campaign.ts';
import { runDue } from '#shared/campaigns/run-due.ts';
import { readCampaignCounters } from '#shared/store/sends.ts';
import { buildCatalog, identify, newCustomer, settings, useCampaignHarness } from './harness.ts';

/**
 * A schedule campaign fired by runDue: its audience comes from the membership index kept on write,
 * never from a scan of the customers, and one fire time mails each member once however often it fires.
 */
const harness = useCampaignHarness();

const campaignId = 'monday-letter';
const catalog = buildCatalog([
  {
    id: campaignId,
    name: 'Monday letter',
    trigger: { kind: 'schedule', expression: 'cron(0 9 ? * MON *)' },
    audience: { subscribed: true },
    message: { subject: 'This week at the studio', template: 'test-mail' },
    reentry: { every: '6d' },
  },
]);

describe('schedule campaign', () => {
  it('mails the members of its index at the fire time, once however often that time fires', async () => {
    const member = newCustomer('reader');
    const unsubscribed = newCustomer('not-subscribed');
    // Subscribed too, but written by a deployment without the campaign: not in its index.
    const unindexed = newCustomer('not-indexed');
    const monday = '2027-03-01T09:00:00.000Z';
    await harness.ingest(catalog, [
      identify(member, '2027-02-20T10:00:00.000Z'),
      identify(unsubscribed, '2027-02-20T10:00:00.000Z', { subscribed: false }),
    ]);
    await harness.ingest(noCampaigns, [identify(unindexed, '2027-02-20T10:00:00.000Z')]);

    const at = new Date('2027-03-01T09:00:30.000Z');
    const due = await runDue(at, catalog, settings);
    expect(due.fired).toEqual([{ campaignId, occurrence: monday, candidates: 1, selected: 1 }]);
    const deliveries = await harness.drainSends(catalog, monday);
    expect(deliveries).toEqual([
      {
        request: { campaignId, customerId: member.id, occurrence: monday, firedAt: monday, trigger: {} },
        result: { kind: 'sent', messageId: expect.any(String) },
      },
    ]);

    // The same fire time again: the cursor stops runDue, and a forced fire is a duplicate at the send.
    expect((await runDue(at, catalog, settings)).fired).toEqual([]);
    expect(await harness.takeSendRequests()).toEqual([]);
    const campaign = catalog.campaigns[0];
    if (!campaign) throw new Error('the catalog has no campaign');
    expect(await fireCampaign(campaign, new Date(monday), settings)).toMatchObject({ selected: 1 });
    expect((await harness.drainSends(catalog, monday)).map(({ result }) => result)).toEqual([
      { kind: 'duplicate' },
    ]);

    expect((await harness.outbox(member.email)).map((email) => email.subject)).toEqual([
      'This week at the studio',
    ]);
    expect(await harness.outbox(unsubscribed.email)).toEqual([]);
    expect(await harness.outbox(unindexed.email)).toEqual([]);
    expect(await readCampaignCounters(campaignId)).toEqual({ sent: 1 });
  });
});
