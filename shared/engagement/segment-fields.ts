import { normalizeCurrency, toMinor } from '../money.ts';

/**
 * Readers for the free-form parts of a Segment event (properties, traits, context). Clients send
 * whatever they like there, so a field of the wrong type reads as absent and never throws.
 */
export type Fields = Readonly<Record<string, unknown>>;

const maxQuantity = 1_000_000;

export function fieldsOf(value: unknown): Fields | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Fields) : undefined;
}

/** A non-blank string, trimmed. */
export function textField(fields: Fields | undefined, key: string): string | undefined {
  const value = fields?.[key];
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  return text === '' ? undefined : text;
}

/** An identifier: shops send ids as strings or as numbers. */
export function idField(fields: Fields | undefined, key: string): string | undefined {
  const value = fields?.[key];
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : undefined;
  return textField(fields, key);
}

export function recordField(fields: Fields | undefined, key: string): Fields | undefined {
  return fieldsOf(fields?.[key]);
}

export function listField(fields: Fields | undefined, key: string): readonly unknown[] | undefined {
  const value = fields?.[key];
  return Array.isArray(value) ? value : undefined;
}

/** A positive whole count such as a quantity; absurdly large counts read as absent. */
export function countField(fields: Fields | undefined, key: string): number | undefined {
  const value = fields?.[key];
  const count = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
  return typeof count === 'number' && Number.isInteger(count) && count > 0 && count <= maxQuantity
    ? count
    : undefined;
}

/** The event's currency, upper-cased, or undefined when it names none or names it badly. */
export function currencyField(fields: Fields | undefined): string | undefined {
  return normalizeCurrency(fields?.currency);
}

/** A non-negative amount in minor units, from a JSON number or a decimal string. */
export function amountField(fields: Fields | undefined, key: string, currency: string): number | undefined {
  const value = fields?.[key];
  return typeof value === 'number' || typeof value === 'string' ? toMinor(value, currency) : undefined;
}
