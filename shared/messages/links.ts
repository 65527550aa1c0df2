import { createHmac, timingSafeEqual } from 'node:crypto';
import type { SendingSettings } from '../campaigns/sending-settings.ts';

/**
 * The links a message carries: signed tokens for the tracking endpoints (the unsubscribe link must
 * work without a login, so the token itself proves who it is for), and the UTM tags that let a
 * visit from the message be attributed to its campaign.
 */

/** `base64url(JSON).base64url(HMAC-SHA256 of the first part)`: short enough for a URL path. */
export function signToken(secret: string, payload: Record<string, string>): string {
  const body = Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
  return `${body}.${signatureOf(secret, body)}`;
}

/** The payload of a token this secret signed, or undefined for anything else. */
export function verifyToken(secret: string, token: string): Record<string, string> | undefined {
  const parts = token.split('.');
  if (parts.length !== 2) return undefined;
  const [body = '', signature = ''] = parts;
  // Compared as text, not as decoded bytes: base64url decoding ignores stray characters and the
  // unused bits of the last one, so different texts could decode to the same signature.
  const expected = Buffer.from(signatureOf(secret, body), 'utf8');
  const given = Buffer.from(signature, 'utf8');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  try {
    const payload: unknown = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return undefined;
    const entries = Object.entries(payload);
    if (!entries.every(([, value]) => typeof value === 'string')) return undefined;
    return Object.fromEntries(entries) as Record<string, string>;
  } catch {
    return undefined;
  }
}

function signatureOf(secret: string, body: string): string {
  return createHmac('sha256', secret).update(body).digest('base64url');
}

export interface UnsubscribeLinks {
  /** Where the customer clicks, and where a mail client posts the RFC 8058 one-click request. */
  url: string;
  mailto: string;
  headers: { 'List-Unsubscribe': string; 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' };
}

/**
 * The unsubscribe link of one send, in the body and in the RFC 2369 / RFC 8058 headers that mail
 * clients show as an "unsubscribe" button. The token says who, from which campaign and which send.
 */
export function unsubscribeLinks(input: {
  secret: string;
  sending: Pick<SendingSettings, 'linkBaseUrl' | 'unsubscribeMailbox'>;
  campaignId: string;
  customerId: string;
  occurrence: string;
}): UnsubscribeLinks {
  const token = signToken(input.secret, {
    c: input.customerId,
    k: input.campaignId,
    o: input.occurrence,
  });
  const url = `${input.sending.linkBaseUrl.replace(/\/+$/, '')}/u/${token}`;
  const mailto = `mailto:${input.sending.unsubscribeMailbox}?subject=unsubscribe%20${token}`;
  return {
    url,
    mailto,
    headers: {
      'List-Unsubscribe': `<${url}>, <${mailto}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    },
  };
}

export interface Utm {
  source?: string | undefined;
  medium?: string | undefined;
  campaign?: string | undefined;
  content?: string | undefined;
}

/** A link a template may not use, with the reason and the fix. */
export class LinkNotAllowedError extends Error {
  override name = 'LinkNotAllowedError';
  constructor(
    readonly link: string,
    message: string,
  ) {
    super(message);
  }
}

const utmKeys = ['source', 'medium', 'campaign', 'content'] as const;

/**
 * The link with its UTM tags, for http(s) links to the shop's own hosts; mailto: and tel: links go
 * out as they are. A link to any other host is refused rather than sent untagged: a typo in a
 * domain, or a template pointing customers somewhere the shop does not own, should fail validation.
 * Tags already on the link win, and the rest of the link is kept as written.
 */
export function decorateLink(href: string, utm: Utm, allowedHosts: readonly string[]): string {
  const link = href.trim();
  let url: URL;
  try {
    url = new URL(link);
  } catch {
    throw new LinkNotAllowedError(
      href,
      `link "${href}" is not an absolute URL: expected one like "https://shop.example/page"`,
    );
  }
  if (url.protocol === 'mailto:' || url.protocol === 'tel:') return link;
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new LinkNotAllowedError(
      href,
      `link "${href}": ${url.protocol} links are not allowed in messages, only http(s), mailto: and tel:`,
    );
  }
  const host = url.hostname.toLowerCase();
  const allowed = allowedHosts.some((candidate) => {
    const allowedHost = candidate.toLowerCase();
    return host === allowedHost || host.endsWith(`.${allowedHost}`);
  });
  if (!allowed) {
    throw new LinkNotAllowedError(
      href,
      `link "${href}" points to ${host}, which is not an allowed link domain (${allowedHosts.join(', ') || 'none'}): add "${host}" to sending.linkDomains in rapport.config.yaml`,
    );
  }
  const added = utmKeys
    .filter((key) => utm[key] !== undefined && utm[key] !== '' && !url.searchParams.has(`utm_${key}`))
    .map((key) => `utm_${key}=${encodeURIComponent(utm[key] ?? '')}`);
  if (added.length === 0) return link;
  const hashAt = link.indexOf('#');
  const base = hashAt === -1 ? link : link.slice(0, hashAt);
  const hash = hashAt === -1 ? '' : link.slice(hashAt);
  const separator = !base.includes('?') ? '?' : /[?&]$/.test(base) ? '' : '&';
  return `${base}${separator}${added.join('&')}${hash}`;
}
