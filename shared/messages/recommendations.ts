import { byKey, decayedScore, type InterestScore } from '../engagement/interests.ts';
import type { EngagementSettings } from '../engagement/settings.ts';
import type { EngagementState } from '../engagement/state.ts';

/**
 * What to show a customer: the products they are most interested in, minus what they already own,
 * and the categories they are interested in, topped up with categories that go with those and with
 * what they bought (`sending.complementaryCategories`).
 */
export interface Recommendations {
  products: Recommended[];
  categories: Recommended[];
}

export interface Recommended {
  id: string;
  name: string | null;
}

export function recommend(
  state: EngagementState,
  at: Date,
  settings: EngagementSettings,
  complementary: Record<string, string[]>,
  limit = 3,
): Recommendations {
  const owned = new Set(state.orders.productIds);
  const products = strongest(state.interests, 'product', at, settings)
    .filter((interest) => !owned.has(interest.id))
    .slice(0, limit)
    .map(recommended);

  const categories = strongest(state.interests, 'category', at, settings).slice(0, limit).map(recommended);
  const listed = new Set(categories.map((category) => category.id));
  // The most recent purchase says most about what goes with it: bought categories are kept oldest first.
  const bought = [...(state.orders.categories ?? [])].reverse();
  const related = [...categories.map((category) => category.id), ...bought].flatMap(
    (category) => complementary[category] ?? [],
  );
  for (const category of related) {
    if (categories.length >= limit) break;
    if (listed.has(category)) continue;
    listed.add(category);
    // A category's id is its name (the fold names category interests that way too).
    categories.push({ id: category, name: category });
  }
  return { products, categories };
}

/** The interests of one kind, strongest first at `at`; ties by id, so the order is stable. */
function strongest(
  interests: readonly InterestScore[],
  kind: InterestScore['kind'],
  at: Date,
  settings: EngagementSettings,
): InterestScore[] {
  return interests
    .filter((interest) => interest.kind === kind)
    .map((interest) => ({
      interest,
      score: decayedScore(interest, at.getTime(), settings.interestHalfLifeDays),
    }))
    .filter(({ score }) => score > 0)
    .sort((a, b) => b.score - a.score || byKey(a.interest, b.interest))
    .map(({ interest }) => interest);
}

function recommended(interest: InterestScore): Recommended {
  return { id: interest.id, name: interest.name };
}
