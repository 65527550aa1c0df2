import { describe, expect, it } from 'vitest';
import type { IngestEvent } from '#events/ingest-event.ts';
import type { LifecycleEvent } from '#events/lifecycle.ts';
import { type Catalog, parseCatalog } from '#shared/campaigns/catalog.ts';
import { coalesceArms } from '#shared/campaigns/dispatch-triggers.ts';
import { cancelledSince } from '#shared/campaigns/sweep-timers.ts';
import { eventTriggers, lifecycleTriggers } from '#shared/campaigns/triggers.ts';
import { defaultEngagementSettings } from '#shared/engagement/settings.ts';
import { emptyState } from '#shared/engagement/state.ts';

const templates = { 'mail.html.liquid': '<p>hi</p>', 'mail.txt.liquid': 'hi' };
const message = { subject: 'Hi', template: 'mail' };

function catalogOf(...campaigns: Record<string, unknown>[]): Catalog {
  return parseCatalog(
    {
      campaigns: campaigns.map((document) => ({ file: `campaigns/${document.id}.yaml`, document })),
      segments: [],
      templates,
      sending: {
        from: 'Shop <shop@shop.example>',
        linkBaseUrl: 'https://api.shop.example',
        unsubscribeMailbox: 'unsubscribe@shop.example',
      },
      sendingFile: 'rapport.config.yaml',
    },
    defaultEngagementSettings,
  );
}

function track(name: string, properties: Record<string, unknown>, messageId = `m-${name}`): IngestEvent {
  return {
    messageId,
    type: 'track',
    userId: 'ada',
    event: name,
    properties,
    timestamp: '2026-11-23T10:00:00.000Z',
    receivedAt: '2026-11-23T10:00:01.000Z',
    source: 'test',
  };
}

const thanks = {
  id: 'thanks',
  name: 'Thanks',
  trigger: { kind: 'event', event: 'Order Completed' },
  message,
};
const bigThanks = {
  id: 'big-thanks',
  name: 'Big thanks',
  trigger: {
    kind: 'event',
    event: 'Order Completed',
    where: { 'properties.currency': { in: ['EUR', 'USD'] } },
  },
  message,
};
const browse = {
  id: 'browse',
  name: 'Browse',
  trigger: {
    kind: 'delay-unless',
    on: 'Product Viewed',
    times: 2,
    per: 'properties.category',
    after: '24h',
    unless: ['Product Added'],
  },
  message,
};

describe('eventTriggers', () => {
  it('sends an event campaign for its event, once per event, under the event id', () => {
    const catalog = catalogOf(thanks, browse);
    const order = track('Order Completed', { order_id: 'o-1' });
    expect(eventTriggers(catalog, 'ada', [order, track('Page Viewed', {})])).toEqual([
      {
        kind: 'send',
        request: {
          campaignId: 'thanks',
          customerId: 'ada',
          occurrence: 'm-Order Completed',
          firedAt: '2026-11-23T10:00:00.000Z',
          trigger: { order_id: 'o-1' },
        },
      },
    ]);
  });

  it('matches `where` on the event fields, with `in` for a list', () => {
    const catalog = catalogOf(bigThanks);
    expect(eventTriggers(catalog, 'ada', [track('Order Completed', { currency: 'USD' })])).toHaveLength(1);
    expect(eventTriggers(catalog, 'ada', [track('Order Completed', { currency: 'GBP' })])).toEqual([]);
    expect(eventTriggers(catalog, 'ada', [track('Order Completed', {})])).toEqual([]);
  });

  it('arms a delay-unless timer per value of `per`, due `after` the event', () => {
    const catalog = catalogOf(browse);
    expect(eventTriggers(catalog, 'ada', [track('Product Viewed', { category: 'paint' }, 'v1')])).toEqual([
      {
        kind: 'arm',
        campaignId: 'browse',
        profileId: 'ada',
        key: 'paint',
        messageId: 'v1',
        startAt: '2026-11-23T10:00:00.000Z',
        dueAt: '2026-11-24T10:00:00.000Z',
        trigger: { category: 'paint' },
      },
    ]);
    // Without the `per` field there is nothing to keep a timer for.
    expect(eventTriggers(catalog, 'ada', [track('Product Viewed', {})])).toEqual([]);
  });

  it('leaves out the campaigns whose audience does not admit the customer at the event time', () => {
    const catalog = catalogOf(thanks, bigThanks);
    const order = track('Order Completed', { currency: 'USD' });
    const asked: [string, string][] = [];
    const triggers = eventTriggers(catalog, 'ada', [order], (campaign, at) => {
      asked.push([campaign.id, at.toISOString()]);
      return campaign.id === 'big-thanks';
    });
    expect(triggers.map((trigger) => trigger.kind === 'send' && trigger.request.campaignId)).toEqual([
      'big-thanks',
    ]);
    expect(asked).toEqual([
      ['thanks', '2026-11-23T10:00:00.000Z'],
      ['big-thanks', '2026-11-23T10:00:00.000Z'],
    ]);
  });

  it('ignores disabled campaigns and events that are not track calls', () => {
    const catalog = catalogOf({ ...thanks, enabled: false });
    expect(eventTriggers(catalog, 'ada', [track('Order Completed', {})])).toEqual([]);
    const page: IngestEvent = { ...track('Order Completed', {}), type: 'page' };
    expect(eventTriggers(catalogOf(thanks), 'ada', [page])).toEqual([]);
  });
});

describe('lifecycleTriggers', () => {
  const vip = {
    id: 'vip',
    name: 'VIP',
    trigger: { kind: 'event', event: 'Customer Tier Changed', where: { to: 'gold' } },
    message,
  };
  const tierChanged = (to: string): LifecycleEvent => ({
    detailType: 'Customer Tier Changed',
    detail: {
      id: 'a'.repeat(64),
      customerId: 'ada',
      at: '2026-11-23T10:00:00.000Z',
      from: 'silver',
      to,
      revenue: { currency: 'USD', amount: '2100.00' },
    },
  });

  it('sends on the detail-type when the detail matches, under the lifecycle event id', () => {
    expect(lifecycleTriggers(catalogOf(vip), tierChanged('gold'))).toEqual([
      {
        campaignId: 'vip',
        customerId: 'ada',
        occurrence: 'a'.repeat(64),
        firedAt: '2026-11-23T10:00:00.000Z',
        trigger: tierChanged('gold').detail,
      },
    ]);
    expect(lifecycleTriggers(catalogOf(vip), tierChanged('silver'))).toEqual([]);
  });
});

describe('cancelledSince', () => {
  const state = { ...emptyState('ada'), lastEvents: { 'Order Completed': '2026-11-23T10:30:00.000Z' } };
  const since = (iso: string) => Date.parse(iso);

  it('is cancelled by a cancelling event after the latest start, not before it', () => {
    expect(cancelledSince(state, ['Order Completed'], since('2026-11-23T10:00:00.000Z'))).toBe(true);
    expect(cancelledSince(state, ['Order Completed'], since('2026-11-23T11:00:00.000Z'))).toBe(false);
    expect(cancelledSince(state, ['Order Completed'], since('2026-11-23T10:30:00.000Z'))).toBe(false);
    expect(cancelledSince(state, [], since('2026-11-23T10:00:00.000Z'))).toBe(false);
  });
});

describe('coalesceArms', () => {
  it('arms each timer once per batch, with every start and the latest due time', () => {
    const catalog = catalogOf(browse);
    const view = (category: string, id: string, minute: number) => ({
      ...track('Product Viewed', { category }, id),
      timestamp: `2026-11-23T10:0${minute}:00.000Z`,
    });
    const arms = eventTriggers(catalog, 'ada', [
      view('paint', 'v1', 5),
      view('paint', 'v2', 1),
      view('canvas', 'v3', 2),
    ]);
    expect(coalesceArms(arms.flatMap((arm) => (arm.kind === 'arm' ? [arm] : [])))).toEqual([
      expect.objectContaining({ key: 'paint', messageIds: ['v1', 'v2'], dueAt: '2026-11-24T10:05:00.000Z' }),
      expect.objectContaining({ key: 'canvas', messageIds: ['v3'], dueAt: '2026-11-24T10:02:00.000Z' }),
    ]);
  });
});
