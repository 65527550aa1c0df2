import { describe, expect, test } from 'vitest';
import { defaultEngagementSettings } from '#shared/engagement/settings.ts';
import { foldEvents } from '#shared/engagement/state.ts';
import { touchSourceOf } from '#shared/engagement/touch.ts';
import { minutesAfterStart as at, page, track } from './events.ts';

const settings = defaultEngagementSettings;
const url = 'https://shop.example/shoes';

function from(referrer: string) {
  return touchSourceOf(page(at(0), { page: { url, referrer } }));
}

describe('touch classification', () => {
  test('UTM campaign data wins over the referrer', () => {
    const touch = touchSourceOf(
      page(at(0), {
        campaign: { source: 'Newsletter', medium: 'Email', name: 'Spring Sale', term: 'x', content: 'y' },
        page: { url, referrer: 'https://www.google.com/' },
      }),
    );
    expect(touch).toEqual({ source: 'newsletter', medium: 'email', campaign: 'Spring Sale' });
  });

  test('UTM parameters of the page URL count when the client fills no campaign', () => {
    const touch = touchSourceOf(
      page(at(0), { page: { url: `${url}?utm_source=banner&utm_medium=display&utm_campaign=spring` } }),
    );
    expect(touch).toEqual({ source: 'banner', medium: 'display', campaign: 'spring' });
  });

  test.each([
    ['https://www.google.co.uk/search?q=shoes', 'google', 'organic'],
    ['https://www.bing.com/', 'bing', 'organic'],
    ['https://duckduckgo.com/', 'duckduckgo', 'organic'],
    ['https://search.yahoo.com/', 'yahoo', 'organic'],
    ['https://www.baidu.com/', 'baidu', 'organic'],
    ['https://yandex.ru/', 'yandex', 'organic'],
    ['https://www.ecosia.org/', 'ecosia', 'organic'],
    ['https://l.facebook.com/', 'facebook', 'social'],
    ['https://www.instagram.com/', 'instagram', 'social'],
    ['https://t.co/abc', 'twitter', 'social'],
    ['https://x.com/someone', 'twitter', 'social'],
    ['https://www.linkedin.com/', 'linkedin', 'social'],
    ['https://pinterest.com/', 'pinterest', 'social'],
    ['https://old.reddit.com/r/running', 'reddit', 'social'],
    ['https://m.youtube.com/', 'youtube', 'social'],
    ['https://www.tiktok.com/', 'tiktok', 'social'],
    ['https://www.runnersblog.example/best-shoes', 'runnersblog.example', 'referral'],
    ['https://notgoogle.com/', 'notgoogle.com', 'referral'],
    ['https://box.co/', 'box.co', 'referral'],
  ])('a referrer %s is %s / %s', (referrer, source, medium) => {
    expect(from(referrer)).toEqual({ source, medium, campaign: null });
  });

  test('a referrer on the same site is internal navigation: direct', () => {
    expect(from('https://www.shop.example/home')).toEqual({
      source: 'direct',
      medium: 'none',
      campaign: null,
    });
  });

  test('no referrer, or one that is not a web address, is direct', () => {
    expect(touchSourceOf(page(at(0)))).toEqual({ source: 'direct', medium: 'none', campaign: null });
    expect(from('not a url').source).toBe('direct');
  });

  test('the referrer may come from the page properties', () => {
    const touch = touchSourceOf(page(at(0), {}, { properties: { url, referrer: 'https://bing.com/' } }));
    expect(touch.source).toBe('bing');
  });
});

describe('first and last touch', () => {
  const google = { page: { url, referrer: 'https://google.com/' } };
  const blog = { page: { url, referrer: 'https://blog.example/' } };

  test('first touch is the first visit, direct included; a direct visit never overwrites the last touch', () => {
    const state = foldEvents(
      'u1',
      [page(at(0)), page(at(60), google), page(at(120)), page(at(180))],
      settings,
    );
    expect(state.firstTouch).toEqual({ source: 'direct', medium: 'none', campaign: null, at: at(0) });
    expect(state.lastTouch).toEqual({ source: 'google', medium: 'organic', campaign: null, at: at(60) });
  });

  test('the last touch follows the latest non-direct visit', () => {
    const state = foldEvents('u1', [page(at(0), google), page(at(60), blog), page(at(120))], settings);
    expect(state.firstTouch?.source).toBe('google');
    expect(state.lastTouch).toEqual({
      source: 'blog.example',
      medium: 'referral',
      campaign: null,
      at: at(60),
    });
  });

  test('the last touch is direct only while nothing else was seen', () => {
    const state = foldEvents('u1', [page(at(0)), page(at(60))], settings);
    expect(state.lastTouch).toEqual({ source: 'direct', medium: 'none', campaign: null, at: at(0) });
  });

  test('mail events are no touches', () => {
    const state = foldEvents('u1', [track('Email Opened', at(0)), page(at(60), google)], settings);
    expect(state.firstTouch?.source).toBe('google');
  });
});
