import type { IngestEvent } from '#events/ingest-event.ts';
import { addMinor, multiplyMinor } from '../money.ts';
import { trackName } from './event-kinds.ts';
import type { Instant } from './instant.ts';
import type { PlacedOrder } from './orders.ts';
import { type ProductLine, productIdOf, readProductLine, readProductLines } from './product-line.ts';
import { countField, currencyField, type Fields, fieldsOf } from './segment-fields.ts';

/**
 * The shopping cart as the latest cart events describe it: adds and removes edit it, a cart view or
 * checkout that lists its products replaces it, and an order converts it.
 */
export interface CartItem {
  productId: string;
  name: string | null;
  /** Unit price in minor units of the cart's currency; null when no event told it. */
  price: number | null;
  quantity: number;
}

export interface Cart {
  /** In the order they were first added; at most `maxCartItems`. */
  items: CartItem[];
  /** Sum of price times quantity over the items with a known price, in minor units. */
  value: number;
  currency: string | null;
  updatedAt: string | null;
  status: 'open' | 'converted' | 'empty';
}

/**
 * The most products a cart holds. Adding another drops the one added longest ago (items keep the
 * place where they were first added), and a cart view that lists more keeps its last ones. The cart
 * is folded in event order, so a replay drops the same products as incremental folding.
 */
export const maxCartItems = 100;

export function emptyCart(): Cart {
  return { items: [], value: 0, currency: null, updatedAt: null, status: 'empty' };
}

export function foldCart(
  cart: Cart,
  event: IngestEvent,
  placed: PlacedOrder | undefined,
  when: Instant,
  mainCurrency: string,
): Cart {
  const properties = fieldsOf(event.properties);
  const currency = currencyField(properties) ?? cart.currency ?? mainCurrency;
  switch (trackName(event)) {
    case 'Product Added':
      return added(cart, readProductLine(properties, currency), currency, when);
    case 'Product Removed':
      return removed(cart, properties, when);
    case 'Cart Viewed':
    case 'Checkout Started':
      return snapshot(cart, readProductLines(properties, currency), currency, when);
    case 'Order Completed':
      // The next cart starts afresh: its currency is whatever its own events say.
      return placed === undefined ? cart : { ...emptyCart(), updatedAt: when.at, status: 'converted' };
    default:
      return cart;
  }
}

function added(cart: Cart, line: ProductLine | undefined, currency: string, when: Instant): Cart {
  if (line === undefined) return cart;
  // Prices in the cart's old currency mean nothing in the new one, until an event tells them again.
  const items =
    cart.currency === currency ? cart.items : cart.items.map((item) => ({ ...item, price: null }));
  const existing = items.find((item) => item.productId === line.productId);
  const item: CartItem = {
    productId: line.productId,
    name: line.name ?? existing?.name ?? null,
    price: line.price ?? existing?.price ?? null,
    quantity: Math.min((existing?.quantity ?? 0) + line.quantity, Number.MAX_SAFE_INTEGER),
  };
  const next =
    existing === undefined ? [...items, item] : items.map((other) => (other === existing ? item : other));
  return withItems(next, currency, when);
}

/** Removes the given quantity of the product, or all of it when no quantity is given. */
function removed(cart: Cart, properties: Fields | undefined, when: Instant): Cart {
  const productId = productIdOf(properties);
  const existing = cart.items.find((item) => item.productId === productId);
  if (existing === undefined) return cart;
  const quantity = existing.quantity - (countField(properties, 'quantity') ?? existing.quantity);
  const items =
    quantity > 0
      ? cart.items.map((item) => (item === existing ? { ...item, quantity } : item))
      : cart.items.filter((item) => item !== existing);
  return withItems(items, cart.currency, when);
}

function snapshot(cart: Cart, lines: ProductLine[] | undefined, currency: string, when: Instant): Cart {
  if (lines === undefined) return cart;
  const items: CartItem[] = [];
  for (const line of lines) {
    const index = items.findIndex((item) => item.productId === line.productId);
    const earlier = items[index];
    const item: CartItem = {
      productId: line.productId,
      name: line.name ?? earlier?.name ?? null,
      price: line.price ?? earlier?.price ?? null,
      quantity: (earlier?.quantity ?? 0) + line.quantity,
    };
    if (earlier === undefined) items.push(item);
    else items[index] = item;
  }
  return withItems(items, currency, when);
}

function withItems(all: CartItem[], currency: string | null, when: Instant): Cart {
  const items = all.length > maxCartItems ? all.slice(all.length - maxCartItems) : all;
  const value = items.reduce((sum, item) => addMinor(sum, multiplyMinor(item.price ?? 0, item.quantity)), 0);
  return { items, value, currency, updatedAt: when.at, status: items.length > 0 ? 'open' : 'empty' };
}
