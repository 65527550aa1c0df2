import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { addMinor, currencyExponent, formatMinor, normalizeCurrency, toMinor } from '#shared/money.ts';

describe('currency exponent', () => {
  test.each([
    ['JPY', 0],
    ['USD', 2],
    ['eur', 2],
    ['KWD', 3],
  ])('%s has %i minor digits', (currency, digits) => {
    expect(currencyExponent(currency)).toBe(digits);
  });

  test('a code that is not three letters has none', () => {
    expect(currencyExponent('dollars')).toBeUndefined();
    expect(normalizeCurrency(' usd ')).toBe('USD');
    expect(normalizeCurrency(840)).toBeUndefined();
  });
});

describe('toMinor', () => {
  test.each([
    [69.9, 'USD', 6990],
    ['69.9', 'USD', 6990],
    [0.1 + 0.2, 'USD', 30],
    ['19.995', 'USD', 2000],
    ['19.994', 'USD', 1999],
    ['1500', 'JPY', 1500],
    ['1.234', 'KWD', 1234],
    ['007.50', 'usd', 750],
    ['.5', 'USD', 50],
    [1e-7, 'USD', 0],
    ['5e-3', 'USD', 1],
    [0, 'USD', 0],
  ])('%s %s is %i', (amount, currency, minor) => {
    expect(toMinor(amount, currency)).toBe(minor);
  });

  test.each([
    [-1, 'USD'],
    ['-1.00', 'USD'],
    [Number.NaN, 'USD'],
    [Number.POSITIVE_INFINITY, 'USD'],
    ['', 'USD'],
    ['.', 'USD'],
    ['1,000.00', 'USD'],
    ['12 USD', 'USD'],
    ['1e30', 'USD'],
    ['90071992547409.92', 'USD'],
    ['10', 'dollars'],
  ])('%s %s is refused', (amount, currency) => {
    expect(toMinor(amount, currency)).toBeUndefined();
  });
});

describe('formatMinor', () => {
  test.each([
    [6990, 'USD', '69.90'],
    [5, 'USD', '0.05'],
    [0, 'USD', '0.00'],
    [1500, 'JPY', '1500'],
    [1234, 'KWD', '1.234'],
    [-250, 'EUR', '-2.50'],
  ])('%i %s is %s', (minor, currency, text) => {
    expect(formatMinor(minor, currency)).toBe(text);
  });
});

test('sums stop at the largest exact integer', () => {
  expect(addMinor(Number.MAX_SAFE_INTEGER, 10)).toBe(Number.MAX_SAFE_INTEGER);
  expect(addMinor(2, 3)).toBe(5);
});

const currencies = fc.constantFrom('USD', 'JPY', 'KWD', 'EUR');

test('every minor amount survives formatting and parsing', () => {
  fc.assert(
    fc.property(fc.nat({ max: 1e13 }), currencies, (minor, currency) => {
      expect(toMinor(formatMinor(minor, currency), currency)).toBe(minor);
    }),
  );
});

test('a price with at most the currency digits formats back to the same number', () => {
  fc.assert(
    fc.property(fc.nat({ max: 1e11 }), currencies, (scaled, currency) => {
      const exponent = currencyExponent(currency) ?? 0;
      const amount = Number((scaled / 10 ** exponent).toFixed(exponent));
      const minor = toMinor(amount, currency);
      expect(minor).toBe(scaled);
      expect(Number(formatMinor(minor ?? -1, currency))).toBe(amount);
    }),
  );
});

test('a decimal string with at most the currency digits formats back to itself', () => {
  const decimal = fc
    .tuple(
      currencies,
      fc.nat({ max: 1e12 }),
      fc.string({ unit: fc.constantFrom(...'0123456789'), maxLength: 3 }),
    )
    .filter(([currency, , fraction]) => fraction.length <= (currencyExponent(currency) ?? 0));
  fc.assert(
    fc.property(decimal, ([currency, whole, fraction]) => {
      const exponent = currencyExponent(currency) ?? 0;
      const text = fraction === '' ? String(whole) : `${whole}.${fraction}`;
      const canonical = exponent === 0 ? String(whole) : `${whole}.${fraction.padEnd(exponent, '0')}`;
      expect(formatMinor(toMinor(text, currency) ?? -1, currency)).toBe(canonical);
    }),
  );
});

describe('ISO 4217 minor units, whatever the runtime displays', () => {
  test('currencies ICU shows without decimals keep their minor unit', () => {
    expect(currencyExponent('HUF')).toBe(2);
    expect(currencyExponent('IDR')).toBe(2);
    expect(toMinor('1234.50', 'HUF')).toBe(123450);
    expect(formatMinor(123450, 'HUF')).toBe('1234.50');
  });

  test('three-decimal and zero-decimal currencies', () => {
    expect(toMinor('10.250', 'IQD')).toBe(10250);
    expect(toMinor('10.250', 'KWD')).toBe(10250);
    expect(toMinor('1500', 'JPY')).toBe(1500);
    expect(toMinor('1500', 'KRW')).toBe(1500);
  });
});
