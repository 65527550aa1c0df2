import { describe, expect, it } from 'vitest';
import { canonicalJson, deriveMessageId } from '#shared/collect/message-id.ts';
import { readEnvelope } from '#shared/collect/request.ts';
import { triageEvents } from '#shared/collect/triage.ts';
import { receipt } from './fixtures.ts';

const event = {
  type: 'track',
  userId: 'u1',
  event: 'Product Viewed',
  timestamp: '2024-05-01T11:59:00.000Z',
  properties: { product_id: 'p1', price: 10 },
};

describe('canonicalJson', () => {
  it('sorts keys at every depth and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, 1], c: null } })).toBe('{"a":{"c":null,"d":[2,1]},"b":1}');
  });

  it('leaves out undefined members, as JSON does', () => {
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
  });
});

describe('deriveMessageId', () => {
  it('is rapport- and a sha256', () => {
    expect(deriveMessageId(event)).toMatch(/^rapport-[0-9a-f]{64}$/);
  });

  it('is stable across sentAt, receivedAt, writeKey and key order', () => {
    const retry = {
      sentAt: '2024-05-01T12:10:00.000Z',
      properties: { price: 10, product_id: 'p1' },
      writeKey: 'wk_x',
      receivedAt: '2024-05-01T12:10:01.000Z',
      timestamp: event.timestamp,
      event: event.event,
      userId: 'u1',
      type: 'track',
    };
    expect(deriveMessageId(retry)).toBe(deriveMessageId({ ...event, sentAt: '2024-05-01T12:00:00.000Z' }));
  });

  it('differs for different content', () => {
    const ids = new Set([
      deriveMessageId(event),
      deriveMessageId({ ...event, timestamp: '2024-05-01T11:59:01.000Z' }),
      deriveMessageId({ ...event, properties: { product_id: 'p2', price: 10 } }),
      deriveMessageId({ ...event, userId: 'u2' }),
      deriveMessageId({ ...event, type: 'page' }),
    ]);
    expect(ids.size).toBe(5);
  });
});

describe('messageId on collected events', () => {
  function collectedId(body: Record<string, unknown>): string | undefined {
    return triageEvents(readEnvelope(body, 'batch'), receipt).accepted[0]?.messageId;
  }

  it('keeps the client messageId', () => {
    expect(collectedId({ batch: [{ ...event, messageId: 'ajs-1' }] })).toBe('ajs-1');
  });

  it('derives the same id for a retry of the same batch sent later', () => {
    const first = collectedId({ batch: [event], sentAt: '2024-05-01T12:00:00.000Z' });
    const retry = collectedId({
      batch: [{ ...event, sentAt: '2024-05-01T12:05:00.000Z' }],
      sentAt: '2024-05-01T12:05:00Z',
    });
    expect(first).toMatch(/^rapport-/);
    expect(retry).toBe(first);
  });

  it('derives the same id whether an amount came as a number or a numeric string', () => {
    const asString = collectedId({ batch: [{ ...event, properties: { product_id: 'p1', price: '10.00' } }] });
    expect(asString).toBe(collectedId({ batch: [event] }));
  });
});
