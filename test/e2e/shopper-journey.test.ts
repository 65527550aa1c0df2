import { Analytics } from '@segment/analytics-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '#infra/local/stack.ts';

/**
 * The whole first half of the loop through the local stack: a real Segment client posts a shopper's
 * journey, and the read API returns the customer's engagement state.
 */
let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({ inMemory: true, port: 0, quiet: true });
});

afterAll(async () => {
  await stack?.stop();
});

async function getJson(
  path: string,
  key: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${stack.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the state never reached the expected value');
}

describe('a shopper journey posted with @segment/analytics-node', () => {
  it('ends as engagement state that the admin key can read and the write key cannot', async () => {
    const analytics = new Analytics({ writeKey: stack.keys.write, host: stack.url, flushInterval: 50 });
    const visitor = 'anon-journey-1';
    const start = Date.parse('2026-11-02T10:00:00.000Z');
    const at = (minutes: number) => new Date(start + minutes * 60_000);
    const campaign = { source: 'newsletter', medium: 'email', name: 'autumn-sale' };

    analytics.page({
      anonymousId: visitor,
      name: 'Home',
      timestamp: at(0),
      context: { campaign, page: { url: 'https://shop.example/', referrer: '' } },
    });
    analytics.track({
      anonymousId: visitor,
      event: 'Product Viewed',
      properties: { product_id: 'easel-1', name: 'Field Easel', category: 'Easels', price: 69.9 },
      timestamp: at(2),
    });
    analytics.track({
      anonymousId: visitor,
      event: 'Product Added',
      properties: {
        product_id: 'easel-1',
        name: 'Field Easel',
        category: 'Easels',
        price: 69.9,
        quantity: 1,
      },
      timestamp: at(3),
    });
    analytics.identify({
      anonymousId: visitor,
      userId: 'ada',
      traits: { email: 'ada@example.com', firstName: 'Ada', subscribed: true },
      timestamp: at(5),
    });
    analytics.track({
      userId: 'ada',
      anonymousId: visitor,
      event: 'Order Completed',
      properties: {
        order_id: 'order-1001',
        revenue: 69.9,
        currency: 'USD',
        products: [
          { product_id: 'easel-1', name: 'Field Easel', category: 'Easels', price: 69.9, quantity: 1 },
        ],
      },
      timestamp: at(8),
    });
    await analytics.closeAndFlush({ timeout: 10_000 });

    const customer = await waitFor(
      () => getJson('/v1/customers/ada', stack.keys.admin),
      (response) => response.status === 200 && (response.body.orders as { count?: number })?.count === 1,
    );
    const state = customer.body;
    expect(state.customerId).toBe('ada');
    expect(state.anonymousIds).toEqual([visitor]);
    expect(state.traits).toMatchObject({ email: 'ada@example.com', firstName: 'Ada' });
    expect(state.orders).toMatchObject({ count: 1, revenue: { USD: '69.90' }, productIds: ['easel-1'] });
    expect(state.cart).toMatchObject({ status: 'converted', items: [] });
    expect(state.web).toMatchObject({ pageViews: 1, productViews: 1, sessions: 1 });
    expect(state.firstTouch).toMatchObject({
      source: 'newsletter',
      medium: 'email',
      campaign: 'autumn-sale',
    });
    expect(state.lifecycle).toBe('customer');
    expect((state.email as { subscribed?: boolean }).subscribed).toBe(true);
    const interests = state.interests as { kind: string; id: string }[];
    expect(interests.map((interest) => `${interest.kind}:${interest.id}`)).toContain('category:Easels');

    const byAnonymousId = await getJson(`/v1/customers/${visitor}`, stack.keys.admin);
    expect(byAnonymousId.body.customerId).toBe('ada');

    const timeline = await getJson('/v1/customers/ada/timeline?limit=10', stack.keys.admin);
    const items = timeline.body.items as { type: string; event?: string }[];
    expect(items.map((item) => item.event ?? item.type)).toEqual([
      'Order Completed',
      'identify',
      'Product Added',
      'Product Viewed',
      'page',
    ]);

    const withWriteKey = await getJson('/v1/customers/ada', stack.keys.write);
    expect([401, 403]).toContain(withWriteKey.status);
  });
});
