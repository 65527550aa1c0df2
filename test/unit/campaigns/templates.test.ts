import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Liquid } from 'liquidjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Campaign } from '#shared/campaigns/campaign.ts';
import { parseCatalog, templateFiles } from '#shared/campaigns/catalog.ts';
import { readCatalogSource } from '#shared/campaigns/catalog-files.ts';
import { defaultEngagementSettings } from '#shared/engagement/settings.ts';
import type { CustomerView } from '#shared/engagement/view.ts';
import {
  type MessageContext,
  type RenderedMessage,
  renderMessage,
  sampleContext,
} from '#shared/messages/render.ts';

/**
 * Renders every example campaign with the real renderer and a sample customer, to check what the
 * copy promises: every variable it refers to exists, every shop link goes through `utm`, and every
 * mail carries the unsubscribe link.
 */
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const catalog = parseCatalog(readCatalogSource(repoRoot));
const unsubscribe = 'http://127.0.0.1:3000/u/opaque-token';

const customer: CustomerView = {
  customerId: 'u-ada',
  anonymousIds: ['a-1'],
  traits: {
    firstName: 'Ada',
    email: 'ada@example.com',
    birthday: '1990-05-17',
    createdAt: '2024-05-17T10:00:00.000Z',
  },
  lifecycle: 'repeat',
  tier: 'gold',
  lastActivityAt: '2026-11-01T12:00:00.000Z',
  web: {
    firstSeenAt: '2024-05-17T09:55:00.000Z',
    lastSeenAt: '2026-11-01T12:00:00.000Z',
    pageViews: 40,
    productViews: 25,
    sessions: 9,
  },
  interests: [{ kind: 'category', id: 'paint', name: 'Paint', score: 4.5 }],
  cart: {
    items: [
      { productId: 'p-oils', name: 'Oil paint set, 12 colours', price: '34.90', quantity: 1 },
      { productId: 'p-brush', name: 'Filbert brush No. 8', price: '7.50', quantity: 2 },
      { productId: 'p-mystery', name: null, price: null, quantity: 1 },
    ],
    value: '49.90',
    currency: 'USD',
    updatedAt: '2026-11-01T12:00:00.000Z',
    status: 'open',
  },
  orders: {
    count: 3,
    revenue: { USD: '2150.00' },
    firstOrderAt: '2024-06-01T10:00:00.000Z',
    lastOrderAt: '2026-09-17T10:00:00.000Z',
    productIds: ['p-oils'],
  },
  email: {
    subscribed: true,
    delivered: 12,
    opened: 9,
    clicked: 2,
    lastOpenedAt: '2026-10-26T09:30:00.000Z',
    lastClickedAt: '2026-09-01T09:30:00.000Z',
    openedWithoutClickStreak: 5,
    bounced: 0,
    complained: 0,
    suppressed: false,
  },
  firstTouch: null,
  lastTouch: null,
};

/** What each trigger kind hands the template as `trigger`: the event's properties, or {} for a schedule. */
const triggers: Record<string, Record<string, unknown>> = {
  'Order Completed': {
    order_id: 'o-1001',
    total: 49.9,
    currency: 'USD',
    products: [{ product_id: 'p-oils', name: 'Oil paint set, 12 colours', price: 34.9, quantity: 1 }],
  },
  'Customer Tier Changed': { from: 'silver', to: 'gold', revenue: { currency: 'USD', amount: '2150.00' } },
  'Newsletter Ignored': { streak: 5 },
  'Spend Threshold Crossed': { threshold: '1000', currency: 'USD', revenue: '1049.90' },
  'Product Added': { product_id: 'p-oils', name: 'Oil paint set, 12 colours', category: 'paint' },
  'Product Viewed': { product_id: 'p-canvas', name: 'Stretched canvas 40×50', category: 'canvas' },
};

function triggerOf(found: Campaign): Record<string, unknown> {
  const { trigger } = found;
  const event =
    trigger.kind === 'event' ? trigger.event : trigger.kind === 'delay-unless' ? trigger.on[0] : '';
  if (event === undefined || event === '') return {};
  const properties = triggers[event];
  if (!properties) throw new Error(`no sample properties for ${event}`);
  return properties;
}

function contextOf(found: Campaign, traits: CustomerView['traits'] = customer.traits): MessageContext {
  return {
    campaign: { id: found.id, name: found.name },
    customer: { ...customer, traits },
    recommendations: {
      products: [
        { id: 'p-canvas', name: 'Stretched canvas 40×50' },
        { id: 'p-easel', name: 'Beech table easel' },
      ],
      categories: [{ id: 'brushes', name: 'Brushes' }],
    },
    ...(found.promo && { promo: { code: promoCodeOf(found), expiresAt: '2026-11-16T12:00:00.000Z' } }),
    links: { unsubscribe },
    trigger: triggerOf(found),
  };
}

function promoCodeOf(found: Campaign): string {
  return `${found.promo?.prefix ?? ''}-7KQ2MX4D`;
}

function campaignNamed(id: string): Campaign {
  const found = catalog.campaigns.find((candidate) => candidate.id === id);
  if (!found) throw new Error(`no campaign ${id}`);
  return found;
}

/**
 * What templates can refer to: the renderer's variables, and in `customer` the fields of the
 * customer view. `free` marks data whose fields are the customer's or the event's own.
 */
const free = Symbol('free');
type Shape = typeof free | { [key: string]: Shape } | Shape[];

function shapeOf(value: unknown): Shape {
  if (Array.isArray(value)) return [value.length > 0 ? shapeOf(value[0]) : free];
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, shapeOf(inner)]));
  }
  return free;
}

const variables: Shape = {
  campaign: { id: free, name: free },
  customer: shapeOf(customer),
  traits: free,
  recommendations: { products: [{ id: free, name: free }], categories: [{ id: free, name: free }] },
  promo: { code: free, expiresAt: free },
  links: { unsubscribe: free },
  trigger: free,
};

/**
 * The part of a variable path that names nothing the renderer provides, or undefined. A part
 * Liquid gives as a nested path (`list[index]`) is looked up at run time, so it passes as an index.
 */
function unknownPart(path: readonly unknown[]): string | undefined {
  let shape: Shape = variables;
  for (const [index, part] of path.entries()) {
    if (shape === free) return undefined;
    const dynamic = Array.isArray(part);
    if (Array.isArray(shape)) {
      if (part === 'size') return undefined;
      shape = shape[0] ?? free;
      if (dynamic || typeof part === 'number' || part === 'first' || part === 'last') continue;
      return path.slice(0, index + 1).join('.');
    }
    if (dynamic) return undefined;
    const next: Shape | undefined = shape[String(part)];
    if (next === undefined) return path.slice(0, index + 1).join('.');
    shape = next;
  }
  return undefined;
}

/** The links in a rendered mail, with HTML's &amp; read back. */
function linksIn(text: string): string[] {
  return [...text.matchAll(/https?:\/\/[^\s"'<>]+/g)].map((match) => match[0].replaceAll('&amp;', '&'));
}

describe.each(catalog.campaigns.map((found) => [found.id, found] as const))('the %s campaign', (_, found) => {
  const files = templateFiles(found.message.template);
  let message: RenderedMessage;

  beforeAll(async () => {
    message = await renderMessage(catalog, found, contextOf(found));
  });

  it('refers only to variables the renderer provides', () => {
    const liquid = new Liquid({ templates: catalog.templates });
    for (const source of [
      found.message.subject,
      catalog.templates[files.html],
      catalog.templates[files.text],
    ]) {
      const paths = liquid.globalVariableSegmentsSync(liquid.parse(source ?? ''));
      expect(paths.length).toBeGreaterThan(0);
      expect(paths.flatMap((path) => unknownPart(path) ?? [])).toEqual([]);
    }
  });

  it("renders for the CLI's sample customer, leaving no gap where a value is missing", async () => {
    const sample = await renderMessage(
      catalog,
      found,
      sampleContext(found, catalog, defaultEngagementSettings, new Date('2026-11-02T09:00:00.000Z')),
    );
    for (const rendered of [sample.subject, sample.text]) {
      expect(rendered).not.toMatch(/\S {2,}\S| [.,!?:]/);
    }
  });

  it('has a subject of at most 80 characters that reads well without a first name too', async () => {
    expect(message.subject.length).toBeGreaterThan(10);
    expect(message.subject.length).toBeLessThanOrEqual(80);
    const anonymous = await renderMessage(catalog, found, contextOf(found, {}));
    expect(anonymous.subject).toMatch(/^[A-Z]/);
    expect(anonymous.subject).not.toMatch(/^,|, ,|,\s*[!?:]/);
    expect(anonymous.text).not.toMatch(/^(Hi|Dear) ,/m);
  });

  it('uses the shared layout, whose footer carries the unsubscribe link', () => {
    expect(catalog.templates[files.html]?.trimStart()).toMatch(/^\{% layout 'layout\.html\.liquid' %\}/);
    expect(message.html).toContain(`<a href="${unsubscribe}"`);
    expect(message.html.trimEnd().endsWith('</html>')).toBe(true);
  });

  it('ends the text version with the unsubscribe link', () => {
    expect(message.text.trimEnd().endsWith(unsubscribe)).toBe(true);
  });

  it('sends every other link to the shop, tagged with the campaign', () => {
    for (const rendered of [message.html, message.text]) {
      const links = linksIn(rendered).filter((link) => link !== unsubscribe);
      expect(links.length).toBeGreaterThan(0);
      for (const link of links) {
        const url = new URL(link);
        expect(url.origin).toBe('https://shop.example');
        expect(url.searchParams.get('utm_source')).toBe('rapport');
        expect(url.searchParams.get('utm_medium')).toBe('email');
        expect(url.searchParams.get('utm_campaign')).toBe(found.id);
      }
    }
  });

  it('shows the personal promo code exactly when the campaign has one', () => {
    if (found.promo) {
      expect(message.html).toContain(promoCodeOf(found));
      expect(message.text).toContain(promoCodeOf(found));
    } else {
      expect(catalog.templates[files.html]).not.toContain('promo.');
      expect(catalog.templates[files.text]).not.toContain('promo.');
    }
  });
});

describe('the example copy', () => {
  const render = (id: string) => {
    const found = campaignNamed(id);
    return renderMessage(catalog, found, contextOf(found));
  };

  it('lists the cart with names and prices and links to the cart', async () => {
    const { html, text } = await render('cart-recovery');
    expect(text).toContain('- 1 × Oil paint set, 12 colours, $34.90');
    expect(text).toContain('- 2 × Filbert brush No. 8, $7.50');
    expect(text).toContain('- 1 × p-mystery\n');
    expect(text).toContain('Total: $49.90');
    expect(html).toContain(
      'href="https://shop.example/cart?utm_source=rapport&amp;utm_medium=email&amp;utm_campaign=cart-recovery"',
    );
  });

  it('writes the browse follow-up about the category that was browsed', async () => {
    const { subject, text } = await render('browse-follow-up');
    expect(subject).toBe('More canvas ideas for you');
    expect(text).toContain('looking at canvas');
    expect(text).toContain('See all canvas: https://shop.example/categories/canvas?utm_source=rapport');
    expect(text).toContain('- Stretched canvas 40×50: https://shop.example/products/p-canvas?');
  });

  it('thanks for the spend threshold in its currency', async () => {
    expect((await render('spend-thank-you')).text).toContain('have now passed $1,000.00.');
  });

  it('dates the promo and the anniversary', async () => {
    expect((await render('birthday')).text).toContain('valid until November 16, 2026');
    expect((await render('signup-anniversary')).text).toContain('On this day in 2024 you joined');
  });

  it('lists what was ordered in the thank-you', async () => {
    const { text } = await render('order-thank-you');
    expect(text).toContain('Thank you for your order o-1001!');
    expect(text).toContain('- 1 × Oil paint set, 12 colours');
  });

  it('escapes what customers typed in the HTML version', async () => {
    const found = campaignNamed('order-thank-you');
    const { html, text } = await renderMessage(catalog, found, contextOf(found, { firstName: '<b>Ada</b>' }));
    expect(html).toContain('Hi &lt;b&gt;Ada&lt;/b&gt;,');
    expect(html).not.toContain('<b>Ada</b>');
    expect(text).toContain('Hi <b>Ada</b>,');
  });
});
