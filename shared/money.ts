/**
 * Money as integer minor units (cents, yen, fils), so that sums are exact. Amounts arrive as JSON numbers
 * or decimal strings; both are read through their decimal text, never multiplied as floats, because
 * 69.9 * 100 is 6990.000000000001.
 */

const currencyCode = /^[A-Z]{3}$/;
const decimalNumber = /^(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** The ISO 4217 code upper-cased, or undefined when the value is not a three-letter code. */
export function normalizeCurrency(code: unknown): string | undefined {
  if (typeof code !== 'string') return undefined;
  const upper = code.trim().toUpperCase();
  return currencyCode.test(upper) ? upper : undefined;
}

/**
 * ISO 4217 minor units where they are not 2. A fixed table rather than Intl: ICU gives the digits
 * people display (HUF 0, IQD 0), not the ones the currency has, and they change between Node
 * versions; stored minor units must mean the same amount forever.
 */
const minorUnits: ReadonlyMap<string, number> = new Map([
  ...[
    'BIF',
    'CLP',
    'DJF',
    'GNF',
    'ISK',
    'JPY',
    'KMF',
    'KRW',
    'PYG',
    'RWF',
    'UGX',
    'UYI',
    'VND',
    'VUV',
    'XAF',
    'XOF',
    'XPF',
  ].map((code): [string, number] => [code, 0]),
  ...['BHD', 'IQD', 'JOD', 'KWD', 'LYD', 'OMR', 'TND'].map((code): [string, number] => [code, 3]),
  ['CLF', 4],
  ['UYW', 4],
]);

/** Digits after the decimal point in the currency's minor unit: JPY 0, USD 2, KWD 3. */
export function currencyExponent(currency: string): number | undefined {
  const code = normalizeCurrency(currency);
  if (code === undefined) return undefined;
  return minorUnits.get(code) ?? 2;
}

/**
 * A non-negative amount in minor units, or undefined when the amount is not a plain decimal number,
 * is negative, or is too large to count exactly. Digits beyond the minor unit are rounded half up.
 */
export function toMinor(amount: number | string, currency: string): number | undefined {
  const exponent = currencyExponent(currency);
  if (exponent === undefined) return undefined;
  if (typeof amount === 'number' && !Number.isFinite(amount)) return undefined;
  const text = typeof amount === 'number' ? String(amount) : amount.trim();
  return decimalToMinor(text, exponent);
}

function decimalToMinor(text: string, exponent: number): number | undefined {
  const match = decimalNumber.exec(text);
  if (!match) return undefined;
  const fraction = match[2] ?? '';
  if ((match[1] ?? '') === '' && fraction === '') return undefined;
  const whole = (match[1] ?? '').replace(/^0+/, '');
  const digits = `${whole}${fraction}`;
  // Where the decimal point falls once the amount is scaled to minor units.
  const point = whole.length + Number(match[3] ?? '0') + exponent;
  if (point > 20) return undefined;
  const kept = point <= 0 ? '' : digits.slice(0, point).padEnd(point, '0');
  const roundUp = point >= 0 && (digits[point] ?? '0') >= '5';
  const minor = Number(kept === '' ? '0' : kept) + (roundUp ? 1 : 0);
  return Number.isSafeInteger(minor) ? minor : undefined;
}

/** Minor units as the decimal string of the currency's major unit: 6990 USD is "69.90". */
export function formatMinor(minor: number, currency: string): string {
  const exponent = currencyExponent(currency) ?? 2;
  const sign = minor < 0 ? '-' : '';
  const digits = String(Math.abs(Math.round(minor))).padStart(exponent + 1, '0');
  if (exponent === 0) return `${sign}${digits}`;
  const split = digits.length - exponent;
  return `${sign}${digits.slice(0, split)}.${digits.slice(split)}`;
}

/**
 * Sums and products of minor units stop at the largest exact integer: an absurd amount from a client
 * must not turn into a number that storage refuses (DynamoDB rejects unsafe integers).
 */
export function addMinor(a: number, b: number): number {
  return Math.min(a + b, Number.MAX_SAFE_INTEGER);
}

export function multiplyMinor(price: number, quantity: number): number {
  return Math.min(price * quantity, Number.MAX_SAFE_INTEGER);
}
