/**
 * Deterministic synthetic shop traffic in the Segment format, as analytics.js (browser) and a server
 * library (mail events from the ESP) send it. The same seed and sizes give the same events, ids and
 * timestamps, byte for byte.
 *
 * Each customer walks a journey of sessions: an anonymous landing page (UTM campaign, referrer or
 * direct), product pages and "Product Viewed", cart changes, an identify that links the anonymousId,
 * checkout and "Order Completed" for buyers, and later newsletter opens and clicks that bring them
 * back. What was generated for each customer is kept, so that a run can check what the system made
 * of it.
 */

export interface SyntheticOptions {
  events: number;
  customers: number;
  seed: string;
  /** The earliest first visit, ISO 8601; default 2026-10-01T00:00:00.000Z. */
  start?: string;
  /** Every event falls within this many days of the start. Default 28. */
  days?: number;
}

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

/** What the generator produced for one customer: what a correct ingest must show for them. */
export interface CustomerOutcome {
  index: number;
  persona: Persona;
  anonymousId: string;
  /** Set when the journey reached its identify call. */
  userId?: string;
  email?: string;
  events: number;
  orders: number;
  /** Sum of `revenue` of their orders, in cents (USD). */
  revenueCents: number;
}

export interface SyntheticData {
  /** All events in time order (timestamp, then messageId), each with the index of its customer. */
  events: { customer: number; millis: number; event: SyntheticEvent }[];
  customers: CustomerOutcome[];
  counts: Record<string, number>;
  firstTimestamp: string;
  lastTimestamp: string;
}

export type Persona = 'buyer' | 'subscriber' | 'visitor';

export function generateTraffic(options: SyntheticOptions): SyntheticData {
  const { events: total, customers: customerCount } = options;
  if (!Number.isInteger(customerCount) || customerCount < 1) throw new Error('customers must be at least 1');
  if (!Number.isInteger(total) || total < customerCount) {
    throw new Error(`events (${total}) must be a whole number of at least the customers (${customerCount})`);
  }
  const random = seededRandom(options.seed);
  const catalog = buildCatalog(random);
  const start = Date.parse(options.start ?? '2026-10-01T00:00:00.000Z');
  const end = start + (options.days ?? 28) * day;
  const sizes = journeyLengths(random, total, customerCount);

  const all: SyntheticData['events'] = [];
  const customers: CustomerOutcome[] = [];
  const counts: Record<string, number> = {};
  sizes.forEach((size, index) => {
    // First visits fall in the first half of the window; a journey's sessions spread over the rest.
    const firstVisit = start + random.next() * ((end - start) / 2);
    const plan = planCustomer(random, index, firstVisit, (end - firstVisit) / Math.max(1, size / 7));
    const outcome: CustomerOutcome = {
      index,
      persona: plan.persona,
      anonymousId: plan.anonymousId,
      events: 0,
      orders: 0,
      revenueCents: 0,
    };
    const journey = customerJourney(random, catalog, plan);
    for (let taken = 0; taken < size; taken++) {
      const next = journey.next();
      if (next.done) throw new Error('a customer journey ended early');
      const { event, orderCents } = next.value;
      all.push({ customer: index, millis: Date.parse(event.timestamp), event });
      outcome.events++;
      const kind = event.type === 'track' ? (event.event ?? 'track') : event.type;
      counts[kind] = (counts[kind] ?? 0) + 1;
      if (event.type === 'identify' && event.userId) {
        outcome.userId = event.userId;
        outcome.email = String(event.traits?.email);
      }
      if (orderCents !== undefined) {
        outcome.orders++;
        outcome.revenueCents += orderCents;
      }
    }
    customers.push(outcome);
  });
  all.sort((a, b) => a.millis - b.millis || compare(a.event.messageId, b.event.messageId));
  return {
    events: all,
    customers,
    counts,
    firstTimestamp: all[0]?.event.timestamp ?? '',
    lastTimestamp: all.at(-1)?.event.timestamp ?? '',
  };
}

const second = 1_000;
const minute = 60 * second;
const hour = 60 * minute;
const day = 24 * hour;

// ---------------------------------------------------------------------------------------------------
// Randomness

export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  int(min: number, max: number): number;
  chance(probability: number): boolean;
  pick<T>(items: readonly T[]): T;
  hex(length: number): string;
  uuid(): string;
  /** Standard normal. */
  normal(): number;
}

/** sfc32 seeded through cyrb128: small, fast, and the same on every platform. */
export function seededRandom(seed: string): Random {
  let [a, b, c, d] = cyrb128(seed);
  const next = (): number => {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  const int = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1));
  const hex = (length: number): string => {
    let text = '';
    while (text.length < length)
      text += Math.floor(next() * 0x10000)
        .toString(16)
        .padStart(4, '0');
    return text.slice(0, length);
  };
  return {
    next,
    int,
    chance: (probability) => next() < probability,
    pick: <T>(items: readonly T[]): T => {
      const item = items[Math.floor(next() * items.length)];
      if (item === undefined) throw new Error('pick from an empty list');
      return item;
    },
    hex,
    uuid: () => {
      const digits = hex(32);
      const variant = ((Number.parseInt(digits[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
      return `${digits.slice(0, 8)}-${digits.slice(8, 12)}-4${digits.slice(13, 16)}-${variant}${digits.slice(17, 20)}-${digits.slice(20, 32)}`;
    },
    normal: () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next()),
  };
}

function cyrb128(text: string): [number, number, number, number] {
  let h1 = 1779033703;
  let h2 = 3144134277;
  let h3 = 1013904242;
  let h4 = 2773480762;
  for (let i = 0; i < text.length; i++) {
    const k = text.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Events per customer, summing to `total`, at least one each: log-normal, as real traffic is (most
 * visitors leave after a page or two, a few browse for weeks).
 */
function journeyLengths(random: Random, total: number, customers: number): number[] {
  const weights = Array.from({ length: customers }, () => Math.exp(0.9 * random.normal()));
  const weightSum = weights.reduce((sum, weight) => sum + weight, 0);
  const spare = total - customers;
  const shares = weights.map((weight) => (spare * weight) / weightSum);
  const sizes = shares.map((share) => 1 + Math.floor(share));
  let missing = total - sizes.reduce((sum, size) => sum + size, 0);
  const byRemainder = shares
    .map((share, index) => ({ index, remainder: share - Math.floor(share) }))
    .sort((a, b) => b.remainder - a.remainder || a.index - b.index);
  for (const { index } of byRemainder) {
    if (missing === 0) break;
    sizes[index] = (sizes[index] ?? 0) + 1;
    missing--;
  }
  return sizes;
}

// ---------------------------------------------------------------------------------------------------
// The shop

interface Product {
  product_id: string;
  sku: string;
  name: string;
  brand: string;
  category: string;
  /** Cents. */
  priceCents: number;
  url: string;
  image_url: string;
}

const categories: { name: string; slug: string; nouns: string[]; minPrice: number; maxPrice: number }[] = [
  {
    name: 'Easels',
    slug: 'easels',
    nouns: ['Field Easel', 'Studio Easel', 'Table Easel'],
    minPrice: 39,
    maxPrice: 289,
  },
  {
    name: 'Paints',
    slug: 'paints',
    nouns: ['Oil Colour', 'Acrylic Set', 'Gouache Tube'],
    minPrice: 4,
    maxPrice: 79,
  },
  {
    name: 'Brushes',
    slug: 'brushes',
    nouns: ['Round Brush', 'Flat Brush', 'Brush Set'],
    minPrice: 3,
    maxPrice: 49,
  },
  {
    name: 'Canvas',
    slug: 'canvas',
    nouns: ['Stretched Canvas', 'Canvas Panel', 'Canvas Roll'],
    minPrice: 6,
    maxPrice: 119,
  },
  {
    name: 'Sketchbooks',
    slug: 'sketchbooks',
    nouns: ['Sketchbook', 'Travel Journal'],
    minPrice: 6,
    maxPrice: 34,
  },
  {
    name: 'Pencils',
    slug: 'pencils',
    nouns: ['Graphite Pencils', 'Colour Pencils', 'Charcoal Set'],
    minPrice: 2,
    maxPrice: 59,
  },
  {
    name: 'Paper',
    slug: 'paper',
    nouns: ['Watercolour Pad', 'Drawing Paper', 'Pastel Paper'],
    minPrice: 5,
    maxPrice: 45,
  },
];
const adjectives = [
  'Classic',
  'Studio',
  'Pro',
  'Artist',
  'Compact',
  'Heritage',
  'Plein Air',
  'Student',
  'Deluxe',
];
const brands = [
  'Winsor & Newton',
  'Daler-Rowney',
  'Sennelier',
  'Faber-Castell',
  'Canson',
  'Jullian',
  'Mabef',
];

function buildCatalog(random: Random): Product[] {
  const products: Product[] = [];
  for (const category of categories) {
    for (let n = 0; n < 24; n++) {
      const name = `${random.pick(adjectives)} ${random.pick(category.nouns)} ${n + 1}`;
      const dollars = random.int(category.minPrice, category.maxPrice);
      const cents = random.pick([0, 49, 90, 95, 99]);
      const slug = `${category.slug}-${String(n + 1).padStart(3, '0')}`;
      products.push({
        product_id: `prod_${slug}`,
        sku: `${category.slug.slice(0, 3).toUpperCase()}-${random.hex(6).toUpperCase()}`,
        name,
        brand: random.pick(brands),
        category: category.name,
        priceCents: dollars * 100 + cents,
        url: `https://shop.example/products/${slug}`,
        image_url: `https://cdn.shop.example/img/${slug}.jpg`,
      });
    }
  }
  return products;
}

/** A few products sell most: the index is skewed towards the front. */
function popularProduct(random: Random, catalog: readonly Product[]): Product {
  const product = catalog[Math.floor(catalog.length * random.next() ** 2)];
  if (!product) throw new Error('empty catalog');
  return product;
}

function price(cents: number): number {
  return cents / 100;
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
const userAgents = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0',
];
const firstNames = [
  'Ada',
  'Grace',
  'Frida',
  'Claude',
  'Henri',
  'Mary',
  'Pablo',
  'Georgia',
  'Berthe',
  'Edgar',
];
const lastNames = [
  'Lovelace',
  'Hopper',
  'Kahlo',
  'Monet',
  'Matisse',
  'Cassatt',
  'Picasso',
  "O'Keeffe",
  'Morisot',
];
const locales = ['en-US', 'en-GB', 'de-DE', 'fr-FR'];
const timezones = ['America/New_York', 'America/Los_Angeles', 'Europe/London', 'Europe/Berlin'];

// ---------------------------------------------------------------------------------------------------
// Journeys

interface CustomerPlan {
  index: number;
  persona: Persona;
  anonymousId: string;
  userId: string;
  firstName: string;
  lastName: string;
  email: string;
  subscribed: boolean;
  /** Orders a buyer places if their journey lasts long enough. */
  plannedOrders: number;
  firstVisit: number;
  /** The mean pause between sessions, so that long journeys still end within the window. */
  sessionGap: number;
  browser: { userAgent: string; locale: string; timezone: string };
}

function planCustomer(random: Random, index: number, firstVisit: number, sessionGap: number): CustomerPlan {
  const roll = random.next();
  const persona: Persona = roll < 0.35 ? 'buyer' : roll < 0.65 ? 'subscriber' : 'visitor';
  const firstName = random.pick(firstNames);
  const lastName = random.pick(lastNames);
  const userId = `usr_${index.toString(36)}${random.hex(10)}`;
  const orderRoll = random.next();
  return {
    index,
    persona,
    anonymousId: random.uuid(),
    userId,
    firstName,
    lastName,
    email: `${firstName}.${lastName.replace(/\W/g, '')}.${index}@mail.example`.toLowerCase(),
    subscribed: random.chance(0.7),
    plannedOrders: orderRoll < 0.75 ? 1 : orderRoll < 0.95 ? 2 : 3,
    firstVisit,
    sessionGap: Math.min(sessionGap, 3 * day),
    browser: {
      userAgent: random.pick(userAgents),
      locale: random.pick(locales),
      timezone: random.pick(timezones),
    },
  };
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

/** The customer's events, endless; the caller takes as many as the customer's share. */
function* customerJourney(
  random: Random,
  catalog: readonly Product[],
  plan: CustomerPlan,
): Generator<JourneyStep> {
  let now = plan.firstVisit;
  let identified = false;
  let ordersPlaced = 0;
  let cart: CartLine[] = [];
  const cartId = `cart_${random.hex(16)}`;
  let viewed: Product[] = [];

  const browserContext = (page: PageInfo, campaign?: Record<string, string>): Record<string, unknown> => ({
    library: { name: 'analytics.js', version: 'npm:next-1.72.0' },
    userAgent: plan.browser.userAgent,
    locale: plan.browser.locale,
    timezone: plan.browser.timezone,
    page: { path: page.path, referrer: page.referrer, search: page.search, title: page.title, url: page.url },
    ...(campaign ? { campaign } : {}),
  });
  const ids = (): { anonymousId: string; userId?: string } =>
    identified ? { anonymousId: plan.anonymousId, userId: plan.userId } : { anonymousId: plan.anonymousId };
  const step = (gapMin: number, gapMax: number): string => {
    now += random.int(gapMin, gapMax) * second + random.int(0, 999);
    return new Date(now).toISOString();
  };
  const browserMessageId = (): string => `ajs-next-${random.hex(32)}`;
  const line = (product: Product, quantity?: number): Record<string, unknown> => ({
    product_id: product.product_id,
    sku: product.sku,
    name: product.name,
    brand: product.brand,
    category: product.category,
    price: price(product.priceCents),
    ...(quantity === undefined ? {} : { quantity }),
    url: product.url,
    image_url: product.image_url,
  });

  for (let session = 0; session < 100_000; session++) {
    if (session > 0) now += Math.round(plan.sessionGap * (0.2 + 1.2 * random.next()));

    // A returning subscriber often comes back through a newsletter, which the ESP reports server-side.
    let campaign: Record<string, string> | undefined;
    let referrer = '';
    if (session > 0 && identified && random.chance(0.4)) {
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
          timestamp: step(0, 0),
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
            timestamp: step(20, 600),
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

    // Landing page.
    const landingProduct = random.chance(0.4) ? popularProduct(random, catalog) : undefined;
    const landing = pageInfo(landingProduct, referrer, campaign);
    yield {
      event: {
        type: 'page',
        name: landing.title,
        messageId: browserMessageId(),
        timestamp: step(1, 5),
        ...ids(),
        properties: { ...landing },
        context: browserContext(landing, campaign),
      },
    };

    // Browsing.
    const views = random.int(1, 4);
    for (let v = 0; v < views; v++) {
      const product = v === 0 && landingProduct ? landingProduct : popularProduct(random, catalog);
      const page = pageInfo(product, landing.url, undefined);
      if (v > 0 || !landingProduct) {
        yield {
          event: {
            type: 'page',
            name: page.title,
            messageId: browserMessageId(),
            timestamp: step(10, 120),
            ...ids(),
            properties: { ...page },
            context: browserContext(page),
          },
        };
      }
      viewed = [...viewed.slice(-7), product];
      yield {
        event: {
          type: 'track',
          event: 'Product Viewed',
          messageId: browserMessageId(),
          timestamp: step(1, 20),
          ...ids(),
          properties: { ...line(product), currency: 'USD' },
          context: browserContext(page),
        },
      };
    }

    // Cart.
    const page = pageInfo(viewed.at(-1), landing.url, undefined);
    if (random.chance(plan.persona === 'buyer' ? 0.75 : 0.3)) {
      const product = viewed.at(-1) ?? popularProduct(random, catalog);
      const quantity = random.chance(0.8) ? 1 : random.int(2, 3);
      cart = [...cart.filter((item) => item.product !== product), { product, quantity }];
      yield {
        event: {
          type: 'track',
          event: 'Product Added',
          messageId: browserMessageId(),
          timestamp: step(5, 90),
          ...ids(),
          properties: { cart_id: cartId, ...line(product, quantity), currency: 'USD' },
          context: browserContext(page),
        },
      };
      if (cart.length > 1 && random.chance(0.2)) {
        const removed = random.pick(cart);
        cart = cart.filter((item) => item !== removed);
        yield {
          event: {
            type: 'track',
            event: 'Product Removed',
            messageId: browserMessageId(),
            timestamp: step(5, 60),
            ...ids(),
            properties: { cart_id: cartId, ...line(removed.product, removed.quantity), currency: 'USD' },
            context: browserContext(page),
          },
        };
      }
      if (random.chance(0.6)) {
        const cartPage = pageInfo(undefined, page.url, undefined, '/cart', 'Your cart');
        yield {
          event: {
            type: 'track',
            event: 'Cart Viewed',
            messageId: browserMessageId(),
            timestamp: step(3, 40),
            ...ids(),
            properties: { cart_id: cartId, products: cart.map((item) => line(item.product, item.quantity)) },
            context: browserContext(cartPage),
          },
        };
      }
    }

    // Sign-up or log-in: identify links the anonymousId to the customer.
    if (!identified && plan.persona !== 'visitor' && (session > 0 || cart.length > 0 || random.chance(0.3))) {
      identified = true;
      const accountPage = pageInfo(undefined, page.url, undefined, '/account/welcome', 'Welcome');
      yield {
        event: {
          type: 'identify',
          messageId: browserMessageId(),
          timestamp: step(10, 90),
          ...ids(),
          traits: {
            email: plan.email,
            firstName: plan.firstName,
            lastName: plan.lastName,
            subscribed: plan.subscribed,
          },
          context: browserContext(accountPage),
        },
      };
    }

    // Checkout.
    if (
      plan.persona === 'buyer' &&
      identified &&
      cart.length > 0 &&
      ordersPlaced < plan.plannedOrders &&
      random.chance(0.8)
    ) {
      const orderId = `ord_${random.hex(12)}`;
      const revenueCents = cart.reduce((sum, item) => sum + item.product.priceCents * item.quantity, 0);
      const shippingCents = revenueCents >= 5000 ? 0 : 599;
      const taxCents = Math.round(revenueCents * 0.08);
      const products = cart.map((item) => line(item.product, item.quantity));
      const checkoutPage = pageInfo(undefined, page.url, undefined, '/checkout', 'Checkout');
      yield {
        event: {
          type: 'track',
          event: 'Checkout Started',
          messageId: browserMessageId(),
          timestamp: step(10, 120),
          ...ids(),
          properties: {
            order_id: orderId,
            value: price(revenueCents),
            revenue: price(revenueCents),
            currency: 'USD',
            products,
          },
          context: browserContext(checkoutPage),
        },
      };
      const thanksPage = pageInfo(undefined, checkoutPage.url, undefined, '/checkout/thank-you', 'Thank you');
      yield {
        orderCents: revenueCents,
        event: {
          type: 'track',
          event: 'Order Completed',
          messageId: browserMessageId(),
          timestamp: step(60, 400),
          ...ids(),
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
          context: browserContext(thanksPage),
        },
      };
      ordersPlaced++;
      cart = [];
    }
  }
}

interface PageInfo {
  path: string;
  referrer: string;
  search: string;
  title: string;
  url: string;
}

function pageInfo(
  product: Product | undefined,
  referrer: string,
  campaign: Record<string, string> | undefined,
  path?: string,
  title?: string,
): PageInfo {
  const search = campaign
    ? `?${Object.entries(campaign)
        .map(([key, value]) => `utm_${key === 'name' ? 'campaign' : key}=${encodeURIComponent(value)}`)
        .join('&')}`
    : '';
  const pagePath = path ?? (product ? new URL(product.url).pathname : '/');
  return {
    path: pagePath,
    referrer,
    search,
    title: title ?? (product ? `${product.name} | Shop` : 'Art supplies for every studio | Shop'),
    url: `https://shop.example${pagePath}${search}`,
  };
}
