import { describe, expect, it } from 'vitest';
import { sweepTimers } from '#shared/campaigns/sweep-timers.ts';
import { verifyToken } from '#shared/messages/links.ts';
import { readCampaignCounters } from '#shared/store/sends.ts';
import { testSigningSecret } from '../support.ts';
import {
  buildCatalog,
  exampleCampaign,
  headerOf,
  identify,
  minutesAfter,
  newCustomer,
  testSending,
  track,
  useCampaignHarness,
} from './harness.ts';

/**
 * The example cart-recovery campaign end to end: a Product Added arms a timer, the sweep an hour
 * later puts the send on the queue, and the send function mails the cart through SES with a signed
 * one-click unsubscribe. An order within the hour cancels it.
 */
const harness = useCampaignHarness();

// The holdout is the campaign's own business (see holdout.test.ts); here every cart is reminded.
const catalog = buildCatalog([exampleCampaign('cart-recovery', { holdout: 0 })]);

describe('cart recovery', () => {
  it('mails the abandoned cart an hour after the add, with a signed unsubscribe, and not once an order came in', async () => {
    const added = '2027-02-09T12:00:00.000Z';
    const dueAt = minutesAfter(added, 60);
    const abandoner = newCustomer('cart-abandoner');
    const buyer = newCustomer('cart-buyer');
    const easel = {
      product_id: 'p-easel',
      name: 'Walnut Field Easel',
      price: '89.50',
      currency: 'USD',
      quantity: 1,
    };
    await harness.ingest(catalog, [
      identify(abandoner, minutesAfter(added, -10)),
      identify(buyer, minutesAfter(added, -10)),
      track(abandoner, 'Product Added', added, easel),
      track(buyer, 'Product Added', added, easel),
    ]);
    await harness.ingest(catalog, [
      track(buyer, 'Order Completed', minutesAfter(added, 30), {
        order_id: `order-${buyer.id}`,
        revenue: '89.50',
        currency: 'USD',
        products: [easel],
      }),
    ]);

    expect(await sweepTimers(new Date(minutesAfter(added, 59)), catalog)).toEqual({
      due: 0,
      sent: 0,
      cancelled: 0,
      stale: 0,
    });
    expect(await harness.takeSendRequests()).toEqual([]);

    expect(await sweepTimers(new Date(dueAt), catalog)).toEqual({ due: 2, sent: 1, cancelled: 1, stale: 0 });
    const deliveries = await harness.drainSends(catalog, dueAt);
    expect(deliveries).toEqual([
      {
        request: {
          campaignId: 'cart-recovery',
          customerId: abandoner.id,
          occurrence: `-@${dueAt}`,
          firedAt: dueAt,
          trigger: easel,
        },
        result: { kind: 'sent', messageId: expect.any(String) },
      },
    ]);

    const [email, ...others] = await harness.outbox(abandoner.email);
    expect(others).toEqual([]);
    expect(email?.subject).toBe('Robin, your cart is waiting');
    expect(email?.from).toBe(testSending.from);
    expect(email?.body.html).toContain('Walnut Field Easel');
    expect(email?.body.html).toContain('$89.50');
    expect(email?.body.text).toContain('1 × Walnut Field Easel, $89.50');

    const listUnsubscribe = email && headerOf(email, 'List-Unsubscribe');
    const links =
      /^<(?<url>https:[^>]+)>, <mailto:unsubscribe@shop\.example\?subject=unsubscribe%20(?<mailed>[^>]+)>$/.exec(
        listUnsubscribe ?? '',
      )?.groups;
    const url = new URL(links?.url ?? 'https://missing.invalid/');
    expect(url.origin).toBe(testSending.linkBaseUrl);
    const token = url.pathname.replace(/^\/u\//, '');
    expect(links?.mailed).toBe(token);
    expect(verifyToken(testSigningSecret, token)).toEqual({
      c: abandoner.id,
      k: 'cart-recovery',
      o: `-@${dueAt}`,
    });
    expect(verifyToken('another-signing-secret-0123456789abcdef', token)).toBeUndefined();
    expect(email?.body.text).toContain(`Unsubscribe: ${url.href}`);
    expect(email && headerOf(email, 'List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click');

    expect(await harness.outbox(buyer.email)).toEqual([]);
    expect(await readCampaignCounters('cart-recovery')).toEqual({ sent: 1 });
  });
});
