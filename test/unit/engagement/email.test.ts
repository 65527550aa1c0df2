import { describe, expect, test } from 'vitest';
import { defaultEngagementSettings } from '#shared/engagement/settings.ts';
import { foldEvents } from '#shared/engagement/state.ts';
import { minutesAfterStart as at, identify, page, track } from './events.ts';

const settings = defaultEngagementSettings;

function emailOf(events: Parameters<typeof foldEvents>[1]) {
  return foldEvents('u1', events, settings).email;
}

describe('email engagement', () => {
  test('counts deliveries, opens and clicks; a click resets the streak of opens', () => {
    const email = emailOf([
      track('Email Delivered', at(0)),
      track('Email Opened', at(1)),
      track('Email Opened', at(2)),
      track('Email Link Clicked', at(3)),
      track('Email Opened', at(4)),
    ]);
    expect(email).toEqual({
      subscribed: false,
      delivered: 1,
      opened: 3,
      clicked: 1,
      lastOpenedAt: at(4),
      lastClickedAt: at(3),
      openedWithoutClickStreak: 1,
      bounced: 0,
      complained: 0,
      suppressed: false,
    });
  });

  test('a bounce or a spam complaint suppresses', () => {
    expect(emailOf([track('Email Bounced', at(0))])).toMatchObject({ bounced: 1, suppressed: true });
    expect(emailOf([track('Email Marked as Spam', at(0))])).toMatchObject({
      complained: 1,
      suppressed: true,
    });
    expect(emailOf([track('Email Bounced', at(0)), identify(at(1), { subscribed: true })])).toMatchObject({
      subscribed: true,
      suppressed: true,
    });
  });

  test('consent follows identify traits and unsubscribes, latest first', () => {
    expect(emailOf([identify(at(0), { subscribed: true })]).subscribed).toBe(true);
    expect(emailOf([identify(at(0), { subscribed: true }), track('Unsubscribed', at(1))]).subscribed).toBe(
      false,
    );
    expect(emailOf([track('Unsubscribed', at(0)), identify(at(1), { subscribed: true })]).subscribed).toBe(
      true,
    );
    expect(emailOf([identify(at(0), { subscribed: 'yes' })]).subscribed).toBe(false);
  });

  test('traits echoed in the context of later calls do not resubscribe', () => {
    const email = emailOf([
      identify(at(0), { subscribed: true }),
      track('Unsubscribed', at(1)),
      page(at(2), { traits: { subscribed: true } }),
    ]);
    expect(email.subscribed).toBe(false);
  });
});
