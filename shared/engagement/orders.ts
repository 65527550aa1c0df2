import type { IngestEvent } from '#events/ingest-event.ts';
import { addMinor, multiplyMinor, toMinor } from '../money.ts';
import { compareText, recentUnique } from './collation.ts';
import { trackName } from './event-kinds.ts';
import { earlierAt, type Instant, laterAt } from './instant.ts';
import { type ProductLine, readProductLines } from './product-line.ts';
import { amountField, currencyField, type Fields, fieldsOf, idField } from './segment-fields.ts';

/**
 * Orders and lifetime value. Shops resend "Order Completed", so an order counts once per order_id;
 * the ledger remembers each order's amount so that a refund can take back no more than was paid.
 */
export interface Orders {
  count: number;
  /** Net of refunds, in minor units, per currency. */
  revenue: Record<string, number>;
  firstOrderAt: string | null;
  lastOrderAt: string | null;
  /** Unique, least recently bought first; at most `maxProductIds`. The view sorts them. */
  productIds: string[];
  /** Categories of the products bought, unique, least recently bought first; at most `maxCategories`. */
  categories: string[];
  /** One entry per order, sorted by orderId. Internal: not part of the customer view. */
  ledger: OrderEntry[];
}

/**
 * The most product ids kept: the 1,000 bought most recently (by fold order, which is event order, so
 * a replay keeps the same ones as incremental folding). A product bought again counts as recent.
 */
export const maxProductIds = 1000;

/** The most bought categories kept, the same way as product ids. */
export const maxCategories = 200;

/**
 * One order, as small as it can be stored: the ledger keeps every order for as long as the customer
 * exists, or a resent order would count twice. A tuple rather than an object, since DynamoDB counts
 * every map key's bytes in every entry, and only what the ledger is for: the id that recognises the
 * order when it is sent again, and what is left of it to refund, in its currency. (The object form,
 * with the amount and refunds apart and the time placed, took 78 bytes besides the id.)
 *
 * The practical limit: stored in DynamoDB, an entry takes 13 bytes plus its order id (one more for
 * amounts of five or six significant digits). The rest of the state at its caps, with 36-character
 * ids and 40-character names, takes about 90 KB, which leaves some 300 KB of the 400 KB item for
 * the ledger: about 11,800 orders with 13-digit ids such as Shopify's, 14,600 with 8-character ids,
 * 6,200 with UUIDs (measured in limits.test.ts). A customer past that, a reseller perhaps, needs
 * the ledger moved out of the item, to rows of its own in the customer's partition.
 */
export type OrderEntry = [orderId: string, net: number, currency: string];

/** The object form written before entries became tuples; read as the tuple it stands for. */
interface StoredObjectEntry {
  orderId: string;
  amount: number;
  currency: string;
  refunded: number;
}

/** An "Order Completed" seen for the first time. */
export interface PlacedOrder {
  orderId: string;
  amount: number;
  currency: string;
  products: ProductLine[];
}

export function emptyOrders(): Orders {
  return {
    count: 0,
    revenue: {},
    firstOrderAt: null,
    lastOrderAt: null,
    productIds: [],
    categories: [],
    ledger: [],
  };
}

/**
 * The order the event places, unless it is not an order or the order is known already. An order
 * without an order_id is keyed by its messageId, which makes only its redeliveries duplicates.
 */
export function newOrderOf(
  orders: Orders,
  event: IngestEvent,
  mainCurrency: string,
): PlacedOrder | undefined {
  if (trackName(event) !== 'Order Completed') return undefined;
  const properties = fieldsOf(event.properties);
  const orderId = idField(properties, 'order_id') ?? event.messageId;
  if (findEntry(orders, orderId) !== undefined) return undefined;
  const currency = currencyField(properties) ?? mainCurrency;
  const products = readProductLines(properties, currency) ?? [];
  const amount =
    amountField(properties, 'revenue', currency) ??
    amountField(properties, 'total', currency) ??
    products.reduce((sum, line) => addMinor(sum, multiplyMinor(line.price ?? 0, line.quantity)), 0);
  return { orderId, amount, currency, products };
}

export function foldOrders(
  orders: Orders,
  event: IngestEvent,
  placed: PlacedOrder | undefined,
  when: Instant,
): Orders {
  if (placed !== undefined) return withOrder(orders, placed, when);
  if (trackName(event) === 'Order Refunded') return withRefund(orders, fieldsOf(event.properties));
  return orders;
}

/** Net revenue in one currency, in minor units. */
export function revenueIn(orders: Orders, currency: string): number {
  return orders.revenue[currency] ?? 0;
}

/** The ledger's entry for the order, if the order is known. */
function findEntry(orders: Orders, orderId: string | undefined): OrderEntry | undefined {
  if (orderId === undefined) return undefined;
  return ledgerOf(orders).find(([id]) => id === orderId);
}

function withOrder(orders: Orders, placed: PlacedOrder, when: Instant): Orders {
  const entry: OrderEntry = [placed.orderId, placed.amount, placed.currency];
  const ledger = [...ledgerOf(orders), entry].sort(([a], [b]) => compareText(a, b));
  const bought = placed.products.map((line) => line.productId);
  const categories = placed.products.flatMap((line) => (line.category === null ? [] : [line.category]));
  return {
    count: ledger.length,
    revenue: revenueOf(ledger),
    firstOrderAt: earlierAt(orders.firstOrderAt, when),
    lastOrderAt: laterAt(orders.lastOrderAt, when),
    productIds: recentUnique(orders.productIds, bought, maxProductIds),
    // States stored before categories were kept have none: a replay fills them in.
    categories: recentUnique(orders.categories ?? [], categories, maxCategories),
    ledger,
  };
}

/**
 * Takes back the refunded amount (total, else revenue) or, when neither is given, what remains of
 * the order. A refund whose amount is given but unreadable, or in another currency than the
 * order's, is ignored rather than guessed.
 */
function withRefund(orders: Orders, properties: Fields | undefined): Orders {
  const entry = findEntry(orders, idField(properties, 'order_id'));
  if (entry === undefined) return orders;
  const [orderId, remaining, entryCurrency] = entry;
  const currency = currencyField(properties);
  if (currency !== undefined && currency !== entryCurrency) return orders;
  const given = ['total', 'revenue'].find(
    (field) => properties?.[field] !== undefined && properties[field] !== null,
  );
  const asked = given === undefined ? remaining : refundAmount(properties, given, entryCurrency);
  if (asked === undefined) return orders;
  const refund = Math.min(asked, remaining);
  if (refund <= 0) return orders;
  const ledger = ledgerOf(orders).map(
    (candidate): OrderEntry =>
      candidate[0] === orderId ? [orderId, remaining - refund, entryCurrency] : candidate,
  );
  return { ...orders, revenue: revenueOf(ledger), ledger };
}

/** Shops send refunds as positive or as negative amounts; both mean money going back. */
function refundAmount(properties: Fields | undefined, key: string, currency: string): number | undefined {
  const value = properties?.[key];
  if (typeof value === 'number') return toMinor(Math.abs(value), currency);
  if (typeof value === 'string') return toMinor(value.trim().replace(/^-/, ''), currency);
  return undefined;
}

function revenueOf(ledger: readonly OrderEntry[]): Record<string, number> {
  const totals = new Map<string, number>();
  for (const [, net, currency] of ledger) {
    totals.set(currency, addMinor(totals.get(currency) ?? 0, net));
  }
  return Object.fromEntries([...totals].sort(([a], [b]) => compareText(a, b)));
}

/**
 * The ledger as tuples. A state stored before entries became tuples holds objects; each becomes the
 * tuple a replay would make, so folding on top of such a state still recognises its orders.
 */
function ledgerOf(orders: Orders): OrderEntry[] {
  const ledger = orders.ledger as (OrderEntry | StoredObjectEntry)[];
  if (ledger.every((entry) => Array.isArray(entry))) return orders.ledger;
  return ledger.map((entry) =>
    Array.isArray(entry) ? entry : [entry.orderId, entry.amount - entry.refunded, entry.currency],
  );
}
