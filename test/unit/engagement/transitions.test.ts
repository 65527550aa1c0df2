import { describe, expect, test } from 'vitest';
import type { IngestEvent } from '#events/ingest-event.ts';
import { type LifecycleEvent, lifecycleContracts, lifecycleSource } from '#events/lifecycle.ts';
import { defaultEngagementSettings } from '#shared/engagement/settings.ts';
import { emptyState, foldEvent } from '#shared/engagement/state.ts';
import { lifecycleTransitions } from '#shared/engagement/transitions.ts';
import { minutesAfterStart as at, track } from './events.ts';

const settings = defaultEngagementSettings;

/** The transitions of each event folded on top of the ones before it, in order. */
function transitionsOf(events: IngestEvent[], customerId = 'u1'): LifecycleEvent[] {
  let state = emptyState(customerId);
  const published: LifecycleEvent[] = [];
  for (const event of events) {
    const next = foldEvent(state, event, settings);
    published.push(...lifecycleTransitions(state, next, settings));
    state = next;
  }
  return published;
}

function order(minutes: number, orderId: string, revenue: string | number, currency = 'USD'): IngestEvent {
  return track(
    'Order Completed',
    at(minutes),
    { order_id: orderId, revenue, currency },
    { messageId: `msg-${orderId}` },
  );
}

describe('lifecycle transitions', () => {
  test('a first order is announced once, with its tier and the thresholds it crosses', () => {
    const events = transitionsOf([order(0, 'o1', '120.50'), order(10, 'o2', '1')]);
    expect(events.map((event) => event.detailType)).toEqual([
      'First Order Placed',
      'Customer Tier Changed',
      'Spend Threshold Crossed',
    ]);
    expect(events[0]?.detail).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{64}$/),
      customerId: 'u1',
      orderId: 'o1',
      revenue: { currency: 'USD', amount: '120.50' },
      at: at(0),
    });
    expect(events[1]?.detail).toMatchObject({
      from: null,
      to: 'bronze',
      revenue: { currency: 'USD', amount: '120.50' },
    });
    expect(events[2]?.detail).toMatchObject({
      threshold: '100.00',
      currency: 'USD',
      revenue: '120.50',
      at: at(0),
    });
  });

  test('one order can cross several thresholds and tiers; a refund steps the tier down', () => {
    const events = transitionsOf([
      order(0, 'o1', 50),
      order(10, 'o2', '2000'),
      track('Order Refunded', at(20), { order_id: 'o2', total: '1600' }),
    ]);
    const crossed = events.filter((event) => event.detailType === 'Spend Threshold Crossed');
    expect(crossed.map((event) => event.detail)).toMatchObject([
      { threshold: '100.00', revenue: '2050.00', at: at(10) },
      { threshold: '500.00', revenue: '2050.00', at: at(10) },
      { threshold: '1000.00', revenue: '2050.00', at: at(10) },
    ]);
    const tiers = events.filter((event) => event.detailType === 'Customer Tier Changed');
    expect(tiers.map((event) => event.detail)).toMatchObject([
      { from: null, to: 'bronze', at: at(0) },
      { from: 'bronze', to: 'gold', at: at(10) },
      { from: 'gold', to: 'bronze', revenue: { currency: 'USD', amount: '450.00' }, at: at(20) },
    ]);
  });

  test('revenue in another currency crosses no threshold of the main currency', () => {
    const events = transitionsOf([order(0, 'o1', 5000, 'EUR')]);
    expect(events.map((event) => event.detailType)).toEqual(['First Order Placed', 'Customer Tier Changed']);
    expect(events[1]?.detail).toMatchObject({ to: 'bronze', revenue: { currency: 'USD', amount: '0.00' } });
  });

  test('a newsletter is ignored when the opens without a click reach the streak, not beyond', () => {
    const opens = (from: number, count: number) =>
      Array.from({ length: count }, (_, index) => track('Email Opened', at(from + index)));
    const events = transitionsOf([
      ...opens(0, 7),
      track('Email Link Clicked', at(10)),
      ...opens(20, 4),
      track('Email Link Clicked', at(30)),
      ...opens(40, 5),
    ]);
    expect(events.map((event) => event.detail)).toEqual([
      { id: expect.any(String), customerId: 'u1', streak: 5, at: at(4) },
      { id: expect.any(String), customerId: 'u1', streak: 5, at: at(44) },
    ]);
    expect(events[0]?.detail.id).not.toBe(events[1]?.detail.id);
  });

  test('the same transition computed again has the same id; another cause has another', () => {
    const first = transitionsOf([order(0, 'o1', 10)]);
    expect(transitionsOf([order(0, 'o1', 10)])).toEqual(first);
    const otherCustomer = transitionsOf([order(0, 'o1', 10)], 'u2');
    const otherMessage = transitionsOf([{ ...order(0, 'o1', 10), messageId: 'other' }]);
    for (const other of [otherCustomer, otherMessage]) {
      expect(other.map((event) => event.detail.id)).not.toContain(first[0]?.detail.id);
    }
  });

  test('nothing changes, nothing is published', () => {
    const state = foldEvent(emptyState('u1'), order(0, 'o1', 10), settings);
    expect(lifecycleTransitions(state, state, settings)).toEqual([]);
    expect(lifecycleTransitions(emptyState('u1'), emptyState('u1'), settings)).toEqual([]);
  });

  test('every published detail satisfies its contract', () => {
    const events = transitionsOf([
      order(0, 'o1', '2500'),
      ...Array.from({ length: 5 }, (_, index) => track('Email Opened', at(10 + index))),
    ]);
    expect(new Set(events.map((event) => event.detailType)).size).toBe(lifecycleContracts.length);
    for (const event of events) {
      const contract = lifecycleContracts.find((candidate) => candidate.detailType === event.detailType);
      expect(contract?.source).toBe(lifecycleSource);
      expect(contract?.version).toBe('1');
      expect(contract?.schema.safeParse(event.detail).success).toBe(true);
    }
  });
});
