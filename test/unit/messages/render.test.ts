import { describe, expect, test } from 'vitest';
import { type Campaign, campaign as campaignSchema } from '#shared/campaigns/campaign.ts';
import type { Catalog } from '#shared/campaigns/catalog.ts';
import { sendingSettings } from '#shared/campaigns/sending-settings.ts';
import { defaultEngagementSettings } from '#shared/engagement/settings.ts';
import { LinkNotAllowedError, verifyToken } from '#shared/messages/links.ts';
import { verifyPromoCode } from '#shared/messages/promo.ts';
import { type MessageContext, RenderError, renderMessage, sampleContext } from '#shared/messages/render.ts';

const at = new Date('2025-03-15T09:00:00.000Z');
const settings = defaultEngagementSettings;

const sending = sendingSettings.parse({
  from: 'Shop <hello@shop.example>',
  linkBaseUrl: 'https://api.shop.example',
  unsubscribeMailbox: 'unsubscribe@shop.example',
  linkDomains: ['shop.example'],
  utm: { source: 'rapport', medium: 'email', content: 'body' },
  complementaryCategories: { Shoes: ['Socks'] },
});

function campaignWith(fields: Record<string, unknown> = {}): Campaign {
  return campaignSchema.parse({
    id: 'welcome',
    name: 'Welcome',
    trigger: { kind: 'event', event: 'Signed Up' },
    message: { subject: 'Hello {{ traits.firstName }}', template: 'welcome' },
    ...fields,
  });
}

function catalogWith(templates: Record<string, string>, campaigns: Campaign[] = [campaignWith()]): Catalog {
  return { campaigns, sending, templates };
}

function contextFor(
  campaign: Campaign,
  catalog: Catalog,
  traits: Record<string, string> = {},
): MessageContext {
  const context = sampleContext(campaign, catalog, settings, at);
  return { ...context, customer: { ...context.customer, traits: { ...context.customer.traits, ...traits } } };
}

async function render(
  templates: Record<string, string>,
  traits: Record<string, string> = {},
  campaign = campaignWith(),
) {
  const catalog = catalogWith(templates, [campaign]);
  return renderMessage(catalog, campaign, contextFor(campaign, catalog, traits));
}

async function renderError(promise: Promise<unknown>): Promise<RenderError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof RenderError)) throw new Error(`expected a RenderError, got ${String(error)}`);
  return error;
}

describe('renderMessage', () => {
  test('HTML output is escaped, the subject and the text are not', async () => {
    const message = await render(
      {
        'welcome.html.liquid': '<p>Hi {{ traits.firstName }}</p>{{ traits.firstName | raw }}',
        'welcome.txt.liquid': 'Hi {{ traits.firstName }}',
      },
      { firstName: '<b>Tom & Jerry</b>' },
    );
    expect(message).toEqual({
      subject: 'Hello <b>Tom & Jerry</b>',
      html: '<p>Hi &lt;b&gt;Tom &amp; Jerry&lt;/b&gt;</p><b>Tom & Jerry</b>',
      text: 'Hi <b>Tom & Jerry</b>',
    });
  });

  test('the subject is one line, its whitespace collapsed', async () => {
    const campaign = campaignWith({
      message: {
        subject: '  {{ traits.firstName }},\n   your\tcart {% if promo %}and a code{% endif %}\n',
        template: 'welcome',
      },
    });
    const message = await render({ 'welcome.html.liquid': '', 'welcome.txt.liquid': '' }, {}, campaign);
    expect(message.subject).toBe('Ada, your cart');
  });

  test('templates see the campaign, the customer, traits, recommendations, promo, links and trigger', async () => {
    const campaign = campaignWith({
      trigger: { kind: 'event', event: 'Product Viewed', where: { 'properties.category': 'Shoes' } },
      promo: { prefix: 'HELLO' },
    });
    const text = [
      '{{ campaign.id }}/{{ campaign.name }}',
      '{{ customer.traits.email }} {{ traits.firstName }} {{ customer.lifecycle }} {{ customer.cart.items.size }}',
      '{% for product in recommendations.products %}{{ product.name }};{% endfor %}',
      '{% for category in recommendations.categories %}{{ category.id }};{% endfor %}',
      '{{ promo.code }} {{ promo.expiresAt }}',
      '{{ links.unsubscribe }}',
      '{{ trigger.category }}',
      '[{{ nothing.here }}]',
    ].join('\n');
    const message = await render({ 'welcome.html.liquid': '', 'welcome.txt.liquid': text }, {}, campaign);
    const [ids, customer, products, categories, promo, unsubscribe, trigger, unknown] =
      message.text.split('\n');
    expect(ids).toBe('welcome/Welcome');
    expect(customer).toBe('ada@example.com Ada customer 1');
    // The socks were bought: they are never offered.
    expect(products).toBe('Sun Hat;Trail Shoe;');
    expect(categories).toBe('Shoes;Socks;');
    const [code, expiresAt] = (promo ?? '').split(' ');
    expect(verifyPromoCode('sample', [campaign], code ?? '', 'sample-customer')).toEqual({
      campaignId: 'welcome',
    });
    expect(expiresAt).toBe('2025-03-29T09:00:00.000Z');
    const token = (unsubscribe ?? '').replace('https://api.shop.example/u/', '');
    expect(verifyToken('sample', token)).toEqual({ c: 'sample-customer', k: 'welcome', o: at.toISOString() });
    expect(trigger).toBe('Shoes');
    expect(unknown).toBe('[]');
  });

  test('layouts and partials come from the catalog and see the same variables', async () => {
    const message = await render({
      'layout.html.liquid': '<main>{% block content %}{% endblock %}</main>{% render "footer.html.liquid" %}',
      'footer.html.liquid': '<a href="{{ links.unsubscribe }}">Unsubscribe {{ traits.firstName }}</a>',
      'welcome.html.liquid':
        '{% layout "layout.html.liquid" %}{% block content %}Hi {{ traits.firstName }}{% endblock %}',
      'footer.txt.liquid': 'Unsubscribe: {{ links.unsubscribe }} & more',
      'welcome.txt.liquid': 'Hi {{ traits.firstName }}\n{% render "footer.txt.liquid" %}',
    });
    expect(message.html).toMatch(
      /^<main>Hi Ada<\/main><a href="https:\/\/api\.shop\.example\/u\/[\w.-]+">Unsubscribe Ada<\/a>$/,
    );
    expect(message.text).toMatch(/^Hi Ada\nUnsubscribe: https:\/\/api\.shop\.example\/u\/[\w.-]+ & more$/);
  });

  test('the utm filter tags links with the campaign over the sending defaults', async () => {
    const campaign = campaignWith({ utm: { medium: 'newsletter' } });
    const message = await render(
      {
        'welcome.html.liquid': '<a href="{{ "https://shop.example/new" | utm }}">new</a>',
        'welcome.txt.liquid':
          '{{ "https://www.shop.example/a?utm_source=x" | utm: "footer" }} {{ "https://api.shop.example/p" | utm }}',
      },
      {},
      campaign,
    );
    expect(message.html).toBe(
      '<a href="https://shop.example/new?utm_source=rapport&amp;utm_medium=newsletter&amp;utm_campaign=welcome&amp;utm_content=body">new</a>',
    );
    expect(message.text).toBe(
      'https://www.shop.example/a?utm_source=x&utm_medium=newsletter&utm_campaign=welcome&utm_content=footer ' +
        'https://api.shop.example/p?utm_source=rapport&utm_medium=newsletter&utm_campaign=welcome&utm_content=body',
    );
  });

  test('a campaign names its own utm_campaign', async () => {
    const campaign = campaignWith({ utm: { campaign: 'spring-2025' } });
    const message = await render(
      { 'welcome.html.liquid': '', 'welcome.txt.liquid': '{{ "https://shop.example" | utm }}' },
      {},
      campaign,
    );
    expect(message.text).toBe(
      'https://shop.example?utm_source=rapport&utm_medium=email&utm_campaign=spring-2025&utm_content=body',
    );
  });

  test('a link to a host not allowed fails the render, naming the file and the fix', async () => {
    const error = await renderError(
      render({
        'welcome.html.liquid': 'ok',
        'welcome.txt.liquid': 'Visit\n{{ "https://elsewhere.example/x" | utm }}',
      }),
    );
    expect(error.campaignId).toBe('welcome');
    expect(error.file).toBe('campaigns/templates/welcome.txt.liquid');
    expect(error.cause).toBeInstanceOf(LinkNotAllowedError);
    expect(error.message).toMatch(
      /^campaign "welcome": campaigns\/templates\/welcome\.txt\.liquid: link "https:\/\/elsewhere\.example\/x" points to elsewhere\.example.*add "elsewhere\.example" to sending\.linkDomains in rapport\.config\.yaml.*line:2/,
    );
  });

  test('money shows decimal strings in the currency', async () => {
    const message = await render({
      'welcome.html.liquid': '{{ customer.cart.value | money: customer.cart.currency }}',
      'welcome.txt.liquid':
        '{{ "69.9" | money: "USD" }} {{ "1500" | money: "JPY" }} {{ "1234.5" | money: "eur" }} [{{ nothing | money: "USD" }}]',
    });
    expect(message.html).toBe('$24.50');
    expect(message.text).toBe('$69.90 ¥1,500 €1,234.50 []');
  });

  test('money without a currency, or of something that is not an amount, is an error', async () => {
    const noCurrency = await renderError(
      render({ 'welcome.html.liquid': '{{ "1" | money }}', 'welcome.txt.liquid': '' }),
    );
    expect(noCurrency.message).toContain('money: expected a currency code');
    const notAmount = await renderError(
      render({ 'welcome.html.liquid': '{{ "lots" | money: "USD" }}', 'welcome.txt.liquid': '' }),
    );
    expect(notAmount.message).toContain('money: expected a decimal amount like "69.90", got "lots"');
  });

  test('an unknown filter is an error that names the file', async () => {
    const error = await renderError(
      render({ 'welcome.html.liquid': 'Hi {{ traits.firstName | shout }}', 'welcome.txt.liquid': '' }),
    );
    expect(error.file).toBe('campaigns/templates/welcome.html.liquid');
    expect(error.message).toMatch(
      /^campaign "welcome": campaigns\/templates\/welcome\.html\.liquid: undefined filter: shout/,
    );
  });

  test('an error in a partial names the partial', async () => {
    const error = await renderError(
      render({
        'welcome.html.liquid': 'Hi {% render "footer.html.liquid" %}',
        'footer.html.liquid': '{{ "x" | shout }}',
        'welcome.txt.liquid': '',
      }),
    );
    expect(error.message).toContain('footer.html.liquid');
  });

  test('a missing template and a broken subject are errors', async () => {
    const missing = await renderError(render({ 'welcome.html.liquid': 'Hi' }));
    expect(missing.file).toBe('campaigns/templates/welcome.txt.liquid');
    expect(missing.message).toContain('welcome.txt.liquid');

    const campaign = campaignWith({
      message: { subject: 'Hi {{ traits.firstName | shout }}', template: 'welcome' },
    });
    const subject = await renderError(
      render({ 'welcome.html.liquid': '', 'welcome.txt.liquid': '' }, {}, campaign),
    );
    expect(subject.message).toMatch(/^campaign "welcome": message\.subject: undefined filter: shout/);
  });

  test('each catalog renders its own templates', async () => {
    const first = catalogWith({ 'welcome.html.liquid': 'one', 'welcome.txt.liquid': 'one' });
    const second = catalogWith({ 'welcome.html.liquid': 'two', 'welcome.txt.liquid': 'two' });
    const campaign = campaignWith();
    const context = contextFor(campaign, first);
    expect((await renderMessage(first, campaign, context)).html).toBe('one');
    expect((await renderMessage(second, campaign, context)).html).toBe('two');
    expect((await renderMessage(first, campaign, context)).html).toBe('one');
  });
});

describe('sampleContext', () => {
  test('is a customer with a cart, an order, interests and the campaign', () => {
    const campaign = campaignWith({
      trigger: {
        kind: 'delay-unless',
        on: 'Product Added',
        where: { 'properties.brand': { in: ['acme', 'other'] }, event: 'x' },
        per: 'properties.category',
        after: '1h',
      },
    });
    const context = sampleContext(campaign, catalogWith({}), settings, at);
    expect(context.campaign).toEqual({ id: 'welcome', name: 'Welcome' });
    expect(context.customer.traits).toMatchObject({ firstName: 'Ada', email: 'ada@example.com' });
    expect(context.customer.cart.items).toHaveLength(1);
    expect(context.customer.orders.count).toBe(1);
    expect(context.customer.interests.length).toBeGreaterThan(0);
    expect(context.promo).toBeUndefined();
    expect(context.trigger).toEqual({ brand: 'acme', category: 'Shoes' });
  });
});
