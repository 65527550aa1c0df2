import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Campaign } from '../campaigns/campaign.ts';

/**
 * Personal promo codes: derived from the campaign and the customer with a secret, so they need no
 * storage, the same send always carries the same code, and a code can be checked (and traced to its
 * campaign for attribution) by recomputing it. Crockford's base32 leaves out I, L, O and U, so a
 * code read aloud or typed from paper survives.
 */

const crockford = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

export interface PromoShape {
  prefix: string;
  length: number;
}

/** `PREFIX-XXXXXXXX`: the prefix, a dash and `length` characters of the customer's code. */
export function promoCode(secret: string, promo: PromoShape, campaignId: string, customerId: string): string {
  return `${promo.prefix}-${codeBody(secret, promo.length, campaignId, customerId)}`;
}

/**
 * The campaign whose code this is for the customer, or undefined. Case, spaces and dashes do not
 * matter, and in the part after the prefix the look-alikes Crockford reads as digits (O as 0, I and
 * L as 1) are taken as those digits.
 */
export function verifyPromoCode(
  secret: string,
  campaigns: readonly Campaign[],
  code: string,
  customerId: string,
): { campaignId: string } | undefined {
  const typed = code.toUpperCase().replace(/[\s-]/g, '');
  for (const campaign of campaigns) {
    const promo = campaign.promo;
    if (promo === undefined || !typed.startsWith(promo.prefix)) continue;
    const body = readAsCrockford(typed.slice(promo.prefix.length));
    if (body.length !== promo.length) continue;
    const expected = Buffer.from(codeBody(secret, promo.length, campaign.id, customerId), 'utf8');
    if (timingSafeEqual(Buffer.from(body, 'utf8'), expected)) return { campaignId: campaign.id };
  }
  return undefined;
}

/** When a code issued at `issuedAt` stops being valid, as ISO 8601 UTC. */
export function promoExpiry(issuedAt: Date, validDays: number): string {
  return new Date(issuedAt.getTime() + validDays * 86_400_000).toISOString();
}

function codeBody(secret: string, length: number, campaignId: string, customerId: string): string {
  const digest = createHmac('sha256', secret).update(`${campaignId}\n${customerId}`).digest();
  return crockfordBase32(digest).slice(0, length);
}

/** Five bits a character, most significant first; the last character is padded with zero bits. */
function crockfordBase32(bytes: Uint8Array): string {
  let text = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = ((buffer << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      text += crockford[(buffer >> bits) & 31];
    }
  }
  if (bits > 0) text += crockford[(buffer << (5 - bits)) & 31];
  return text;
}

function readAsCrockford(text: string): string {
  return text.replace(/O/g, '0').replace(/[IL]/g, '1');
}
