import { describe, expect, it } from 'vitest';
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
 * What a mail recommends is what the customer is interested in, minus what they already bought: the
 * product they bought is their strongest interest, and still not offered again.
 */
const harness = useCampaignHarness();

const catalog = buildCatalog([eventCampaign('thanks-with-picks', 'Order Completed')]);

describe('recommendations in a mail', () => {
  it('lists the viewed product not bought, and leaves out the one bought', async () => {
    const customer = newCustomer('browser');
    const at = '2027-02-17T16:00:00.000Z';
    const brush = {
      product_id: 'p-sable-brush',
      name: 'Sable Round Brush',
      category: 'brushes',
      price: '18.00',
    };
    const canvas = {
      product_id: 'p-linen-canvas',
      name: 'Linen Canvas Panel',
      category: 'canvas',
      price: '24.00',
    };
    await harness.ingest(catalog, [
      identify(customer, minutesAfter(at, -60)),
      track(customer, 'Product Viewed', minutesAfter(at, -30), brush),
      track(customer, 'Product Viewed', minutesAfter(at, -20), canvas),
    ]);
    await harness.ingest(catalog, [
      track(customer, 'Order Completed', at, {
        order_id: `order-${customer.id}`,
        revenue: '18.00',
        currency: 'USD',
        products: [{ ...brush, quantity: 1 }],
      }),
    ]);

    const deliveries = await harness.drainSends(catalog, at);
    expect(deliveries.map(({ result }) => result.kind)).toEqual(['sent']);
    const [email, ...others] = await harness.outbox(customer.email);
    expect(others).toEqual([]);
    const recommended = (body: string | undefined) =>
      [...(body ?? '').matchAll(/recommended: \[([^\]]+)\] ([^<\n]+)/g)].map((match) => [match[1], match[2]]);
    expect(recommended(email?.body.text)).toEqual([['p-linen-canvas', 'Linen Canvas Panel']]);
    expect(recommended(email?.body.html)).toEqual([['p-linen-canvas', 'Linen Canvas Panel']]);
    expect(email?.body.text).not.toContain('p-sable-brush');
    expect(email?.body.text).toContain(`order: order-${customer.id}`);
  });
});
