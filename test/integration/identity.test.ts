import { describe, expect, it } from 'vitest';
import type { IngestEvent } from '#events/ingest-event.ts';
import { readCustomer, readTimeline } from '#shared/customers/read-customer.ts';
import { defaultEngagementSettings } from '#shared/engagement/settings.ts';
import { mergeProfiles, resolveProfile } from '#shared/ingest/identity.ts';
import { ingestBatch } from '#shared/ingest/ingest-batch.ts';
import { identify, minutesAfterStart, page, track } from '../unit/engagement/events.ts';
import { useEmulators } from './support.ts';

/** Identity against DynamoDB Local: a visitor's history before sign-up counts for the customer. */
const env = useEmulators();
const settings = defaultEngagementSettings;
const now = new Date(minutesAfterStart(60 * 24));

async function ingest(...batches: IngestEvent[][]): Promise<void> {
  for (const batch of batches) {
    const records = batch.map((event) => ({ id: event.messageId, body: JSON.stringify(event) }));
    expect(await ingestBatch(records, settings)).toEqual([]);
  }
}

function visit(
  visitor: string,
  customer: string,
): { before: IngestEvent[]; signUp: IngestEvent; after: IngestEvent[] } {
  const anonymous = { userId: undefined, anonymousId: visitor };
  return {
    before: [
      page(
        minutesAfterStart(0),
        { campaign: { source: 'banner', medium: 'display', name: 'spring' } },
        anonymous,
      ),
      track(
        'Product Viewed',
        minutesAfterStart(1),
        { product_id: 'p1', category: 'Paint', price: 12 },
        anonymous,
      ),
      track('Product Added', minutesAfterStart(2), { product_id: 'p1', price: 12, quantity: 2 }, anonymous),
    ],
    signUp: identify(
      minutesAfterStart(3),
      { email: `${customer}@example.com` },
      { userId: customer, anonymousId: visitor },
    ),
    after: [
      track(
        'Order Completed',
        minutesAfterStart(4),
        { order_id: `${customer}-o1`, revenue: 24, currency: 'USD' },
        {
          userId: customer,
        },
      ),
      track('Product Viewed', minutesAfterStart(5), { product_id: 'p2', category: 'Canvas' }, anonymous),
    ],
  };
}

describe('identify links a visitor to a customer', () => {
  it('counts the events from before sign-up, and later events under either id land on the customer', async () => {
    const journey = visit('visitor-1', 'customer-1');
    await ingest(journey.before, [journey.signUp], journey.after);

    const state = await readCustomer('customer-1', now, settings);
    expect(state.customerId).toBe('customer-1');
    expect(state.anonymousIds).toEqual(['visitor-1']);
    expect(state.web.productViews).toBe(2);
    expect(state.orders.count).toBe(1);
    expect(state.firstTouch).toMatchObject({ source: 'banner', medium: 'display', campaign: 'spring' });
    expect(await readCustomer('visitor-1', now, settings)).toEqual(state);
    expect(Object.keys(state.web)).toEqual([
      'firstSeenAt',
      'lastSeenAt',
      'pageViews',
      'productViews',
      'sessions',
    ]);
    expect(Object.keys(state.firstTouch ?? {})).toEqual(['source', 'medium', 'campaign', 'at']);
    const timeline = await readTimeline('visitor-1', { limit: 50 });
    expect(timeline.items.map((item) => item.messageId).sort()).toEqual(
      [...journey.before, journey.signUp, ...journey.after].map((event) => event.messageId).sort(),
    );
  });

  it('gives the same state whether the sign-up arrives first, last or in the middle', async () => {
    const orders = [
      (j: ReturnType<typeof visit>) => [j.before, [j.signUp], j.after],
      (j: ReturnType<typeof visit>) => [[j.signUp], j.after, j.before],
      (j: ReturnType<typeof visit>) => [j.after, j.before, [j.signUp]],
      (j: ReturnType<typeof visit>) => [[...j.after, j.signUp, ...j.before]],
    ];
    const states = [];
    for (const [index, order] of orders.entries()) {
      const journey = visit(`visitor-order-${index}`, `customer-order-${index}`);
      await ingest(...order(journey));
      const {
        customerId: _id,
        anonymousIds: _anonymous,
        traits: _traits,
        ...rest
      } = await readCustomer(`customer-order-${index}`, now, settings);
      states.push(rest);
    }
    for (const state of states.slice(1)) expect(state).toEqual(states[0]);
    expect(states[0]?.orders.count).toBe(1);
    expect(states[0]?.web.productViews).toBe(2);
  });

  it('keeps a shared device with the customer who signed in on it first', async () => {
    const first = visit('shared-device', 'first-customer');
    await ingest(first.before, [first.signUp]);
    const second = identify(
      minutesAfterStart(10),
      { email: 'second@example.com' },
      {
        userId: 'second-customer',
        anonymousId: 'shared-device',
      },
    );
    await ingest([second]);

    expect((await readCustomer('shared-device', now, settings)).customerId).toBe('first-customer');
    expect((await readCustomer('second-customer', now, settings)).web.productViews).toBe(0);
  });

  it('merges two customers on alias, keeping both histories', async () => {
    const old = track(
      'Order Completed',
      minutesAfterStart(1),
      { order_id: 'alias-o1', revenue: 10, currency: 'USD' },
      {
        userId: 'old-login',
      },
    );
    const current = track(
      'Order Completed',
      minutesAfterStart(2),
      { order_id: 'alias-o2', revenue: 15, currency: 'USD' },
      {
        userId: 'new-login',
      },
    );
    const alias: IngestEvent = {
      messageId: 'alias-1',
      type: 'alias',
      previousId: 'old-login',
      userId: 'new-login',
      timestamp: minutesAfterStart(3),
      receivedAt: minutesAfterStart(3),
      source: 'shop',
    };
    await ingest([old], [current], [alias]);

    const merged = await readCustomer('old-login', now, settings);
    expect(merged.customerId).toBe('new-login');
    expect(merged.orders).toMatchObject({ count: 2, revenue: { USD: '25.00' } });
  });

  it('publishes each lifecycle change with an id that a redelivery repeats', async () => {
    const order = track(
      'Order Completed',
      minutesAfterStart(1),
      { order_id: 'big-1', revenue: 2500, currency: 'USD' },
      {
        userId: 'big-spender',
      },
    );
    const published = async () => {
      await env.bus.settled();
      return env.bus
        .events()
        .filter((event) => (event.detail as { customerId?: string }).customerId === 'big-spender');
    };
    await ingest([order]);
    const first = await published();
    expect(first.map((event) => event['detail-type']).sort()).toEqual([
      'Customer Tier Changed',
      'First Order Placed',
      'Spend Threshold Crossed',
      'Spend Threshold Crossed',
      'Spend Threshold Crossed',
    ]);
    expect(first.every((event) => event.source === 'rapport.engagement')).toBe(true);
    expect(first.find((event) => event['detail-type'] === 'Customer Tier Changed')?.detail).toMatchObject({
      from: null,
      to: 'gold',
    });

    await ingest([order]);
    const ids = (events: typeof first) => new Set(events.map((event) => (event.detail as { id: string }).id));
    expect(ids(await published())).toEqual(ids(first));
    expect(ids(first).size).toBe(5);
  });

  it('never merges two customers who sign in on one device, in one batch or at the same time', async () => {
    const visitor = visit('device-1', 'alice-1');
    await ingest(visitor.before);
    const bobSignIn = identify(
      minutesAfterStart(4),
      { email: 'bob@example.com' },
      { userId: 'bob-1', anonymousId: 'device-1' },
    );
    await ingest([visitor.signUp, bobSignIn]);

    const both = visit('device-2', 'alice-2');
    await ingest(both.before);
    const bob2 = identify(
      minutesAfterStart(4),
      { email: 'bob2@example.com' },
      { userId: 'bob-2', anonymousId: 'device-2' },
    );
    await Promise.all([ingest([both.signUp]), ingest([bob2])]);

    for (const [alice, bob] of [
      ['alice-1', 'bob-1'],
      ['alice-2', 'bob-2'],
    ] as const) {
      expect((await resolveProfile(alice)).id).toBe(alice);
      expect((await resolveProfile(bob)).id).toBe(bob);
      const views = [await readCustomer(alice, now, settings), await readCustomer(bob, now, settings)];
      expect(views.map((view) => view.web.productViews).sort()).toEqual([0, 1]);
    }
    expect((await readCustomer('device-1', now, settings)).customerId).toBe('alice-1');
  });

  it('merges opposite aliases racing each other into one customer, without a redirect loop', async () => {
    const a = track(
      'Order Completed',
      minutesAfterStart(1),
      { order_id: 'loop-a', revenue: 1, currency: 'USD' },
      { userId: 'loop-a' },
    );
    const b = track(
      'Order Completed',
      minutesAfterStart(1),
      { order_id: 'loop-b', revenue: 2, currency: 'USD' },
      { userId: 'loop-b' },
    );
    await ingest([a], [b]);
    const alias = (previousId: string, userId: string, messageId: string): IngestEvent => ({
      messageId,
      type: 'alias',
      previousId,
      userId,
      timestamp: minutesAfterStart(2),
      receivedAt: minutesAfterStart(2),
      source: 'shop',
    });
    await Promise.all([
      ingest([alias('loop-a', 'loop-b', 'loop-1')]),
      ingest([alias('loop-b', 'loop-a', 'loop-2')]),
    ]);
    const [viaA, viaB] = [
      await readCustomer('loop-a', now, settings),
      await readCustomer('loop-b', now, settings),
    ];
    expect(viaA.customerId).toBe(viaB.customerId);
    expect(viaA.orders).toMatchObject({ count: 2, revenue: { USD: '3.00' } });
  });

  it('folds a merged visitor in even when the process died between the merge and the fold', async () => {
    const journey = visit('visitor-crash', 'customer-crash');
    await ingest(journey.before);
    await mergeProfiles('visitor-crash', 'customer-crash', undefined, { onlyIfUnlinked: true });
    await ingest([journey.signUp]);
    const state = await readCustomer('customer-crash', now, settings);
    expect(state.web.productViews).toBe(1);
    expect(state.firstTouch).toMatchObject({ source: 'banner' });
  });

  it('publishes every crossing however the events were batched, stamped with the event that caused it', async () => {
    const reader = { userId: 'reader-1' };
    const open = (minute: number) => track('Email Opened', minutesAfterStart(minute), {}, reader);
    await ingest([open(1), open(2), open(3), open(4)]);
    const fifth = open(5);
    await ingest([fifth, track('Email Link Clicked', minutesAfterStart(6), {}, reader)]);

    const buyer = { userId: 'buyer-1' };
    const small = track(
      'Order Completed',
      minutesAfterStart(1),
      { order_id: 'b-1', revenue: 50, currency: 'USD' },
      buyer,
    );
    const big = track(
      'Order Completed',
      minutesAfterStart(2),
      { order_id: 'b-2', revenue: 600, currency: 'USD' },
      buyer,
    );
    const refund = track('Order Refunded', minutesAfterStart(3), { order_id: 'b-2' }, buyer);
    await ingest([small], [big, refund]);

    await env.bus.settled();
    const published = (customerId: string) =>
      env.bus
        .events()
        .filter((event) => (event.detail as { customerId?: string }).customerId === customerId)
        .map((event) => ({ type: event['detail-type'], detail: event.detail as Record<string, unknown> }));
    const ignored = published('reader-1');
    expect(ignored.map((event) => event.type)).toEqual(['Newsletter Ignored']);
    expect(ignored[0]?.detail.at).toBe(fifth.timestamp);
    expect(
      published('buyer-1')
        .map((event) => `${event.type} ${String(event.detail.to ?? event.detail.threshold ?? '')}`)
        .sort(),
    ).toEqual([
      'Customer Tier Changed bronze',
      'Customer Tier Changed bronze',
      'Customer Tier Changed silver',
      'First Order Placed ',
      'Spend Threshold Crossed 100.00',
      'Spend Threshold Crossed 500.00',
    ]);
  });
});

describe('lifecycle events of a batch', () => {
  it("are published, and every customer's outbox is cleared after", async () => {
    const order = (userId: string) =>
      track(
        'Order Completed',
        minutesAfterStart(1),
        { order_id: `${userId}-1`, revenue: 20, currency: 'USD' },
        { userId },
      );
    await ingest([order('first-1'), order('first-2'), order('first-3')]);
    await env.bus.settled();
    for (const customerId of ['first-1', 'first-2', 'first-3']) {
      const types = env.bus
        .events()
        .filter((event) => (event.detail as { customerId?: string }).customerId === customerId)
        .map((event) => event['detail-type']);
      expect(types).toContain('First Order Placed');
      const profile = await resolveProfile(customerId);
      expect(profile.profile?.outbox.events).toEqual([]);
    }
  });
});

describe('a visitor signing up under a new userId', () => {
  it("becomes the customer with the visitor's state as it is, and its lifecycle events are not published again", async () => {
    const visitor = 'anon-adopted';
    const customer = 'user-adopted';
    const anonymous = { userId: undefined, anonymousId: visitor };
    const order = track(
      'Order Completed',
      minutesAfterStart(1),
      { order_id: 'adopted-o1', revenue: 30, currency: 'USD' },
      anonymous,
    );
    await ingest([page(minutesAfterStart(0), {}, anonymous), order]);
    await env.bus.settled();
    const firstOrders = () =>
      env.bus
        .events()
        .filter((event) => event['detail-type'] === 'First Order Placed')
        .map((event) => (event.detail as { customerId: string }).customerId)
        .filter((id) => id === visitor || id === customer);
    expect(firstOrders()).toEqual([visitor]);

    const signUp = identify(
      minutesAfterStart(2),
      { email: 'adopted@example.com' },
      { userId: customer, anonymousId: visitor },
    );
    await ingest([signUp]);
    await env.bus.settled();

    const profile = (await resolveProfile(visitor)).profile;
    expect(profile).toMatchObject({
      id: customer,
      members: [visitor, customer],
      foldedMembers: [customer, visitor].sort(),
    });
    const view = await readCustomer(customer, now, settings);
    expect(view).toMatchObject({ customerId: customer, orders: { count: 1, revenue: { USD: '30.00' } } });
    expect(firstOrders()).toEqual([visitor]);
  });
});
