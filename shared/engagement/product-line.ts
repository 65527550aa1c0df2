import {
  amountField,
  countField,
  type Fields,
  fieldsOf,
  idField,
  listField,
  textField,
} from './segment-fields.ts';

/**
 * One product as Segment's e-commerce spec describes it, either at the top of a product event's
 * properties or as an entry of a `products` array.
 */
export interface ProductLine {
  productId: string;
  name: string | null;
  category: string | null;
  /** Unit price in minor units of the event's currency. */
  price: number | null;
  quantity: number;
}

/** The product the fields describe, or undefined when they name no product id or sku. */
export function readProductLine(fields: Fields | undefined, currency: string): ProductLine | undefined {
  const productId = productIdOf(fields);
  if (productId === undefined) return undefined;
  return {
    productId,
    name: textField(fields, 'name') ?? null,
    category: textField(fields, 'category') ?? null,
    price: amountField(fields, 'price', currency) ?? null,
    quantity: countField(fields, 'quantity') ?? 1,
  };
}

/** The lines of a `products` array; undefined when there is no array, so that [] means "no products". */
export function readProductLines(
  properties: Fields | undefined,
  currency: string,
): ProductLine[] | undefined {
  const products = listField(properties, 'products');
  if (products === undefined) return undefined;
  return products.flatMap((product) => readProductLine(fieldsOf(product), currency) ?? []);
}

export function productIdOf(fields: Fields | undefined): string | undefined {
  return idField(fields, 'product_id') ?? idField(fields, 'sku');
}
