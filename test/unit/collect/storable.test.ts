import { describe, expect, it } from 'vitest';
import { maxNesting, nestsDeeperThan, storableProblems } from '#shared/collect/storable.ts';
import { validateEvent } from '#shared/collect/validate.ts';

describe('events DynamoDB or JavaScript would change or refuse', () => {
  it('refuses numbers too large to keep exactly or too small to store, naming the field', () => {
    expect(
      storableProblems({ properties: { huge: 1e200, tiny: 1e-200, fine: 12.5, zero: 0, negative: -3e15 } }),
    ).toEqual([
      'properties.huge: number 1e+200 is too large to keep exactly: send it as a string',
      'properties.tiny: number 1e-200 is too small: send magnitudes of at least 1e-130 (or 0)',
    ]);
  });

  it('keeps integers up to 2^53 and refuses the ones beyond', () => {
    expect(storableProblems({ traits: { id: 9007199254740991 } })).toEqual([]);
    expect(storableProblems({ traits: { facebookId: 10215512345678900 } })).toEqual([
      'traits.facebookId: number 10215512345678900 is too large to keep exactly: send it as a string',
    ]);
  });

  it('finds problems inside arrays with their index', () => {
    expect(storableProblems({ properties: { products: [{ price: 1 }, { price: 1e30 }] } })).toEqual([
      'properties.products[1].price: number 1e+30 is too large to keep exactly: send it as a string',
    ]);
  });

  it('refuses empty keys, naming where', () => {
    expect(storableProblems({ traits: { x: { '': 1 } } })).toEqual([
      'traits.x: has an empty key: name every field',
    ]);
  });

  it('refuses documents nested deeper than the limit, and takes the limit itself', () => {
    const nest = (levels: number): unknown => (levels === 0 ? 'leaf' : { a: nest(levels - 1) });
    expect(storableProblems({ p: nest(maxNesting - 1) })).toEqual([]);
    const problems = storableProblems({ p: nest(maxNesting + 2) });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^p(\.a)+: nested more than 16 levels deep: flatten it$/);
  });

  it('measures nesting without recursion, so that a hostile document cannot overflow the stack', () => {
    let deep: unknown = 'leaf';
    for (let level = 0; level < 100_000; level++) deep = [deep];
    expect(nestsDeeperThan(deep, maxNesting)).toBe(true);
    expect(nestsDeeperThan({ a: [{ b: 1 }] }, maxNesting)).toBe(false);
  });

  it('checks what was parsed, so a numeric string too large for a number is refused too', () => {
    const result = validateEvent({
      type: 'track',
      userId: 'u1',
      event: 'Order Completed',
      properties: { revenue: '1000000000000000000000000000000' },
    });
    expect(result).toEqual({
      valid: false,
      errors: ['properties.revenue: number 1e+30 is too large to keep exactly: send it as a string'],
    });
  });

  it('lists at most ten problems of one event', () => {
    const properties = Object.fromEntries(Array.from({ length: 25 }, (_, index) => [`n${index}`, 1e300]));
    const result = validateEvent({ type: 'track', userId: 'u1', event: 'Viewed', properties });
    expect(result.valid).toBe(false);
    if (result.valid) return;
    expect(result.errors).toHaveLength(11);
    expect(result.errors.at(-1)).toBe('and 15 more problems');
  });
});
