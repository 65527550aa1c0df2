import type { CustomerPlan } from './customers.ts';
import type { Random } from './random.ts';
import { type PageInfo, type Product, pageInfo, popularProduct, price, productProperties } from './shop.ts';

/**
 * One customer's events, session after session: how they arrive (newsletter, campaign, referrer or
 * direct), the landing page and the products they view, cart changes, the identify that links their
 * anonymousId, and checkout for buyers. Every random draw happens in a fixed order, so that a seed
 * gives the same events byte for byte.
 */
export interface SyntheticEvent {
  type: 'page' | 'track' | 'identify';
  messageId: string;
  timestamp: string;
  anonymousId?: string;
  userId?: string;
  event?: string;
  name?: string;
  properties?: Record<string, unknown>;
  traits?: Record<string, unknown>;
  context: Record<string, unknown>;
}

interface JourneyStep {
  event: SyntheticEvent;
  /** Set on "Order Completed": its revenue in cents. */
  orderCents?: number;
}

interface CartLine {
  product: Product;
  quantity: number;
}

/** What a journey carries from one step to the next. */
interface Journey {
  random: Random;
  catalog: readonly Product[];
  plan: CustomerPlan;
  now: number;
  identified: boolean;
  ordersPlaced: number;
  cart: CartLine[];
  cartId: string;
  /** The last few products viewed, most recent last. */
  viewed: Product[];
}

/** Where a session comes from: a campaign (UTM parameters), a referrer, or neither (direct). */
interface Arrival {
  campaign: Record<string, string> | undefined;
  referrer: string;
}

const second = 1_000;

/** The customer's events, endless; the caller takes as many as the customer's share. */
export function* customerJourney(
  random: Random,
  catalog: readonly Product[],
  plan: CustomerPlan,
): Generator<JourneyStep> {
  const journey: Journey = {
    random,
    catalog,
    plan,
    now: plan.firstVisit,
    identified: false,
    ordersPlaced: 0,
    cart: [],
    cartId: `cart_${random.hex(16)}`,
    viewed: [],
  };
  for (let session = 0; session < 100_000; session++) {
    if (session > 0) journey.now += Math.round(plan.sessionGap * (0.2 + 1.2 * random.next()));
    const arrival = yield* arrive(journey, session);
    const landing = yield* browse(journey, arrival);
    const page = pageInfo(journey.viewed.at(-1), landing.url, undefined);
    if (random.chance(plan.persona === 'buyer' ? 0.75 : 0.3)) yield* changeCart(journey, page);
    // Sign-up or log-in: identify links the anonymousId to the customer.
    if (
      !journey.identified &&
      plan.persona !== 'visitor' &&
      (session > 0 || journey.cart.length > 0 || random.chance(0.3))
    ) {
      yield identify(journey, page);
    }
    if (
      plan.persona === 'buyer' &&
      journey.identified &&
      journey.cart.length > 0 &&
      journey.ordersPlaced < plan.plannedOrders &&
      random.chance(0.8)
    ) {
      yield* checkout(journey, page);
    }
  }
}

/** A returning subscriber often comes back through a newsletter, which the ESP reports server-side. */
function* arrive(journey: Journey, session: number): Generator<JourneyStep, Arrival> {
  const { random, plan } = journey;
  let campaign: Record<string, string> | undefined;
  let referrer = '';
  if (session > 0 && journey.identified && random.chance(0.4)) {
    const letter = random.pick(newsletters);
    const email = {
      email_id: `${letter.id}-${plan.index}`,
      email_subject: letter.subject,
      campaign_id: letter.id,
      campaign_name: letter.subject,
    };
    const serverContext = { library: { name: '@segment/analytics-node', version: '3.1.0' } };
    yield {
      event: {
        type: 'track',
        event: 'Email Opened',
        messageId: random.uuid(),
        timestamp: step(journey, 0, 0),
        userId: plan.userId,
        properties: email,
        context: serverContext,
      },
    };
    if (random.chance(0.6)) {
      const linkUrl = `https://shop.example/?utm_source=newsletter&utm_medium=email&utm_campaign=${letter.id}`;
      yield {
        event: {
          type: 'track',
          event: 'Email Link Clicked',
          messageId: random.uuid(),
          timestamp: step(journey, 20, 600),
          userId: plan.userId,
          properties: { ...email, link_id: `${letter.id}-hero`, link_url: linkUrl },
          context: serverContext,
        },
      };
      campaign = { source: 'newsletter', medium: 'email', name: letter.id };
    }
  }
  if (!campaign) {
    const roll = random.next();
    if (roll < 0.4) campaign = { ...random.pick(campaigns) };
    else if (roll < 0.8) referrer = random.pick(referrers);
  }
  return { campaign, referrer };
}

/** The landing page, then one to four products viewed; returns the landing page. */
function* browse(journey: Journey, arrival: Arrival): Generator<JourneyStep, PageInfo> {
  const { random, catalog } = journey;
  const landingProduct = random.chance(0.4) ? popularProduct(random, catalog) : undefined;
  const landing = pageInfo(landingProduct, arrival.referrer, arrival.campaign);
  yield {
    event: browserEvent(
      journey,
      landing,
      [1, 5],
      { type: 'page', name: landing.title },
      () => ({ properties: { ...landing } }),
      arrival.campaign,
    ),
  };
  const views = random.int(1, 4);
  for (let v = 0; v < views; v++) {
    const product = v === 0 && landingProduct ? landingProduct : popularProduct(random, catalog);
    const page = pageInfo(product, landing.url, undefined);
    if (v > 0 || !landingProduct) {
      yield {
        event: browserEvent(journey, page, [10, 120], { type: 'page', name: page.title }, () => ({
          properties: { ...page },
        })),
      };
    }
    journey.viewed = [...journey.viewed.slice(-7), product];
    yield {
      event: browserEvent(journey, page, [1, 20], { type: 'track', event: 'Product Viewed' }, () => ({
        properties: { ...productProperties(product), currency: 'USD' },
      })),
    };
  }
  return landing;
}

/** Adds the last product viewed, sometimes removes a line, and sometimes views the cart. */
function* changeCart(journey: Journey, page: PageInfo): Generator<JourneyStep> {
  const { random, cartId } = journey;
  const product = journey.viewed.at(-1) ?? popularProduct(random, journey.catalog);
  const quantity = random.chance(0.8) ? 1 : random.int(2, 3);
  journey.cart = [...journey.cart.filter((item) => item.product !== product), { product, quantity }];
  yield {
    event: browserEvent(journey, page, [5, 90], { type: 'track', event: 'Product Added' }, () => ({
      properties: { cart_id: cartId, ...productProperties(product, quantity), currency: 'USD' },
    })),
  };
  if (journey.cart.length > 1 && random.chance(0.2)) {
    const removed = random.pick(journey.cart);
    journey.cart = journey.cart.filter((item) => item !== removed);
    yield {
      event: browserEvent(journey, page, [5, 60], { type: 'track', event: 'Product Removed' }, () => ({
        properties: {
          cart_id: cartId,
          ...productProperties(removed.product, removed.quantity),
          currency: 'USD',
        },
      })),
    };
  }
  if (random.chance(0.6)) {
    const cartPage = pageInfo(undefined, page.url, undefined, '/cart', 'Your cart');
    yield {
      event: browserEvent(journey, cartPage, [3, 40], { type: 'track', event: 'Cart Viewed' }, () => ({
        properties: {
          cart_id: cartId,
          products: journey.cart.map((item) => productProperties(item.product, item.quantity)),
        },
      })),
    };
  }
}

function identify(journey: Journey, page: PageInfo): JourneyStep {
  const { plan } = journey;
  journey.identified = true;
  const accountPage = pageInfo(undefined, page.url, undefined, '/account/welcome', 'Welcome');
  return {
    event: browserEvent(journey, accountPage, [10, 90], { type: 'identify' }, () => ({
      traits: {
        email: plan.email,
        firstName: plan.firstName,
        lastName: plan.lastName,
        subscribed: plan.subscribed,
      },
    })),
  };
}

/** "Checkout Started" and "Order Completed" for the whole cart, which is then empty. */
function* checkout(journey: Journey, page: PageInfo): Generator<JourneyStep> {
  const { random } = journey;
  const orderId = `ord_${random.hex(12)}`;
  const revenueCents = journey.cart.reduce((sum, item) => sum + item.product.priceCents * item.quantity, 0);
  const shippingCents = revenueCents >= 5000 ? 0 : 599;
  const taxCents = Math.round(revenueCents * 0.08);
  const products = journey.cart.map((item) => productProperties(item.product, item.quantity));
  const checkoutPage = pageInfo(undefined, page.url, undefined, '/checkout', 'Checkout');
  yield {
    event: browserEvent(
      journey,
      checkoutPage,
      [10, 120],
      { type: 'track', event: 'Checkout Started' },
      () => ({
        properties: {
          order_id: orderId,
          value: price(revenueCents),
          revenue: price(revenueCents),
          currency: 'USD',
          products,
        },
      }),
    ),
  };
  const thanksPage = pageInfo(undefined, checkoutPage.url, undefined, '/checkout/thank-you', 'Thank you');
  yield {
    orderCents: revenueCents,
    event: browserEvent(journey, thanksPage, [60, 400], { type: 'track', event: 'Order Completed' }, () => ({
      properties: {
        checkout_id: `chk_${random.hex(10)}`,
        order_id: orderId,
        affiliation: 'shop.example',
        total: price(revenueCents + shippingCents + taxCents),
        revenue: price(revenueCents),
        shipping: price(shippingCents),
        tax: price(taxCents),
        currency: 'USD',
        products,
      },
    })),
  };
  journey.ordersPlaced++;
  journey.cart = [];
}

/** Moves the journey's clock on by a pause between the bounds (seconds, plus random milliseconds). */
function step(journey: Journey, gapMin: number, gapMax: number): string {
  journey.now += journey.random.int(gapMin, gapMax) * second + journey.random.int(0, 999);
  return new Date(journey.now).toISOString();
}

function ids(journey: Journey): { anonymousId: string; userId?: string } {
  const { anonymousId, userId } = journey.plan;
  return journey.identified ? { anonymousId, userId } : { anonymousId };
}

/**
 * A call analytics.js makes from the customer's browser on `page`. The body is built after the message
 * id and the timestamp, so that its random draws (an order's checkout id) keep their place.
 */
function browserEvent(
  journey: Journey,
  page: PageInfo,
  [gapMin, gapMax]: readonly [number, number],
  call: { type: 'page'; name: string } | { type: 'track'; event: string } | { type: 'identify' },
  body: () => Pick<SyntheticEvent, 'properties' | 'traits'>,
  campaign?: Record<string, string>,
): SyntheticEvent {
  return {
    ...call,
    messageId: `ajs-next-${journey.random.hex(32)}`,
    timestamp: step(journey, gapMin, gapMax),
    ...ids(journey),
    ...body(),
    context: browserContext(journey.plan, page, campaign),
  };
}

function browserContext(
  plan: CustomerPlan,
  page: PageInfo,
  campaign?: Record<string, string>,
): Record<string, unknown> {
  return {
    library: { name: 'analytics.js', version: 'npm:next-1.72.0' },
    userAgent: plan.browser.userAgent,
    locale: plan.browser.locale,
    timezone: plan.browser.timezone,
    page: { path: page.path, referrer: page.referrer, search: page.search, title: page.title, url: page.url },
    ...(campaign ? { campaign } : {}),
  };
}

const campaigns: Record<string, string>[] = [
  { source: 'google', medium: 'cpc', name: 'brand-search', term: 'art supplies' },
  { source: 'facebook', medium: 'paid_social', name: 'autumn-sale', content: 'carousel-easels' },
  { source: 'instagram', medium: 'social', name: 'influencer-oct' },
  { source: 'partner-blog', medium: 'referral', name: 'easel-review' },
  { source: 'pinterest', medium: 'paid_social', name: 'sketch-club' },
];
const referrers = [
  'https://www.google.com/',
  'https://duckduckgo.com/',
  'https://www.bing.com/',
  'https://www.pinterest.com/',
  'https://www.reddit.com/r/painting/',
  'https://blog.artreview.example/best-field-easels',
];
const newsletters = [
  { id: 'nl-2026-40', subject: 'New in: plein air season' },
  { id: 'nl-2026-41', subject: 'Your autumn palette' },
  { id: 'nl-2026-42', subject: 'Brushes the pros use' },
  { id: 'nl-2026-43', subject: 'Last days: 20% off canvas' },
];
