import type { Random } from './random.ts';

/** The shop the synthetic customers visit: its catalog, its pages, and products as Segment properties. */
export interface Product {
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

export function buildCatalog(random: Random): Product[] {
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
export function popularProduct(random: Random, catalog: readonly Product[]): Product {
  const product = catalog[Math.floor(catalog.length * random.next() ** 2)];
  if (!product) throw new Error('empty catalog');
  return product;
}

/** A product as the Segment e-commerce spec lists it in event properties. */
export function productProperties(product: Product, quantity?: number): Record<string, unknown> {
  return {
    product_id: product.product_id,
    sku: product.sku,
    name: product.name,
    brand: product.brand,
    category: product.category,
    price: price(product.priceCents),
    ...(quantity === undefined ? {} : { quantity }),
    url: product.url,
    image_url: product.image_url,
  };
}

export function price(cents: number): number {
  return cents / 100;
}

export interface PageInfo {
  path: string;
  referrer: string;
  search: string;
  title: string;
  url: string;
}

/** A page of the shop: a product page, a named path, or the home page; a campaign adds its utm_ query. */
export function pageInfo(
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
