import { type Context, Liquid, type Template } from 'liquidjs';
import type { IngestEvent } from '#events/ingest-event.ts';
import type { Campaign } from '../campaigns/campaign.ts';
import { type Catalog, templateFiles } from '../campaigns/catalog.ts';
import type { SendingSettings } from '../campaigns/sending-settings.ts';
import type { EngagementSettings } from '../engagement/settings.ts';
import { foldEvents } from '../engagement/state.ts';
import { type CustomerView, viewCustomer } from '../engagement/view.ts';
import { normalizeCurrency } from '../money.ts';
import { decorateLink, type Utm, unsubscribeLinks } from './links.ts';
import { promoCode, promoExpiry } from './promo.ts';
import { type Recommendations, recommend } from './recommendations.ts';

/**
 * Renders a campaign's message with Liquid: the subject from the campaign, the HTML and text bodies
 * from campaigns/templates/. Templates see `campaign`, `customer` (the customer view), `traits`,
 * `recommendations`, `promo`, `links` and `trigger`, in partials and layouts too; they refer to other
 * templates by file name, like `{% layout 'base.html.liquid' %}` or `{% render 'footer.txt.liquid' %}`.
 *
 * Output in HTML is escaped unless it ends in `| raw`; the subject and the text body are not, since
 * they are not HTML. Filters beyond Liquid's own: `utm` (tags a link to an allowed host, and refuses
 * links to any other) and `money` ("69.90" | money: "USD" is "$69.90"). An unknown filter is an error.
 */
export interface MessageContext {
  campaign: { id: string; name: string };
  customer: CustomerView;
  recommendations: Recommendations;
  promo?: { code: string; expiresAt: string };
  links: { unsubscribe: string };
  /** The triggering event's properties, e.g. its category; {} for schedules and dates. */
  trigger: Record<string, unknown>;
}

export interface RenderedMessage {
  subject: string;
  html: string;
  text: string;
}

/** A message that cannot be rendered: which campaign, which file, and Liquid's reason with the line. */
export class RenderError extends Error {
  override name = 'RenderError';
  constructor(
    readonly campaignId: string,
    readonly file: string,
    reason: unknown,
  ) {
    super(`campaign "${campaignId}": ${file}: ${reason instanceof Error ? reason.message : String(reason)}`, {
      cause: rootCause(reason),
    });
  }
}

export async function renderMessage(
  catalog: Catalog,
  campaign: Campaign,
  context: MessageContext,
): Promise<RenderedMessage> {
  const engines = enginesOf(catalog);
  const variables = {
    campaign: context.campaign,
    customer: context.customer,
    traits: context.customer.traits,
    recommendations: context.recommendations,
    promo: context.promo,
    links: context.links,
    trigger: context.trigger,
  };
  linkSettings.set(variables, linkSettingsOf(catalog.sending, campaign));
  // As globals, the variables reach partials and layouts too (`render` sees only globals).
  const options = { globals: variables };
  const files = templateFiles(campaign.message.template);
  const subject = await rendered(campaign, 'message.subject', async () =>
    engines.text.render(engines.subject(campaign.message.subject), {}, options),
  );
  const html = await rendered(campaign, `campaigns/templates/${files.html}`, async () =>
    engines.html.render(await engines.html.parseFile(files.html), {}, options),
  );
  const text = await rendered(campaign, `campaigns/templates/${files.text}`, async () =>
    engines.text.render(await engines.text.parseFile(files.text), {}, options),
  );
  return { subject: subject.replace(/\s+/g, ' ').trim(), html, text };
}

async function rendered(campaign: Campaign, file: string, render: () => Promise<unknown>): Promise<string> {
  try {
    return String(await render());
  } catch (error) {
    throw new RenderError(campaign.id, file, error);
  }
}

/** Liquid wraps what a filter throws; the cause is the first error, e.g. a LinkNotAllowedError. */
function rootCause(error: unknown): unknown {
  let cause = error;
  while (cause instanceof Error && 'originalError' in cause && cause.originalError instanceof Error) {
    cause = cause.originalError;
  }
  return cause;
}

interface Engines {
  /** Escapes output: for the HTML body. */
  html: Liquid;
  /** Leaves output as it is: for the subject and the text body. */
  text: Liquid;
  subject: (source: string) => Template[];
}

// Parsed templates are kept per catalog, so a batch of sends parses each file once; a new catalog
// (a deploy, an edit in the CLI's preview) starts afresh and the old one goes with its last use.
const engines = new WeakMap<Catalog, Engines>();

function enginesOf(catalog: Catalog): Engines {
  const found = engines.get(catalog);
  if (found) return found;
  const text = engine(catalog.templates, false);
  const subjects = new Map<string, Template[]>();
  const made: Engines = {
    html: engine(catalog.templates, true),
    text,
    subject: (source) => {
      const parsed = subjects.get(source) ?? text.parse(source);
      subjects.set(source, parsed);
      return parsed;
    },
  };
  engines.set(catalog, made);
  return made;
}

function engine(templates: Record<string, string>, escapeOutput: boolean): Liquid {
  const liquid = new Liquid({
    templates,
    cache: true,
    strictFilters: true,
    strictVariables: false,
    ...(escapeOutput ? { outputEscape: 'escape' as const } : {}),
  });
  liquid.registerFilter('utm', utmFilter);
  liquid.registerFilter('money', moneyFilter);
  return liquid;
}

interface LinkSettings {
  utm: Utm;
  allowedHosts: string[];
}

/**
 * The campaign's link settings, by the globals object of the render they belong to: filters are
 * registered once per engine, and this is how one learns which campaign it is rendering for.
 */
const linkSettings = new WeakMap<object, LinkSettings>();

function linkSettingsOf(sending: SendingSettings, campaign: Campaign): LinkSettings {
  const utm: Utm = { ...definedOnly(sending.utm), ...definedOnly(campaign.utm) };
  utm.campaign ??= campaign.id;
  return { utm, allowedHosts: [...sending.linkDomains, new URL(sending.linkBaseUrl).hostname] };
}

function definedOnly(utm: Utm): Utm {
  return Object.fromEntries(Object.entries(utm).filter(([, value]) => value !== undefined));
}

/** `{{ "https://shop.example/sale" | utm }}`, or `| utm: "hero"` to set utm_content. */
function utmFilter(this: { context: Context }, href: unknown, content?: unknown): string {
  const settings = linkSettings.get(this.context.globals);
  if (settings === undefined) throw new Error('utm: the filter works only in renderMessage');
  if (typeof href !== 'string') {
    throw new Error(`utm: expected a link like "https://shop.example/page", got ${describe(href)}`);
  }
  const utm = content === undefined ? settings.utm : { ...settings.utm, content: String(content) };
  return decorateLink(href, utm, settings.allowedHosts);
}

const currencyFormats = new Map<string, Intl.NumberFormat>();

/** A decimal string (as the customer view gives amounts) shown in en-US: "69.90" USD is "$69.90". */
function moneyFilter(amount: unknown, currency?: unknown): string {
  if (amount === null || amount === undefined || amount === '') return '';
  const code = normalizeCurrency(currency);
  if (code === undefined) {
    throw new Error(
      `money: expected a currency code like {{ price | money: "USD" }}, got ${describe(currency)}`,
    );
  }
  const text = typeof amount === 'number' ? String(amount) : typeof amount === 'string' ? amount.trim() : '';
  if (!/^-?\d+(\.\d+)?$/.test(text)) {
    throw new Error(`money: expected a decimal amount like "69.90", got ${describe(amount)}`);
  }
  let format = currencyFormats.get(code);
  if (format === undefined) {
    format = new Intl.NumberFormat('en-US', { style: 'currency', currency: code });
    currencyFormats.set(code, format);
  }
  // Formatted from the decimal text, so no float ever stands for the amount.
  return format.format(text as Intl.StringNumericLiteral);
}

function describe(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value);
}

const sampleSecret = 'sample';

/**
 * A context for a made-up customer, Ada, who signed up a month ago, bought once, looked at two
 * products since and has one in her cart. The CLI renders every campaign with it, so that a template
 * that cannot render (an unknown filter, a link to a host not allowed) fails validation, not a send.
 */
export function sampleContext(
  campaign: Campaign,
  catalog: Catalog,
  settings: EngagementSettings,
  at: Date,
): MessageContext {
  const category = Object.keys(catalog.sending.complementaryCategories)[0] ?? 'Shoes';
  const state = foldEvents('sample-customer', sampleEvents(at, category, settings.mainCurrency), settings);
  const promo = campaign.promo;
  return {
    campaign: { id: campaign.id, name: campaign.name },
    customer: viewCustomer(state, at, settings),
    recommendations: recommend(state, at, settings, catalog.sending.complementaryCategories),
    ...(promo && {
      promo: {
        code: promoCode(sampleSecret, promo, campaign.id, state.customerId),
        expiresAt: promoExpiry(at, promo.validDays),
      },
    }),
    links: {
      unsubscribe: unsubscribeLinks({
        secret: sampleSecret,
        sending: catalog.sending,
        campaignId: campaign.id,
        customerId: state.customerId,
        occurrence: at.toISOString(),
      }).url,
    },
    trigger: sampleTrigger(campaign, category),
  };
}

function sampleEvents(at: Date, category: string, currency: string): IngestEvent[] {
  const daysAgo = (days: number) => new Date(at.getTime() - days * 86_400_000).toISOString();
  const event = (index: number, days: number, fields: Partial<IngestEvent>): IngestEvent => ({
    messageId: `sample-${index}`,
    type: 'track',
    userId: 'sample-customer',
    timestamp: daysAgo(days),
    receivedAt: daysAgo(days),
    source: 'sample',
    ...fields,
  });
  const product = (id: string, name: string, price: string) => ({
    product_id: id,
    name,
    category,
    price,
    currency,
  });
  return [
    event(1, 30, {
      type: 'identify',
      traits: { firstName: 'Ada', lastName: 'Lovelace', email: 'ada@example.com' },
    }),
    event(2, 20, {
      event: 'Order Completed',
      properties: {
        order_id: 'sample-order',
        revenue: '19.00',
        currency,
        products: [{ ...product('sample-socks', 'Wool Socks', '19.00'), quantity: 1 }],
      },
    }),
    event(3, 3, { event: 'Product Viewed', properties: product('sample-shoe', 'Trail Shoe', '69.90') }),
    event(4, 2, { event: 'Product Viewed', properties: product('sample-hat', 'Sun Hat', '24.50') }),
    event(5, 1, {
      event: 'Product Added',
      properties: { ...product('sample-hat', 'Sun Hat', '24.50'), quantity: 1 },
    }),
  ];
}

/** The properties a triggering event would have: the values its `where` asks for, a category for `per`. */
function sampleTrigger(campaign: Campaign, category: string): Record<string, unknown> {
  const trigger = campaign.trigger;
  if (trigger.kind !== 'event' && trigger.kind !== 'delay-unless') return {};
  const properties: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(trigger.where ?? {})) {
    if (!field.startsWith('properties.')) continue;
    const sample = typeof value === 'object' ? value.in[0] : value;
    setPath(properties, field.slice('properties.'.length).split('.'), sample);
  }
  if (trigger.kind === 'delay-unless' && trigger.per?.startsWith('properties.')) {
    setPath(properties, trigger.per.slice('properties.'.length).split('.'), category);
  }
  return properties;
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  const [head, ...rest] = path;
  if (head === undefined) return;
  if (rest.length === 0) {
    target[head] = value;
    return;
  }
  const inner = target[head];
  const next: Record<string, unknown> =
    typeof inner === 'object' && inner !== null && !Array.isArray(inner)
      ? (inner as Record<string, unknown>)
      : {};
  target[head] = next;
  setPath(next, rest, value);
}
