import type { IngestEvent } from '#events/ingest-event.ts';
import { isVisit } from './event-kinds.ts';
import type { Instant } from './instant.ts';
import { type Fields, fieldsOf, recordField, textField } from './segment-fields.ts';

/**
 * Where a visit came from, in UTM terms: a tagged campaign, else what the referrer says (a search
 * engine, a social network, another site), else direct.
 */
export interface Touch {
  source: string;
  medium: string;
  campaign: string | null;
  at: string;
}

export interface Touches {
  /** The first visit's touch, direct included. */
  firstTouch: Touch | null;
  /** The latest touch that was not direct; direct only while nothing else was ever seen. */
  lastTouch: Touch | null;
}

export type TouchSource = Omit<Touch, 'at'>;

export const direct: TouchSource = { source: 'direct', medium: 'none', campaign: null };

const searchEngines = ['google', 'bing', 'duckduckgo', 'yahoo', 'baidu', 'yandex', 'ecosia'];

/** Social networks by a name that is a label of their hostnames, or by a whole domain. */
const socialNetworks: readonly { name: string; domains: readonly string[] }[] = [
  { name: 'facebook', domains: ['fb.com'] },
  { name: 'instagram', domains: [] },
  { name: 'twitter', domains: ['t.co', 'x.com'] },
  { name: 'linkedin', domains: ['lnkd.in'] },
  { name: 'pinterest', domains: [] },
  { name: 'reddit', domains: [] },
  { name: 'youtube', domains: ['youtu.be'] },
  { name: 'tiktok', domains: [] },
];

export function foldTouches(touches: Touches, event: IngestEvent, when: Instant): Touches {
  if (!isVisit(event)) return touches;
  const touch: Touch = { ...touchSourceOf(event), at: when.at };
  return {
    firstTouch: touches.firstTouch ?? touch,
    lastTouch: isDirect(touch) ? (touches.lastTouch ?? touch) : touch,
  };
}

export function isDirect(touch: TouchSource): boolean {
  return touch.source === direct.source && touch.medium === direct.medium;
}

export function touchSourceOf(event: IngestEvent): TouchSource {
  const context = fieldsOf(event.context);
  const properties = fieldsOf(event.properties);
  const page = recordField(context, 'page');
  const pageUrl = parseUrl(textField(page, 'url') ?? textField(properties, 'url'));
  return (
    campaignOf(recordField(context, 'campaign')) ??
    campaignOf(utmOf(pageUrl)) ??
    referrerTouch(parseUrl(textField(page, 'referrer') ?? textField(properties, 'referrer')), pageUrl)
  );
}

/** A UTM-tagged campaign; its source and medium lower-cased, so that "Newsletter" groups with "newsletter". */
function campaignOf(campaign: Fields | undefined): TouchSource | undefined {
  const source = textField(campaign, 'source');
  if (source === undefined) return undefined;
  return {
    source: source.toLowerCase(),
    medium: textField(campaign, 'medium')?.toLowerCase() ?? '(not set)',
    campaign: textField(campaign, 'name') ?? null,
  };
}

/** UTM parameters of the page's own URL, for clients that do not fill `context.campaign`. */
function utmOf(url: URL | undefined): Fields | undefined {
  const query = url?.searchParams;
  if (query === undefined || !query.has('utm_source')) return undefined;
  return {
    source: query.get('utm_source'),
    medium: query.get('utm_medium'),
    name: query.get('utm_campaign'),
  };
}

function referrerTouch(referrer: URL | undefined, pageUrl: URL | undefined): TouchSource {
  if (referrer === undefined) return direct;
  const host = siteHost(referrer);
  if (host === '' || (pageUrl !== undefined && siteHost(pageUrl) === host)) return direct;
  const labels = host.split('.').slice(0, -1);
  const engine = searchEngines.find((name) => labels.includes(name));
  if (engine !== undefined) return { source: engine, medium: 'organic', campaign: null };
  const network = socialNetworks.find(
    ({ name, domains }) => labels.includes(name) || domains.some((domain) => isWithin(host, domain)),
  );
  if (network !== undefined) return { source: network.name, medium: 'social', campaign: null };
  return { source: host, medium: 'referral', campaign: null };
}

function isWithin(host: string, domain: string): boolean {
  return host === domain || host.endsWith(`.${domain}`);
}

/** The hostname a visitor would call the site: lower-case, without "www.". */
function siteHost(url: URL): string {
  return url.hostname.toLowerCase().replace(/^www\./, '');
}

function parseUrl(text: string | undefined): URL | undefined {
  if (text === undefined || !URL.canParse(text)) return undefined;
  const url = new URL(text);
  return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
}
