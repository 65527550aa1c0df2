import { describe, expect, it } from 'vitest';
import { maxNesting, storableProblems } from '#shared/collect/storable.ts';
import { validateEvent } from '#shared/collect/validate.ts';

describe('events DynamoDB could not store', () => {
  it('refuses numbers outside DynamoDB range, naming the field', () => {
    expect(
      storableProblems({ properties: { huge: 1e200, tiny: 1e-200, fine: 12.5, zero: 0, neg: -3e100 } }),
    ).toEqual([
      'properties.huge: number 1e+200 is out of range: send magnitudes from 1e-130 to 1e125',
      'properties.tiny: number 1e-200 is out of range: send magnitudes from 1e-130 to 1e125',
    ]);
  });

  it('refuses documents nested deeper than the limit, and takes the limit itself', () => {
    const nest = (levels: number): unknown => (levels === 0 ? 'leaf' : { a: nest(levels - 1) });
    expect(storableProblems({ p: nest(maxNesting - 1) })).toEqual([]);
    const problems = storableProblems({ p: nest(maxNesting + 2) });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^p(\.a)+: nested more than 16 levels deep: flatten it$/);
  });

  it('finds problems inside arrays with their index', () => {
    expect(storableProblems({ properties: { products: [{ price: 1 }, { price: 1e130 }] } })).toEqual([
      'properties.products[1].price: number 1e+130 is out of range: send magnitudes from 1e-130 to 1e125',
    ]);
  });

  it('makes an otherwise valid event invalid, so that the rest of its batch is still kept', () => {
    const result = validateEvent({
      type: 'track',
      userId: 'u1',
      event: 'Viewed',
      properties: { weight: 1e300 },
    });
    expect(result).toEqual({
      valid: false,
      errors: ['properties.weight: number 1e+300 is out of range: send magnitudes from 1e-130 to 1e125'],
    });
  });
});

describe('values JavaScript or DynamoDB would change or refuse', () => {
  it('refuses integers beyond 2^53, asking for a string', () => {
    expect(storableProblems({ traits: { facebookId: 10215512345678901 } })).toEqual([
      'traits.facebookId: integer 10215512345678900 is too large to keep exactly: send it as a string',
    ]);
    expect(storableProblems({ traits: { id: 9007199254740991 } })).toEqual([]);
  });

  it('refuses empty keys, naming where', () => {
    expect(storableProblems({ traits: { x: { '': 1 } } })).toEqual([
      'traits.x: has an empty key: name every field',
    ]);
  });
});
