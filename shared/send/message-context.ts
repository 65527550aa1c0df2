import type { Campaign } from '../campaigns/campaign.ts';
import type { Catalog } from '../campaigns/catalog.ts';
import type { EngagementSettings } from '../engagement/settings.ts';
import type { EngagementState } from '../engagement/state.ts';
import { viewCustomer } from '../engagement/view.ts';
import { unsubscribeLinks } from '../messages/links.ts';
import { promoCode, promoExpiry } from '../messages/promo.ts';
import { recommend } from '../messages/recommendations.ts';
import type { MessageContext } from '../messages/render.ts';

export interface Personalization {
  context: MessageContext;
  headers: Record<string, string>;
}

/**
 * What a campaign's templates see for one customer and one occurrence, and the headers of that
 * mail: the customer as the read API shows them at `at`, what to recommend, their personal promo
 * code, and the signed unsubscribe link.
 */
export function personalize(input: {
  catalog: Catalog;
  campaign: Campaign;
  profileId: string;
  state: EngagementState;
  occurrence: string;
  at: Date;
  trigger: Record<string, unknown>;
  settings: EngagementSettings;
  secret: string;
}): Personalization {
  const { catalog, campaign, profileId, state, at, settings, secret } = input;
  const unsubscribe = unsubscribeLinks({
    secret,
    sending: catalog.sending,
    campaignId: campaign.id,
    customerId: profileId,
    occurrence: input.occurrence,
  });
  const promo = campaign.promo;
  return {
    context: {
      campaign: { id: campaign.id, name: campaign.name },
      customer: viewCustomer(state, at, settings),
      recommendations: recommend(state, at, settings, catalog.sending.complementaryCategories),
      ...(promo && {
        promo: {
          code: promoCode(secret, promo, campaign.id, profileId),
          expiresAt: promoExpiry(at, promo.validDays),
        },
      }),
      links: { unsubscribe: unsubscribe.url },
      trigger: input.trigger,
    },
    headers: unsubscribe.headers,
  };
}
