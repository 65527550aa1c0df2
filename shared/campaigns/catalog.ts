import { Liquid } from 'liquidjs';
import type { z } from 'zod';
import type { EngagementSettings } from '../engagement/settings.ts';
import type { Condition } from './audience.ts';
import { condition } from './audience.ts';
import { type Campaign, campaign } from './campaign.ts';
import { type SendingSettings, sendingSettings } from './sending-settings.ts';

/**
 * Everything campaigns are made of, as read from the repository: campaigns/*.yaml,
 * segments/*.yaml, the Liquid templates in campaigns/templates/ and the `sending:` section of
 * rapport.config.yaml. It is plain JSON, so the CDK app can bundle it into the functions and every
 * runtime parses the same thing the same way (see catalog-files.ts for reading it from disk).
 */
export interface CatalogSource {
  campaigns: { file: string; document: unknown }[];
  segments: { file: string; name: string; document: unknown }[];
  /** File name (e.g. `cart-recovery.html.liquid`) to source. */
  templates: Record<string, string>;
  /** The `sending:` section; undefined when the config file has none. */
  sending: unknown;
  /** Where `sending` was read from, for messages. */
  sendingFile: string;
}

/** A checked catalog: campaigns with segments resolved, templates known to parse. */
export interface Catalog {
  campaigns: Campaign[];
  sending: SendingSettings;
  templates: Record<string, string>;
}

export class CatalogError extends Error {
  override name = 'CatalogError';
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
  }
}

type SegmentParse = { condition: Condition } | { error: z.ZodError } | { message: string };

/** A segment file: `audience: <condition>`, and whatever else (a description) the marketer keeps. */
function parseSegment(document: unknown): SegmentParse {
  if (
    typeof document !== 'object' ||
    document === null ||
    Array.isArray(document) ||
    !('audience' in document)
  ) {
    return { message: 'expected a mapping with audience: <condition>' };
  }
  const parsed = condition.safeParse((document as { audience: unknown }).audience);
  return parsed.success ? { condition: parsed.data } : { error: parsed.error };
}

/** An empty catalog's sending settings: nothing is sent, so only the shape matters. */
const noSending: SendingSettings = sendingSettings.parse({
  from: 'rapport <noreply@localhost.invalid>',
  linkBaseUrl: 'http://127.0.0.1:3000',
  unsubscribeMailbox: 'unsubscribe@localhost.invalid',
});

/** The catalog of a deployment without campaigns. */
export const noCampaigns: Catalog = { campaigns: [], sending: noSending, templates: {} };

/**
 * Checks the whole catalog and returns it, or throws a CatalogError listing every problem, each
 * naming its file and field. Nothing half-valid gets through: one bad campaign refuses them all.
 */
export function parseCatalog(source: CatalogSource, engagement?: EngagementSettings): Catalog {
  const problems: string[] = [];
  const segments = new Map<string, { file: string; condition: Condition }>();
  for (const segment of source.segments) {
    const parsed = parseSegment(segment.document);
    if ('condition' in parsed)
      segments.set(segment.name, { file: segment.file, condition: parsed.condition });
    else if ('error' in parsed) problems.push(...issuesOf(segment.file, parsed.error, ['audience']));
    else problems.push(`${segment.file}: ${parsed.message}`);
  }

  const campaigns: Campaign[] = [];
  const seenIds = new Map<string, string>();
  const seenPrefixes = new Map<string, string>();
  for (const { file, document } of source.campaigns) {
    const parsed = campaign.safeParse(document);
    if (!parsed.success) {
      problems.push(...issuesOf(file, parsed.error));
      continue;
    }
    const found: Campaign = parsed.data;
    const stem = file.replace(/^.*\//, '').replace(/\.ya?ml$/, '');
    if (found.id !== stem) problems.push(`${file}: id: expected "${stem}", the file's name`);
    const other = seenIds.get(found.id);
    if (other) problems.push(`${file}: id: "${found.id}" is also the id of ${other}`);
    seenIds.set(found.id, file);
    if (found.promo) {
      const owner = seenPrefixes.get(found.promo.prefix);
      if (owner) problems.push(`${file}: promo.prefix: "${found.promo.prefix}" is already used by ${owner}`);
      seenPrefixes.set(found.promo.prefix, file);
    }
    if (found.audience) {
      const resolved = resolveSegments(found.audience, segments, ['audience'], [], (path, message) =>
        problems.push(`${file}: ${path.join('.')}: ${message}`),
      );
      found.audience = resolved;
      if (engagement)
        checkTiers(resolved, engagement, (message) => problems.push(`${file}: audience: ${message}`));
    }
    problems.push(...templateProblems(file, found, source.templates));
    campaigns.push(found);
  }

  let sending = noSending;
  if (source.sending === undefined || source.sending === null) {
    if (campaigns.length > 0) {
      problems.push(
        `${source.sendingFile}: sending: expected a sending section with from, linkBaseUrl and unsubscribeMailbox, since campaigns/ has campaigns`,
      );
    }
  } else {
    const parsed = sendingSettings.safeParse(source.sending);
    if (parsed.success) sending = parsed.data;
    else problems.push(...issuesOf(source.sendingFile, parsed.error, ['sending']));
  }

  if (problems.length > 0) throw new CatalogError(problems);
  return { campaigns, sending, templates: source.templates };
}

function issuesOf(file: string, error: z.ZodError, prefix: (string | number)[] = []): string[] {
  return error.issues.map((issue) => {
    const path = [...prefix, ...issue.path.map((part) => (typeof part === 'symbol' ? String(part) : part))];
    return `${file}: ${path.length > 0 ? `${path.join('.')}: ` : ''}${issue.message}`;
  });
}

function resolveSegments(
  found: Condition,
  segments: Map<string, { file: string; condition: Condition }>,
  path: (string | number)[],
  via: string[],
  problem: (path: (string | number)[], message: string) => void,
): Condition {
  switch (found.kind) {
    case 'all':
    case 'any':
      return {
        kind: found.kind,
        conditions: found.conditions.map((inner, index) =>
          resolveSegments(inner, segments, [...path, found.kind, index], via, problem),
        ),
      };
    case 'not':
      return {
        kind: 'not',
        condition: resolveSegments(found.condition, segments, [...path, 'not'], via, problem),
      };
    case 'segment': {
      const segment = segments.get(found.name);
      if (!segment) {
        const known = [...segments.keys()].sort();
        problem(
          [...path, 'segment'],
          `no segments/${found.name}.yaml${known.length ? ` (known: ${known.join(', ')})` : ''}`,
        );
        return found;
      }
      if (via.includes(found.name)) {
        problem(
          [...path, 'segment'],
          `segments refer to each other in a loop: ${[...via, found.name].join(' → ')}`,
        );
        return found;
      }
      return resolveSegments(
        segment.condition,
        segments,
        [...path, `segment(${found.name})`],
        [...via, found.name],
        problem,
      );
    }
    default:
      return found;
  }
}

function checkTiers(
  found: Condition,
  engagement: EngagementSettings,
  problem: (message: string) => void,
): void {
  const known = engagement.tiers.map((tier) => tier.name);
  const visit = (inner: Condition): void => {
    if (inner.kind === 'all' || inner.kind === 'any') inner.conditions.forEach(visit);
    else if (inner.kind === 'not') visit(inner.condition);
    else if (inner.kind === 'tier') {
      for (const name of inner.in) {
        if (!known.includes(name))
          problem(`tier "${name}" is not one of the tiers in engagement.tiers (${known.join(', ')})`);
      }
    }
  };
  visit(found);
}

const liquid = new Liquid();

/** The template files a campaign's message needs. */
export function templateFiles(template: string): { html: string; text: string } {
  return { html: `${template}.html.liquid`, text: `${template}.txt.liquid` };
}

function templateProblems(file: string, found: Campaign, templates: Record<string, string>): string[] {
  const problems: string[] = [];
  const check = (field: string, source: string | undefined, name: string) => {
    if (source === undefined) {
      problems.push(`${file}: ${field}: no campaigns/templates/${name}`);
      return;
    }
    try {
      liquid.parse(source);
    } catch (error) {
      problems.push(
        `${file}: ${field}: ${name}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
      );
    }
  };
  check('message.subject', found.message.subject, 'the subject');
  const files = templateFiles(found.message.template);
  check('message.template', templates[files.html], files.html);
  check('message.template', templates[files.text], files.text);
  return problems;
}
