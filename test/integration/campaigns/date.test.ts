import { describe, expect, it } from 'vitest';
import { runDue } from '#shared/campaigns/run-due.ts';
import {
  buildCatalog,
  exampleCampaign,
  identify,
  newCustomer,
  settings,
  useCampaignHarness,
} from './harness.ts';

/**
 * A date campaign, the repository's birthday mail: on the day, at its time, it reads that day's
 * entries of the date index kept on write, and mails the customers born on it, once a year.
 */
const harness = useCampaignHarness();

const catalog = buildCatalog([exampleCampaign('birthday', { holdout: 0 })]);

describe('date campaign', () => {
  it('mails a customer on their birthday, with a personal code, and nobody born on another day', async () => {
    const birthday = newCustomer('birthday');
    const otherDay = newCustomer('other-day');
    await harness.ingest(catalog, [
      identify(birthday, '2027-01-10T10:00:00.000Z', { birthday: '1990-04-12' }),
      identify(otherDay, '2027-01-10T10:00:00.000Z', { birthday: '1990-04-13' }),
    ]);

    const dayBefore = await runDue(new Date('2027-04-11T09:00:00.000Z'), catalog, settings);
    expect(dayBefore.fired).toEqual([
      { campaignId: 'birthday', occurrence: '2027-04-11', candidates: 0, selected: 0 },
    ]);
    const onTheDay = await runDue(new Date('2027-04-12T09:00:10.000Z'), catalog, settings);
    expect(onTheDay.fired).toEqual([
      { campaignId: 'birthday', occurrence: '2027-04-12', candidates: 1, selected: 1 },
    ]);
    const deliveries = await harness.drainSends(catalog, '2027-04-12T09:00:00.000Z');
    expect(deliveries.map(({ request, result }) => [request.customerId, result.kind])).toEqual([
      [birthday.id, 'sent'],
    ]);
    const [mail] = await harness.outbox(birthday.email);
    expect(mail?.body.text).toMatch(/BDAY-[0-9A-Z]{8}/);
    expect(await harness.outbox(otherDay.email)).toEqual([]);
  });
});
