import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CatalogError, parseCatalog } from '#shared/campaigns/catalog.ts';
import { readCatalogSource } from '#shared/campaigns/catalog-files.ts';
import { parseEngagementSettings } from '#shared/engagement/settings.ts';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

function engagementOf(root: string) {
  const config = parse(readFileSync(join(root, 'rapport.config.yaml'), 'utf8')) as { engagement?: unknown };
  return parseEngagementSettings(config.engagement, 'rapport.config.yaml');
}

describe("the repository's catalog", () => {
  const catalog = parseCatalog(readCatalogSource(repoRoot), engagementOf(repoRoot));
  const byId = new Map(catalog.campaigns.map((found) => [found.id, found]));

  it('has every campaign in campaigns/, each named by its file', () => {
    const files = readdirSync(join(repoRoot, 'campaigns'))
      .filter((file) => file.endsWith('.yaml'))
      .map((file) => file.replace(/\.yaml$/, ''));
    expect([...byId.keys()].sort()).toEqual(files.sort());
    expect([...byId.keys()]).toEqual(
      expect.arrayContaining([
        'weekly-newsletter',
        'we-miss-you',
        'order-thank-you',
        'vip-welcome',
        'newsletter-reengagement',
        'spend-thank-you',
        'cart-recovery',
        'browse-follow-up',
        'birthday',
        'signup-anniversary',
        'replenish-reminder',
      ]),
    );
  });

  it('represents every trigger kind', () => {
    const kinds = new Set(catalog.campaigns.map((found) => found.trigger.kind));
    expect([...kinds].sort()).toEqual(['date', 'delay-unless', 'event', 'schedule']);
  });

  it('resolves segments into the conditions they stand for', () => {
    expect(byId.get('we-miss-you')?.audience).toEqual({
      kind: 'all',
      conditions: [
        { kind: 'count', field: 'orders.count', compare: { gte: 1 } },
        {
          kind: 'lastSeen',
          olderThan: { text: '60d', millis: 60 * 86_400_000 },
          newerThan: { text: '67d', millis: 67 * 86_400_000 },
        },
      ],
    });
    expect(byId.get('weekly-newsletter')?.audience).toEqual({ kind: 'subscribed', value: true });
    const audiences = JSON.stringify(catalog.campaigns.map((found) => found.audience ?? null));
    expect(audiences).not.toContain('"segment"');
  });

  it('reads the triggers the way the campaigns describe them', () => {
    expect(byId.get('cart-recovery')?.trigger).toEqual({
      kind: 'delay-unless',
      on: ['Product Added', 'Checkout Started'],
      times: 1,
      after: { text: '1h', millis: 3_600_000 },
      unless: ['Order Completed'],
    });
    expect(byId.get('browse-follow-up')?.trigger).toMatchObject({
      on: ['Product Viewed'],
      times: 2,
      per: 'properties.category',
      unless: ['Product Added'],
    });
    expect(byId.get('vip-welcome')?.trigger).toEqual({
      kind: 'event',
      event: 'Customer Tier Changed',
      where: { to: 'gold' },
    });
    expect(byId.get('replenish-reminder')?.trigger).toEqual({
      kind: 'date',
      field: 'orders.lastOrderAt',
      offset: { text: '45d', millis: 45 * 86_400_000 },
      repeat: 'once',
      at: '09:00',
    });
    expect(byId.get('cart-recovery')?.holdout).toBe(10);
  });

  it('takes the sending section of rapport.config.yaml', () => {
    expect(catalog.sending).toMatchObject({
      from: 'rapport demo shop <shop@shop.example>',
      linkBaseUrl: 'http://127.0.0.1:3000',
      frequencyCap: { max: 3, per: { text: '7d', millis: 7 * 86_400_000 } },
      quietHours: { start: '21:00', end: '08:00', defaultTimezone: 'UTC' },
      linkDomains: ['shop.example'],
      maxSendRate: 14,
    });
  });

  it('gives every promo its own prefix and every message both templates', () => {
    const prefixes = catalog.campaigns.flatMap((found) => (found.promo ? [found.promo.prefix] : []));
    expect(new Set(prefixes).size).toBe(prefixes.length);
    for (const found of catalog.campaigns) {
      expect(catalog.templates[`${found.message.template}.html.liquid`]).toBeDefined();
      expect(catalog.templates[`${found.message.template}.txt.liquid`]).toBeDefined();
    }
  });
});

const sendingYaml = `
engagement:
  tiers:
    - { name: bronze, minRevenue: "0" }
    - { name: gold, minRevenue: "2000" }
sending:
  from: "Shop <shop@shop.example>"
  linkBaseUrl: "http://127.0.0.1:3000"
  unsubscribeMailbox: unsubscribe@shop.example
  linkDomains: [shop.example]
`;

const cartRecoveryYaml = `
id: cart-recovery
name: Cart recovery
trigger: { kind: delay-unless, on: Product Added, after: 1h, unless: [Order Completed] }
audience: { segment: carts }
message: { subject: "Your cart", template: cart-recovery }
promo: { prefix: CART }
`;

const template = 'Hi {{ traits.firstName }}: {{ links.unsubscribe }}';

/** A small catalog that parses; each case below breaks one thing in it. */
const validFiles: Record<string, string> = {
  'rapport.config.yaml': sendingYaml,
  'segments/carts.yaml': 'description: open carts\naudience: { cart: { status: open } }\n',
  'campaigns/cart-recovery.yaml': cartRecoveryYaml,
  'campaigns/templates/cart-recovery.html.liquid': template,
  'campaigns/templates/cart-recovery.txt.liquid': template,
};

const roots: string[] = [];

afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

/** Writes the files into a fresh directory; a file given as null is left out. */
function repository(files: Record<string, string | null>): string {
  const root = mkdtempSync(join(tmpdir(), 'rapport-catalog-'));
  roots.push(root);
  for (const [path, content] of Object.entries(files)) {
    if (content === null) continue;
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

function load(files: Record<string, string | null>) {
  const root = repository(files);
  return parseCatalog(readCatalogSource(root), engagementOf(root));
}

function problemsOf(files: Record<string, string | null>): string[] {
  try {
    load(files);
  } catch (error) {
    if (error instanceof CatalogError) return error.problems;
    throw error;
  }
  throw new Error('expected the catalog to be refused');
}

function withCampaign(yaml: string, extra: Record<string, string | null> = {}) {
  return { ...validFiles, 'campaigns/cart-recovery.yaml': yaml, ...extra };
}

describe('a catalog with a mistake', () => {
  it('parses when nothing is wrong, so each case below fails for its own reason', () => {
    const catalog = load(validFiles);
    expect(catalog.campaigns.map((found) => found.id)).toEqual(['cart-recovery']);
    expect(catalog.campaigns[0]?.audience).toEqual({ kind: 'cart', status: ['open'] });
  });

  it.each([
    [
      'a duration that is not one',
      withCampaign(cartRecoveryYaml.replace('after: 1h', 'after: soon')),
      'campaigns/cart-recovery.yaml: trigger.after: expected a duration like "1h"',
    ],
    [
      'an unknown trigger kind',
      withCampaign(cartRecoveryYaml.replace('kind: delay-unless', 'kind: whenever')),
      'campaigns/cart-recovery.yaml: trigger.kind: expected a trigger with kind: schedule, event, delay-unless or date',
    ],
    [
      'a cron expression with an hour out of range',
      withCampaign(
        cartRecoveryYaml.replace(
          /trigger: .*/,
          'trigger: { kind: schedule, expression: "cron(0 25 ? * MON *)" }',
        ),
      ),
      'campaigns/cart-recovery.yaml: trigger.expression: "cron(0 25 ? * MON *)": Invalid: number 25 is not between 0 and 23',
    ],
    [
      'a cron expression with both day fields set',
      withCampaign(
        cartRecoveryYaml.replace(
          /trigger: .*/,
          'trigger: { kind: schedule, expression: "cron(0 9 * * MON *)" }',
        ),
      ),
      'trigger.expression: "cron(0 9 * * MON *)": exactly one of day-of-month and day-of-week must be "?"',
    ],
    [
      'an id other than the file name',
      withCampaign(cartRecoveryYaml.replace('id: cart-recovery', 'id: cart-rescue')),
      'campaigns/cart-recovery.yaml: id: expected "cart-recovery", the file\'s name',
    ],
    [
      'an unknown segment',
      withCampaign(cartRecoveryYaml.replace('segment: carts', 'segment: vips')),
      'campaigns/cart-recovery.yaml: audience.segment: no segments/vips.yaml (known: carts)',
    ],
    [
      'segments that refer to each other',
      {
        ...validFiles,
        'segments/carts.yaml': 'audience: { all: [{ segment: buyers }, { cart: { status: open } }] }\n',
        'segments/buyers.yaml': 'audience: { not: { segment: carts } }\n',
      },
      'campaigns/cart-recovery.yaml: audience.segment(carts).all.0.segment(buyers).not.segment: segments refer to each other in a loop: carts → buyers → carts',
    ],
    [
      'a segment file without an audience',
      { ...validFiles, 'segments/carts.yaml': 'description: open carts\n' },
      'segments/carts.yaml: expected a mapping with audience: <condition>',
    ],
    [
      'a missing template file',
      { ...validFiles, 'campaigns/templates/cart-recovery.txt.liquid': null },
      'campaigns/cart-recovery.yaml: message.template: no campaigns/templates/cart-recovery.txt.liquid',
    ],
    [
      'a Liquid syntax error in a template',
      { ...validFiles, 'campaigns/templates/cart-recovery.html.liquid': '{% if customer.cart.value %}Hi' },
      'campaigns/cart-recovery.yaml: message.template: cart-recovery.html.liquid: tag {% if customer.cart.value %} not closed',
    ],
    [
      'a Liquid syntax error in the subject',
      withCampaign(cartRecoveryYaml.replace('subject: "Your cart"', 'subject: "Hi {{ traits.firstName "')),
      'campaigns/cart-recovery.yaml: message.subject: the subject: output "{{ traits.firstName " not closed',
    ],
    [
      'a tier that engagement.tiers does not have',
      withCampaign(
        cartRecoveryYaml.replace('audience: { segment: carts }', 'audience: { tier: [gold, platinum] }'),
      ),
      'campaigns/cart-recovery.yaml: audience: tier "platinum" is not one of the tiers in engagement.tiers (bronze, gold)',
    ],
    [
      'a promo prefix that another campaign uses',
      {
        ...validFiles,
        'campaigns/cart-reminder.yaml': cartRecoveryYaml.replace('id: cart-recovery', 'id: cart-reminder'),
      },
      'campaigns/cart-reminder.yaml: promo.prefix: "CART" is already used by campaigns/cart-recovery.yaml',
    ],
    [
      'campaigns but no sending section',
      { ...validFiles, 'rapport.config.yaml': 'engagement:\n  mainCurrency: USD\n' },
      'rapport.config.yaml: sending: expected a sending section with from, linkBaseUrl and unsubscribeMailbox, since campaigns/ has campaigns',
    ],
    [
      'a sending section with a link base that is not a URL',
      {
        ...validFiles,
        'rapport.config.yaml': sendingYaml.replace('"http://127.0.0.1:3000"', 'api.shop.example'),
      },
      'rapport.config.yaml: sending.linkBaseUrl: expected the https URL of the rapport API',
    ],
    [
      'a condition mapping with two keys',
      withCampaign(
        cartRecoveryYaml.replace(
          'audience: { segment: carts }',
          'audience: { subscribed: true, cart: { status: open } }',
        ),
      ),
      'campaigns/cart-recovery.yaml: audience: expected a condition: a mapping with one of all, any, not, segment, subscribed, trait, orders.count, orders.revenue, email.openedWithoutClickStreak, tier, lifecycle, web.lastSeenAt, interest, bought, notBought, cart; found subscribed and cart (wrap several in all: [...])',
    ],
    [
      'a condition nested in all: with an unknown key',
      withCampaign(
        cartRecoveryYaml.replace(
          'audience: { segment: carts }',
          'audience: { all: [{ segment: carts }, { subscribd: true }] }',
        ),
      ),
      'campaigns/cart-recovery.yaml: audience.all.1: expected a condition: a mapping with one of all, any',
    ],
    [
      'a date trigger on a field rapport does not keep',
      withCampaign(
        cartRecoveryYaml.replace(
          /trigger: .*/,
          'trigger: { kind: date, field: traits.wedding, repeat: yearly }',
        ),
      ),
      'campaigns/cart-recovery.yaml: trigger.field: expected one of traits.birthday, traits.createdAt, orders.firstOrderAt, orders.lastOrderAt',
    ],
    [
      'a holdout above 100 percent',
      withCampaign(`${cartRecoveryYaml}holdout: 110\n`),
      'campaigns/cart-recovery.yaml: holdout: expected a percent from 0 to 100',
    ],
    [
      'YAML that does not parse',
      withCampaign('id: cart-recovery\nname: [unclosed\n'),
      'campaigns/cart-recovery.yaml: not valid YAML:',
    ],
  ])('refuses %s, naming the file and the field', (_, files, expected) => {
    expect(problemsOf(files).join('\n')).toContain(expected);
  });

  it('refuses the whole catalog for one bad campaign, naming only the bad one', () => {
    const files = {
      ...validFiles,
      'campaigns/browse-follow-up.yaml': [
        'id: browse-follow-up',
        'name: Browse follow-up',
        'trigger: { kind: delay-unless, on: Product Viewed, times: 0, after: 24h }',
        'message: { subject: "More ideas", template: cart-recovery }',
      ].join('\n'),
    };
    const root = repository(files);
    let returned: unknown;
    let thrown: unknown;
    try {
      returned = parseCatalog(readCatalogSource(root), engagementOf(root));
    } catch (error) {
      thrown = error;
    }
    expect(returned).toBeUndefined();
    expect(thrown).toBeInstanceOf(CatalogError);
    expect((thrown as CatalogError).problems).toEqual([
      'campaigns/browse-follow-up.yaml: trigger.times: expected a whole number of at least 1',
    ]);
  });

  it('lists every problem at once, not just the first', () => {
    const problems = problemsOf({
      ...withCampaign(
        cartRecoveryYaml.replace('after: 1h', 'after: later').replace('prefix: CART', 'prefix: c'),
      ),
      'campaigns/templates/cart-recovery.html.liquid': null,
    });
    expect(problems).toEqual([
      'campaigns/cart-recovery.yaml: trigger.after: expected a duration like "1h" (a number, then m, h, d or w)',
      'campaigns/cart-recovery.yaml: promo.prefix: expected 2 to 12 capital letters or digits, like "VIP"',
    ]);
    const withoutTemplate = problemsOf({
      ...validFiles,
      'campaigns/templates/cart-recovery.html.liquid': null,
    });
    expect(withoutTemplate).toEqual([
      'campaigns/cart-recovery.yaml: message.template: no campaigns/templates/cart-recovery.html.liquid',
    ]);
  });

  it('takes an empty repository as an empty catalog that sends nothing', () => {
    const catalog = load({ 'rapport.config.yaml': 'engagement: {}\n' });
    expect(catalog.campaigns).toEqual([]);
    expect(catalog.templates).toEqual({});
  });
});
