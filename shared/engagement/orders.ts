import type { IngestEvent } from '#events/ingest-event.ts';
import { addMinor, multiplyMinor, toMinor } from '../money.ts';
import { compareText, sortedUnique } from './collation.ts';
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
  /** Sorted, unique. */
  productIds: string[];
  /** One entry per order, sorted by orderId. Internal: not part of the customer view. */
  ledger: OrderEntry[];
}

export interface OrderEntry {
  orderId: string;
  /** Minor units. */
  amount: number;
  currency: string;
  refunded: number;
  placedAt: string;
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
  if (orders.ledger.some((entry) => entry.orderId === orderId)) return undefined;
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

function withOrder(orders: Orders, placed: PlacedOrder, when: Instant): Orders {
  const entry: OrderEntry = {
    orderId: placed.orderId,
    amount: placed.amount,
    currency: placed.currency,
    refunded: 0,
    placedAt: when.at,
  };
  const ledger = [...orders.ledger, entry].sort((a, b) => compareText(a.orderId, b.orderId));
  const bought = placed.products.map((line) => line.productId);
  return {
    count: ledger.length,
    revenue: revenueOf(ledger),
    firstOrderAt: earlierAt(orders.firstOrderAt, when),
    lastOrderAt: laterAt(orders.lastOrderAt, when),
    productIds: sortedUnique([...orders.productIds, ...bought]),
    ledger,
  };
}

/**
 * Takes back the refunded amount (total, else revenue) or, when neither is given, what remains of
 * the order. A refund whose amount is given but unreadable, or in another currency than the
 * order's, is ignored rather than guessed.
 */
function withRefund(orders: Orders, properties: Fields | undefined): Orders {
  const orderId = idField(properties, 'order_id');
  const entry = orders.ledger.find((candidate) => candidate.orderId === orderId);
  if (entry === undefined) return orders;
  const currency = currencyField(properties);
  if (currency !== undefined && currency !== entry.currency) return orders;
  const remaining = entry.amount - entry.refunded;
  const given = ['total', 'revenue'].find(
    (field) => properties?.[field] !== undefined && properties[field] !== null,
  );
  const asked = given === undefined ? remaining : refundAmount(properties, given, entry.currency);
  if (asked === undefined) return orders;
  const refund = Math.min(asked, remaining);
  if (refund <= 0) return orders;
  const ledger = orders.ledger.map((candidate) =>
    candidate === entry ? { ...entry, refunded: entry.refunded + refund } : candidate,
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
  for (const entry of ledger) {
    totals.set(entry.currency, addMinor(totals.get(entry.currency) ?? 0, entry.amount - entry.refunded));
  }
  return Object.fromEntries([...totals].sort(([a], [b]) => compareText(a, b)));
}
