import type { IngestEvent } from '#events/ingest-event.ts';
import { compareText } from './collation.ts';
import { trackName } from './event-kinds.ts';
import type { Instant } from './instant.ts';
import { millisOf } from './instant.ts';
import type { PlacedOrder } from './orders.ts';
import { productIdOf } from './product-line.ts';
import { fieldsOf, textField } from './segment-fields.ts';
import type { EngagementSettings } from './settings.ts';

/**
 * Interest in products and categories: views, adds and purchases, each worth a weight that halves
 * every `interestHalfLifeDays`. A score is kept as of the time it last changed and decayed only when
 * it changes again, so every fold does the same float operations in the same order and a replay
 * gives the same bits as incremental folding.
 */
export interface InterestScore {
  kind: 'category' | 'product';
  id: string;
  name: string | null;
  score: number;
  /** When `score` was last brought up to date. */
  at: string;
}

/** The most interests kept: beyond it the weakest go, so that the stored state stays small. */
export const maxInterests = 200;

/** Scores below this are forgotten; it also keeps them inside the range DynamoDB can store. */
const forgottenBelow = 1e-9;

interface Mention {
  kind: InterestScore['kind'];
  id: string;
  name: string | null;
  weight: number;
}

export function foldInterests(
  interests: InterestScore[],
  event: IngestEvent,
  placed: PlacedOrder | undefined,
  when: Instant,
  settings: EngagementSettings,
): InterestScore[] {
  const mentions = mentionsOf(event, placed, settings.interestWeights);
  if (mentions.length === 0) return interests;
  const halfLifeDays = settings.interestHalfLifeDays;
  const touched = new Map(interests.map((interest) => [interestKey(interest), interest]));
  for (const mention of mentions) {
    const key = interestKey(mention);
    touched.set(key, raised(touched.get(key), mention, when, halfLifeDays));
  }
  const kept = [...touched.values()].filter((interest) => interest.score >= forgottenBelow);
  return strongest(kept, when.millis, halfLifeDays).sort(byKey);
}

/** The score decayed from when it was last updated to `millis`. */
export function decayedScore(interest: InterestScore, millis: number, halfLifeDays: number): number {
  const elapsed = Math.max(0, millis - millisOf(interest.at));
  return interest.score * 2 ** (-elapsed / (halfLifeDays * 86_400_000));
}

function raised(
  interest: InterestScore | undefined,
  mention: Mention,
  when: Instant,
  halfLifeDays: number,
): InterestScore {
  const base = interest === undefined ? 0 : decayedScore(interest, when.millis, halfLifeDays);
  return {
    kind: mention.kind,
    id: mention.id,
    name: mention.name ?? interest?.name ?? null,
    score: base + mention.weight,
    at: when.at,
  };
}

function mentionsOf(
  event: IngestEvent,
  placed: PlacedOrder | undefined,
  weights: EngagementSettings['interestWeights'],
): Mention[] {
  if (placed !== undefined) {
    return placed.products.flatMap((line) =>
      productMentions(line.productId, line.name, line.category, weights.purchase),
    );
  }
  const name = trackName(event);
  const weight =
    name === 'Product Viewed' ? weights.view : name === 'Product Added' ? weights.add : undefined;
  if (weight === undefined) return [];
  const properties = fieldsOf(event.properties);
  const productId = productIdOf(properties) ?? null;
  return productMentions(
    productId,
    textField(properties, 'name') ?? null,
    textField(properties, 'category') ?? null,
    weight,
  );
}

function productMentions(
  productId: string | null,
  name: string | null,
  category: string | null,
  weight: number,
): Mention[] {
  const mentions: Mention[] = [];
  if (productId !== null) mentions.push({ kind: 'product', id: productId, name, weight });
  if (category !== null) mentions.push({ kind: 'category', id: category, name: category, weight });
  return mentions;
}

function strongest(interests: InterestScore[], millis: number, halfLifeDays: number): InterestScore[] {
  if (interests.length <= maxInterests) return interests;
  const ranked = interests
    .map((interest) => ({ interest, score: decayedScore(interest, millis, halfLifeDays) }))
    .sort((a, b) => b.score - a.score || byKey(a.interest, b.interest));
  return ranked.slice(0, maxInterests).map((entry) => entry.interest);
}

function interestKey(interest: Pick<InterestScore, 'kind' | 'id'>): string {
  return `${interest.kind}\u0000${interest.id}`;
}

export function byKey(a: Pick<InterestScore, 'kind' | 'id'>, b: Pick<InterestScore, 'kind' | 'id'>): number {
  return compareText(interestKey(a), interestKey(b));
}
