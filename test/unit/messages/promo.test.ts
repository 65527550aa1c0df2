import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { type Campaign, campaign } from '#shared/campaigns/campaign.ts';
import { promoCode, promoExpiry, verifyPromoCode } from '#shared/messages/promo.ts';

const secret = 'promo-secret';

function campaignWith(id: string, promo: { prefix: string; length?: number } | undefined): Campaign {
  return campaign.parse({
    id,
    name: id,
    trigger: { kind: 'event', event: 'Order Completed' },
    message: { subject: 'Thanks', template: 'thanks' },
    ...(promo && { promo }),
  });
}

const vip = campaignWith('vip', { prefix: 'VIP', length: 8 });
const vip2 = campaignWith('vip-long', { prefix: 'VIP2', length: 12 });
const plain = campaignWith('newsletter', undefined);
const campaigns = [plain, vip, vip2];
const customerId = fc.string({ minLength: 1, maxLength: 40 });

describe('promo codes', () => {
  test('a code is the prefix, a dash and `length` characters of Crockford base32', () => {
    fc.assert(
      fc.property(customerId, fc.integer({ min: 6, max: 16 }), (customer, length) => {
        const code = promoCode(secret, { prefix: 'SALE', length }, 'spring', customer);
        expect(code).toMatch(new RegExp(`^SALE-[0-9A-HJKMNP-TV-Z]{${length}}$`));
      }),
    );
  });

  test('the same campaign and customer always get the same code; another customer another', () => {
    const promo = { prefix: 'VIP', length: 8 };
    expect(promoCode(secret, promo, 'vip', 'u1')).toBe(promoCode(secret, promo, 'vip', 'u1'));
    expect(promoCode(secret, promo, 'vip', 'u1')).not.toBe(promoCode(secret, promo, 'vip', 'u2'));
    expect(promoCode(secret, promo, 'vip', 'u1')).not.toBe(promoCode(secret, promo, 'other', 'u1'));
    expect(promoCode(secret, promo, 'vip', 'u1')).not.toBe(promoCode('other-secret', promo, 'vip', 'u1'));
  });

  test('codes use all 32 characters of the Crockford alphabet', () => {
    const seen = new Set<string>();
    for (let index = 0; index < 200; index += 1) {
      for (const character of promoCode(secret, { prefix: 'VIP', length: 16 }, 'vip', `u${index}`).slice(4)) {
        seen.add(character);
      }
    }
    expect([...seen].sort().join('')).toBe('0123456789ABCDEFGHJKMNPQRSTVWXYZ');
  });

  test('a longer code starts with the shorter one', () => {
    const short = promoCode(secret, { prefix: 'VIP', length: 6 }, 'vip', 'u1');
    const long = promoCode(secret, { prefix: 'VIP', length: 16 }, 'vip', 'u1');
    expect(long.startsWith(short)).toBe(true);
  });

  test("any customer's code leads back to its campaign", () => {
    fc.assert(
      fc.property(customerId, fc.constantFrom(vip, vip2), (customer, issuer) => {
        const promo = issuer.promo;
        if (promo === undefined) throw new Error('the campaign has a promo');
        const code = promoCode(secret, promo, issuer.id, customer);
        expect(verifyPromoCode(secret, campaigns, code, customer)).toEqual({ campaignId: issuer.id });
      }),
    );
  });

  test("another customer's code, or a code with a changed character, does not verify", () => {
    fc.assert(
      fc.property(customerId, customerId, (customer, other) => {
        fc.pre(customer !== other);
        const code = promoCode(secret, { prefix: 'VIP', length: 8 }, 'vip', customer);
        // 8 characters of 5 bits: two customers share a code once in 2^40.
        fc.pre(code !== promoCode(secret, { prefix: 'VIP', length: 8 }, 'vip', other));
        expect(verifyPromoCode(secret, campaigns, code, other)).toBeUndefined();
      }),
    );
    const code = promoCode(secret, { prefix: 'VIP', length: 8 }, 'vip', 'u1');
    const last = code.at(-1) === '0' ? '1' : '0';
    expect(verifyPromoCode(secret, campaigns, `${code.slice(0, -1)}${last}`, 'u1')).toBeUndefined();
    expect(verifyPromoCode('other-secret', campaigns, code, 'u1')).toBeUndefined();
    expect(verifyPromoCode(secret, campaigns, code.slice(0, -1), 'u1')).toBeUndefined();
    expect(verifyPromoCode(secret, [plain], code, 'u1')).toBeUndefined();
  });

  test('case, spaces, a missing dash and Crockford look-alikes do not matter', () => {
    // A customer whose code has a 0 or a 1, to be typed as O, I or L.
    const customer = ['u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7', 'u8'].find((id) =>
      /[01]/.test(promoCode(secret, { prefix: 'VIP', length: 8 }, 'vip', id).slice(4)),
    );
    if (customer === undefined) throw new Error('expected a code with a 0 or a 1 among eight customers');
    const code = promoCode(secret, { prefix: 'VIP', length: 8 }, 'vip', customer);
    const body = code.slice('VIP-'.length);
    const lookalikes = body.replace(/0/g, 'o').replace(/1/g, 'l');
    expect(lookalikes).not.toBe(body);
    for (const typed of [
      code.toLowerCase(),
      `VIP${body}`,
      ` vip ${body.toLowerCase()} `,
      `VIP-${lookalikes}`,
    ]) {
      expect(verifyPromoCode(secret, campaigns, typed, customer)).toEqual({ campaignId: 'vip' });
    }
  });

  test('a code expires validDays after it was issued', () => {
    expect(promoExpiry(new Date('2025-03-01T09:30:00.000Z'), 14)).toBe('2025-03-15T09:30:00.000Z');
  });
});
