import { describe, expect, it } from 'vitest';
import { sweepTimers } from '#shared/campaigns/sweep-timers.ts';
import {
  buildCatalog,
  exampleCampaign,
  identify,
  minutesAfter,
  newCustomer,
  track,
  useCampaignHarness,
} from './harness.ts';

/**
 * The repository's browse follow-up: two views in one category, then a day without an add, mail
 * that category. One timer per category; a single view, or an add meanwhile, sends nothing.
 */
const harness = useCampaignHarness();

const catalog = buildCatalog([exampleCampaign('browse-follow-up', { holdout: 0 })]);
const view = (customer: ReturnType<typeof newCustomer>, at: string, category: string, id: string) =>
  track(customer, 'Product Viewed', at, { product_id: id, name: `Product ${id}`, category });

describe('browse follow-up', () => {
  it('mails about the category viewed twice, a day after the second view, and not the one viewed once', async () => {
    const browser = newCustomer('browser');
    const start = '2027-05-03T10:00:00.000Z';
    await harness.ingest(catalog, [identify(browser, minutesAfter(start, -10))]);
    await harness.ingest(catalog, [
      view(browser, start, 'paint', 'p1'),
      view(browser, minutesAfter(start, 5), 'canvas', 'c1'),
    ]);
    await harness.ingest(catalog, [view(browser, minutesAfter(start, 30), 'paint', 'p2')]);

    // A day after the first paint view the timer has moved on to a day after the second.
    const dayAfterSecond = minutesAfter(start, 30 + 24 * 60);
    expect(await sweepTimers(new Date(minutesAfter(start, 24 * 60 + 10)), catalog)).toMatchObject({
      sent: 0,
    });
    expect(await sweepTimers(new Date(dayAfterSecond), catalog)).toMatchObject({ sent: 1 });
    const deliveries = await harness.drainSends(catalog, dayAfterSecond);
    expect(deliveries.map(({ request, result }) => [request.trigger.category, result.kind])).toEqual([
      ['paint', 'sent'],
    ]);
    expect((await harness.outbox(browser.email)).map((mail) => mail.subject)).toEqual([
      'More paint ideas for you',
    ]);
  });

  it('sends nothing when a product was added after the views', async () => {
    const adder = newCustomer('adder');
    const start = '2027-05-10T10:00:00.000Z';
    await harness.ingest(catalog, [
      identify(adder, minutesAfter(start, -10)),
      view(adder, start, 'paint', 'p1'),
      view(adder, minutesAfter(start, 1), 'paint', 'p2'),
      track(adder, 'Product Added', minutesAfter(start, 2), {
        product_id: 'p2',
        name: 'Product p2',
        price: 10,
      }),
    ]);
    expect(await sweepTimers(new Date(minutesAfter(start, 24 * 60 + 1)), catalog)).toMatchObject({
      sent: 0,
      cancelled: 1,
    });
    expect(await harness.takeSendRequests()).toEqual([]);
  });
});
