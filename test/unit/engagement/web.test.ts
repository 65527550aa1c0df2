import { describe, expect, test } from 'vitest';
import { defaultEngagementSettings } from '#shared/engagement/settings.ts';
import { foldEvents } from '#shared/engagement/state.ts';
import { minutesAfterStart as at, identify, page, track } from './events.ts';

const settings = defaultEngagementSettings;

describe('web activity', () => {
  test('a visit ends after 30 minutes without a page or shop event', () => {
    const web = foldEvents(
      'u1',
      [
        page(at(0)),
        track('Product Viewed', at(29)),
        page(at(58)),
        page(at(88)),
        track('Product Added', at(89)),
      ],
      settings,
    ).web;
    expect(web.sessions).toBe(2);
  });

  test('exactly the timeout apart is a new session', () => {
    expect(foldEvents('u1', [page(at(0)), page(at(30))], settings).web.sessions).toBe(2);
    expect(foldEvents('u1', [page(at(0)), page(at(29.999))], settings).web.sessions).toBe(1);
  });

  test('the timeout comes from the settings', () => {
    const events = [page(at(0)), page(at(20))];
    expect(foldEvents('u1', events, { ...settings, sessionTimeoutMinutes: 10 }).web.sessions).toBe(2);
  });

  test('mail, identify and alias calls are not visits and keep no session alive', () => {
    const web = foldEvents(
      'u1',
      [
        page(at(0)),
        track('Email Opened', at(20)),
        identify(at(40), { name: 'Ada' }),
        track('Email Link Clicked', at(45)),
        page(at(50)),
        track('Order Refunded', at(100), { order_id: 'o1' }),
      ],
      settings,
    ).web;
    expect(web).toEqual({
      firstSeenAt: at(0),
      lastSeenAt: at(50),
      pageViews: 2,
      productViews: 0,
      sessions: 2,
    });
  });

  test('page views count page and screen calls, product views count Product Viewed', () => {
    const web = foldEvents(
      'u1',
      [
        page(at(0)),
        page(at(1), {}, { type: 'screen' }),
        track('Product Viewed', at(2)),
        track('Product Viewed', at(3)),
      ],
      settings,
    ).web;
    expect(web.pageViews).toBe(2);
    expect(web.productViews).toBe(2);
    expect(web.sessions).toBe(1);
  });

  test('times are kept in UTC with milliseconds, whatever offset the event has', () => {
    const web = foldEvents('u1', [page('2025-03-01T12:00:00+02:00')], settings).web;
    expect(web.firstSeenAt).toBe('2025-03-01T10:00:00.000Z');
  });
});
