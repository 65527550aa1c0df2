import { describe, expect, it } from 'vitest';
import { fieldPath, validateEvent } from '#shared/collect/validate.ts';

function errorsOf(event: Record<string, unknown>): string[] {
  const result = validateEvent(event);
  return result.valid ? [] : result.errors;
}

function valid(event: Record<string, unknown>) {
  const result = validateEvent(event);
  if (!result.valid) throw new Error(`expected a valid event, got ${result.errors.join('; ')}`);
  return result.event;
}

const track = { type: 'track', userId: 'u1', event: 'Order Completed' };

describe('field paths', () => {
  it('reads like code: dots for keys, brackets for indexes', () => {
    expect(fieldPath(['properties', 'products', 0, 'price'])).toBe('properties.products[0].price');
    expect(fieldPath([])).toBe('');
  });
});

describe('identity', () => {
  it('wants userId or anonymousId on every type but alias', () => {
    for (const type of ['track', 'identify', 'page', 'screen', 'group']) {
      const event = { type, event: 'Signed Up', groupId: 'g1' };
      expect(errorsOf(event)).toEqual(['userId or anonymousId: one is required']);
    }
  });

  it('keeps numeric ids as strings', () => {
    const event = valid({ type: 'identify', userId: 42, anonymousId: 7.5 });
    expect(event.userId).toBe('42');
    expect(event.anonymousId).toBe('7.5');
  });

  it('takes a null userId as absent, as analytics.js sends for anonymous visitors', () => {
    expect(valid({ type: 'page', userId: null, anonymousId: 'a1' }).userId).toBeUndefined();
    expect(errorsOf({ type: 'page', userId: null, anonymousId: null })).toEqual([
      'userId or anonymousId: one is required',
    ]);
  });

  it('names a userId of the wrong kind', () => {
    expect(errorsOf({ ...track, userId: { id: 1 } })).toContain('userId: expected a string or number');
    expect(errorsOf({ ...track, userId: '' })).toContain('userId: expected a non-empty string or a number');
    expect(errorsOf({ ...track, userId: 'a\u0000b' })).toContain(
      'userId: expected printable characters only',
    );
  });

  it('wants both ids on alias, and no more', () => {
    expect(valid({ type: 'alias', previousId: 'anon-1', userId: 99 })).toMatchObject({
      previousId: 'anon-1',
      userId: '99',
    });
    expect(errorsOf({ type: 'alias', userId: 'u1' })).toEqual([
      'previousId: required, expected a string or number',
    ]);
    expect(errorsOf({ type: 'alias', previousId: 'a1' })).toEqual([
      'userId: required, expected a string or number',
    ]);
  });
});

describe('per type', () => {
  it('wants a non-empty event name on track', () => {
    expect(errorsOf({ type: 'track', userId: 'u1' })).toEqual([
      'event: required, expected a non-empty string',
    ]);
    expect(errorsOf({ ...track, event: '' })).toEqual(['event: expected a non-empty string']);
    expect(errorsOf({ ...track, event: 5 })).toEqual(['event: expected a non-empty string']);
  });

  it('wants a groupId on group', () => {
    expect(errorsOf({ type: 'group', userId: 'u1' })).toEqual([
      'groupId: required, expected a string or number',
    ]);
    expect(valid({ type: 'group', userId: 'u1', groupId: 12, traits: { plan: 'pro' } })).toMatchObject({
      groupId: '12',
      traits: { plan: 'pro' },
    });
  });

  it('takes page and screen with or without a name', () => {
    expect(valid({ type: 'page', anonymousId: 'a1' }).type).toBe('page');
    expect(valid({ type: 'screen', anonymousId: 'a1', name: 'Home' })).toMatchObject({ name: 'Home' });
    expect(errorsOf({ type: 'page', anonymousId: 'a1', name: 3 })).toEqual(['name: expected string']);
  });

  it('names a missing or unknown type', () => {
    const expected = 'expected one of track, identify, page, screen, group, alias';
    expect(errorsOf({ userId: 'u1' })).toEqual([`type: required, ${expected}`]);
    expect(errorsOf({ type: 'purchase', userId: 'u1' })).toEqual([`type: ${expected}`]);
  });

  it('drops unknown top-level fields and keeps free-form properties and traits', () => {
    const event = valid({
      ...track,
      _metadata: { nodeVersion: '20' },
      properties: { color: 'red', nested: { a: 1 } },
    });
    expect(event).not.toHaveProperty('_metadata');
    expect(event.properties).toEqual({ color: 'red', nested: { a: 1 } });
  });
});

describe('e-commerce properties', () => {
  it('names the field and what it expects', () => {
    expect(errorsOf({ ...track, properties: { revenue: '$69.90' } })).toEqual([
      'properties.revenue: expected number',
    ]);
    expect(errorsOf({ ...track, properties: { quantity: true } })).toEqual([
      'properties.quantity: expected number',
    ]);
  });

  it('turns numeric strings into numbers', () => {
    const properties = {
      revenue: '69.90',
      total: '70',
      price: '-5',
      value: '.5',
      quantity: '2',
      discount: '0.0',
    };
    const event = valid({
      ...track,
      properties: { ...properties, shipping: 4.5, tax: '1.25', order_id: '0042' },
    });
    expect(event.properties).toEqual({
      revenue: 69.9,
      total: 70,
      price: -5,
      value: 0.5,
      quantity: 2,
      discount: 0,
      shipping: 4.5,
      tax: 1.25,
      order_id: '0042',
    });
  });

  it('wants a 3-letter currency code, upper-cased', () => {
    expect(valid({ ...track, properties: { currency: 'eur' } }).properties).toEqual({ currency: 'EUR' });
    expect(errorsOf({ ...track, properties: { currency: 'euro' } })).toEqual([
      'properties.currency: expected a 3-letter currency code, e.g. EUR',
    ]);
  });

  it('wants products as an array of objects, with numeric price and quantity', () => {
    expect(errorsOf({ ...track, properties: { products: { sku: 'a' } } })).toEqual([
      'properties.products: expected an array of objects',
    ]);
    expect(errorsOf({ ...track, properties: { products: [{ sku: 'a', price: 'x' }, 3] } })).toEqual([
      'properties.products[0].price: expected number',
      'properties.products[1]: expected an object',
    ]);
    const event = valid({ ...track, properties: { products: [{ sku: 'a', price: '9.99', quantity: 3 }] } });
    expect(event.properties?.products).toEqual([{ sku: 'a', price: 9.99, quantity: 3 }]);
  });

  it('keeps a null amount as null (no value)', () => {
    expect(valid({ ...track, properties: { revenue: null } }).properties).toEqual({ revenue: null });
  });
});

describe('context and times', () => {
  it('checks UTM parameters and the page', () => {
    const context = { campaign: { source: 'newsletter', medium: 5 }, page: { url: ['x'] }, ip: '1.2.3.4' };
    expect(errorsOf({ ...track, context })).toEqual([
      'context.campaign.medium: expected string',
      'context.page.url: expected string',
    ]);
    const ok = {
      campaign: { source: 'newsletter', name: 'spring', term: 'shoes', content: 'banner' },
      ip: '1.2.3.4',
    };
    expect(valid({ ...track, context: ok }).context).toEqual(ok);
  });

  it('names a timestamp that is not a date', () => {
    const message = 'expected an ISO 8601 date, e.g. 2024-05-01T12:00:00.000Z';
    expect(errorsOf({ ...track, timestamp: 'yesterday' })).toEqual([`timestamp: ${message}`]);
    expect(errorsOf({ ...track, sentAt: '2024-02-30T10:00:00Z' })).toEqual([`sentAt: ${message}`]);
    expect(errorsOf({ ...track, timestamp: 1714564800000 })).toEqual([
      'timestamp: expected an ISO 8601 date string',
    ]);
  });

  it('reports every problem of an event at once', () => {
    expect(errorsOf({ type: 'track', properties: { revenue: 'lots' }, timestamp: 'now' })).toEqual([
      'timestamp: expected an ISO 8601 date, e.g. 2024-05-01T12:00:00.000Z',
      'properties.revenue: expected number',
      'event: required, expected a non-empty string',
      'userId or anonymousId: one is required',
    ]);
  });
});
