import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { sendingSettings } from '#shared/campaigns/sending-settings.ts';
import {
  decorateLink,
  LinkNotAllowedError,
  signToken,
  unsubscribeLinks,
  verifyToken,
} from '#shared/messages/links.ts';

const secret = 'test-secret';

/** A token for any body, signed with the right secret, so that only the payload check can refuse it. */
function signedBody(json: string): string {
  const body = Buffer.from(json).toString('base64url');
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

describe('signed tokens', () => {
  test('a token gives back its payload', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.string()), (payload) => {
        expect(verifyToken(secret, signToken(secret, payload))).toEqual(payload);
      }),
    );
  });

  test('the token is base64url JSON, a dot, and a base64url HMAC-SHA256 of the first part', () => {
    const token = signToken(secret, { c: 'u1' });
    expect(token).toBe(signedBody('{"c":"u1"}'));
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
  });

  test('another secret does not verify', () => {
    expect(verifyToken('other-secret', signToken(secret, { c: 'u1' }))).toBeUndefined();
  });

  test('a payload swapped under a signature does not verify', () => {
    const [, signature] = signToken(secret, { c: 'u1' }).split('.');
    const forged = Buffer.from(JSON.stringify({ c: 'u2' })).toString('base64url');
    expect(verifyToken(secret, `${forged}.${signature}`)).toBeUndefined();
  });

  test('any changed, dropped or added character is refused', () => {
    const token = signToken(secret, { c: 'u1', k: 'cart-recovery', o: '2025-03-01' });
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=';
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: token.length - 1 }),
        fc.constantFrom(...alphabet),
        fc.constantFrom('replace', 'drop', 'insert'),
        (at, character, edit) => {
          const edited =
            edit === 'replace'
              ? `${token.slice(0, at)}${character}${token.slice(at + 1)}`
              : edit === 'drop'
                ? `${token.slice(0, at)}${token.slice(at + 1)}`
                : `${token.slice(0, at)}${character}${token.slice(at)}`;
          fc.pre(edited !== token);
          expect(verifyToken(secret, edited)).toBeUndefined();
        },
      ),
      { numRuns: 500 },
    );
  });

  test('truncated and malformed tokens are refused', () => {
    const token = signToken(secret, { c: 'u1' });
    expect(verifyToken(secret, token)).toEqual({ c: 'u1' });
    expect(verifyToken(secret, token.slice(0, -1))).toBeUndefined();
    expect(verifyToken(secret, token.slice(0, token.indexOf('.')))).toBeUndefined();
    expect(verifyToken(secret, token.slice(0, token.indexOf('.') + 1))).toBeUndefined();
    expect(verifyToken(secret, `${token}.x`)).toBeUndefined();
    expect(verifyToken(secret, '')).toBeUndefined();
    expect(verifyToken(secret, '.')).toBeUndefined();
  });

  test('a signed payload that is not an object of strings is refused', () => {
    expect(verifyToken(secret, signedBody('{"c":"u1"}'))).toEqual({ c: 'u1' });
    expect(verifyToken(secret, signedBody('{"c":1}'))).toBeUndefined();
    expect(verifyToken(secret, signedBody('["c"]'))).toBeUndefined();
    expect(verifyToken(secret, signedBody('null'))).toBeUndefined();
    expect(verifyToken(secret, signedBody('not json'))).toBeUndefined();
  });
});

describe('unsubscribe links', () => {
  const sending = sendingSettings.parse({
    from: 'Shop <hello@shop.example>',
    linkBaseUrl: 'https://api.shop.example/',
    unsubscribeMailbox: 'unsubscribe@shop.example',
  });
  const links = unsubscribeLinks({
    secret,
    sending,
    campaignId: 'cart-recovery',
    customerId: 'u1',
    occurrence: '2025-03-01T09:00:00.000Z',
  });
  const token = signToken(secret, { c: 'u1', k: 'cart-recovery', o: '2025-03-01T09:00:00.000Z' });

  test('the link and the mailto carry a token naming customer, campaign and occurrence', () => {
    expect(links.url).toBe(`https://api.shop.example/u/${token}`);
    expect(links.mailto).toBe(`mailto:unsubscribe@shop.example?subject=unsubscribe%20${token}`);
    expect(verifyToken(secret, token)).toEqual({
      c: 'u1',
      k: 'cart-recovery',
      o: '2025-03-01T09:00:00.000Z',
    });
  });

  test('the headers are those of RFC 2369 and RFC 8058', () => {
    expect(links.headers).toEqual({
      'List-Unsubscribe': `<https://api.shop.example/u/${token}>, <mailto:unsubscribe@shop.example?subject=unsubscribe%20${token}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    });
  });
});

describe('decorateLink', () => {
  const utm = { source: 'rapport', medium: 'email', campaign: 'spring sale', content: 'hero' };
  const hosts = ['shop.example'];

  test('a link to an allowed host gets the UTM tags, encoded', () => {
    expect(decorateLink('https://shop.example/shoes', utm, hosts)).toBe(
      'https://shop.example/shoes?utm_source=rapport&utm_medium=email&utm_campaign=spring%20sale&utm_content=hero',
    );
  });

  test('a subdomain of an allowed host is allowed, the host is compared without case', () => {
    expect(decorateLink('http://Blog.Shop.example/post?id=1#top', { source: 'rapport' }, hosts)).toBe(
      'http://Blog.Shop.example/post?id=1&utm_source=rapport#top',
    );
  });

  test('tags already on the link are kept, the rest of the link as written', () => {
    expect(
      decorateLink(
        'https://shop.example/p?utm_source=banner&a=%7Ex+y',
        { source: 'rapport', medium: 'email' },
        hosts,
      ),
    ).toBe('https://shop.example/p?utm_source=banner&a=%7Ex+y&utm_medium=email');
  });

  test('tags that are not set are left out', () => {
    expect(decorateLink('https://shop.example', {}, hosts)).toBe('https://shop.example');
    expect(decorateLink('https://shop.example?', { medium: 'email' }, hosts)).toBe(
      'https://shop.example?utm_medium=email',
    );
  });

  test('a link to another host is refused, and the message says how to allow it', () => {
    for (const link of [
      'https://evil.example/x',
      'https://notshop.example/',
      'https://shop.example.evil.com/',
    ]) {
      expect(() => decorateLink(link, utm, hosts)).toThrow(LinkNotAllowedError);
    }
    expect(() => decorateLink('https://evil.example/x', utm, hosts)).toThrow(
      'link "https://evil.example/x" points to evil.example, which is not an allowed link domain (shop.example): add "evil.example" to sending.linkDomains in rapport.config.yaml',
    );
  });

  test('mailto: and tel: links go out as they are', () => {
    expect(decorateLink('mailto:help@elsewhere.example?subject=hi', utm, hosts)).toBe(
      'mailto:help@elsewhere.example?subject=hi',
    );
    expect(decorateLink('tel:+15551234567', utm, hosts)).toBe('tel:+15551234567');
  });

  test('javascript:, other schemes and relative links are refused', () => {
    for (const link of [
      'javascript:alert(1)',
      ' JavaScript:alert(1)',
      'data:text/html,hi',
      'ftp://shop.example/f',
      '/shoes',
    ]) {
      expect(() => decorateLink(link, utm, hosts)).toThrow(LinkNotAllowedError);
    }
    expect(() => decorateLink('javascript:alert(1)', utm, hosts)).toThrow(
      'javascript: links are not allowed',
    );
  });
});
