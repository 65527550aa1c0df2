import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ingestEvent } from '#events/ingest-event.ts';
import { maxEventBytes } from '#shared/collect/limits.ts';
import { mergeUnder } from '#shared/collect/normalize.ts';
import { type CollectRoute, readEnvelope } from '#shared/collect/request.ts';
import { nothingAccepted, triageEvents } from '#shared/collect/triage.ts';
import { BadRequestError, PayloadTooLargeError } from '#shared/http.ts';
import { receipt, receivedAtMillis } from './fixtures.ts';

function triage(body: unknown, route: CollectRoute = 'batch') {
  return triageEvents(readEnvelope(body, route), receipt);
}

const track = { type: 'track', userId: 'u1', event: 'Product Viewed', messageId: 'm1' };

/** A track event whose JSON is exactly `bytes` long. */
function eventOfSize(bytes: number): Record<string, unknown> {
  const base = { ...track, properties: { padding: '' } };
  const padding = 'x'.repeat(bytes - JSON.stringify(base).length);
  return { ...base, properties: { padding } };
}

describe('accepted events', () => {
  it('are IngestEvents stamped with receivedAt and the source', () => {
    const { accepted, rejected } = triage({ batch: [{ ...track, properties: { price: '12.50' } }] });
    expect(rejected).toEqual([]);
    expect(accepted).toEqual([
      {
        messageId: 'm1',
        type: 'track',
        userId: 'u1',
        event: 'Product Viewed',
        properties: { price: 12.5 },
        timestamp: '2024-05-01T12:00:00.000Z',
        receivedAt: '2024-05-01T12:00:00.000Z',
        source: 'shop',
      },
    ]);
    expect(ingestEvent.safeParse(accepted[0]).success).toBe(true);
  });

  it('carry the fields of each type', () => {
    const { accepted } = triage({
      batch: [
        { type: 'identify', userId: 'u1', traits: { email: 'a@example.com' } },
        { type: 'page', anonymousId: 'a1', name: 'Pricing', properties: { path: '/pricing' } },
        { type: 'screen', userId: 'u1', name: 'Home' },
        { type: 'group', userId: 'u1', groupId: 'g1', traits: { plan: 'pro' } },
        { type: 'alias', userId: 'u1', previousId: 'a1' },
      ],
    });
    expect(
      accepted.map(({ type, traits, name, groupId, previousId }) => ({
        type,
        traits,
        name,
        groupId,
        previousId,
      })),
    ).toEqual([
      { type: 'identify', traits: { email: 'a@example.com' } },
      { type: 'page', name: 'Pricing' },
      { type: 'screen', name: 'Home' },
      { type: 'group', traits: { plan: 'pro' }, groupId: 'g1' },
      { type: 'alias', previousId: 'a1' },
    ]);
    for (const event of accepted) expect(ingestEvent.safeParse(event).success).toBe(true);
  });
});

describe('batch context', () => {
  it('is merged under each event context, the event winning', () => {
    const { accepted } = triage({
      context: {
        library: { name: 'analytics-node' },
        campaign: { source: 'newsletter', medium: 'email' },
        locale: 'de',
      },
      integrations: { All: true },
      batch: [
        { ...track, context: { campaign: { medium: 'banner', name: 'spring' } } },
        { ...track, messageId: 'm2' },
      ],
    });
    expect(accepted[0]?.context).toEqual({
      library: { name: 'analytics-node' },
      campaign: { source: 'newsletter', medium: 'banner', name: 'spring' },
      locale: 'de',
    });
    expect(accepted[1]?.context).toEqual({
      library: { name: 'analytics-node' },
      campaign: { source: 'newsletter', medium: 'email' },
      locale: 'de',
    });
  });

  it('replaces arrays and values whole, and keeps __proto__ a plain key', () => {
    expect(mergeUnder({ a: [1, 2], b: { c: 1 } }, { a: [3], b: 'x' })).toEqual({ a: [3], b: 'x' });
    const merged = mergeUnder({}, JSON.parse('{"__proto__": {"polluted": true}}'));
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('event time', () => {
  it('corrects a client clock 1 hour fast, with the batch sentAt', () => {
    const { accepted } = triage({
      sentAt: '2024-05-01T13:00:00.000Z',
      batch: [{ ...track, timestamp: '2024-05-01T12:59:50.000Z' }],
    });
    expect(accepted[0]?.timestamp).toBe('2024-05-01T11:59:50.000Z');
  });

  it("prefers the event's own sentAt to the batch's", () => {
    const { accepted } = triage({
      sentAt: '2024-05-01T13:00:00.000Z',
      batch: [{ ...track, timestamp: '2024-05-01T12:00:00+02:00', sentAt: '2024-05-01T12:00:30+02:00' }],
    });
    expect(accepted[0]?.timestamp).toBe('2024-05-01T11:59:30.000Z');
  });

  it('uses originalTimestamp when there is no timestamp, and the receive time when there is neither', () => {
    const { accepted } = triage({
      sentAt: '2024-05-01T12:01:00.000Z',
      batch: [
        { ...track, originalTimestamp: '2024-05-01T12:00:00.000Z' },
        { ...track, messageId: 'm2' },
      ],
    });
    expect(accepted.map((event) => event.timestamp)).toEqual([
      '2024-05-01T11:59:00.000Z',
      '2024-05-01T12:00:00.000Z',
    ]);
    expect(accepted[1]?.receivedAt).toBe(new Date(receivedAtMillis).toISOString());
  });

  it('rejects a correction that leaves the years 0000-9999', () => {
    const { rejected } = triage({
      batch: [{ ...track, timestamp: '0001-01-01T00:00:00Z', sentAt: '9999-01-01T00:00:00Z' }],
    });
    expect(rejected[0]?.errors).toEqual([
      'timestamp: corrected for clock skew by sentAt it falls outside the years 0000-9999; check sentAt',
    ]);
  });
});

describe('single-event routes', () => {
  it('take the type from the path when the body has none', () => {
    const { accepted } = triage({ userId: 'u1', event: 'Signed Up' }, 'track');
    expect(accepted[0]).toMatchObject({ type: 'track', event: 'Signed Up' });
  });

  it('reject a body whose type contradicts the path', () => {
    const { rejected } = triage({ type: 'page', userId: 'u1' }, 'track');
    expect(rejected).toEqual([{ index: 0, errors: ['type: expected "track" on /v1/track, got "page"'] }]);
  });
});

describe('rejections', () => {
  it('keep the valid events of the batch and name the field of the others', () => {
    const { accepted, rejected } = triage({
      batch: [
        track,
        { ...track, messageId: 'bad-revenue', properties: { revenue: 'lots' } },
        'not an event',
        { type: 'identify', messageId: 42 },
      ],
    });
    expect(accepted.map((event) => event.messageId)).toEqual(['m1']);
    expect(rejected).toEqual([
      { index: 1, messageId: 'bad-revenue', errors: ['properties.revenue: expected number'] },
      { index: 2, errors: ['expected an event object'] },
      { index: 3, messageId: '42', errors: ['userId or anonymousId: one is required'] },
    ]);
  });

  it('reject an event stamped more than a day ahead of its arrival, naming timestamp', () => {
    const ahead = new Date(receivedAtMillis + 25 * 60 * 60 * 1000).toISOString();
    const { accepted, rejected } = triage({
      batch: [{ ...track, messageId: 'future', timestamp: ahead }, track],
    });
    expect(accepted.map((event) => event.messageId)).toEqual(['m1']);
    expect(rejected[0]?.errors[0]).toMatch(/^timestamp: .* is more than a day after the request arrived/);
  });

  it('tell apart identical events of one request that carry neither messageId nor timestamp', () => {
    const { messageId: _id, timestamp: _at, ...bare } = track as Record<string, unknown>;
    const first = triage({ batch: [bare, bare] }).accepted.map((event) => event.messageId);
    expect(new Set(first).size).toBe(2);
    const retried = triage({ batch: [bare, bare] }).accepted.map((event) => event.messageId);
    expect(retried).toEqual(first);
  });

  it('reject a document thousands of levels deep alone, without a stack overflow', () => {
    let deep: unknown = 'leaf';
    for (let level = 0; level < 10_000; level++) deep = { a: deep };
    const { accepted, rejected } = triage({
      batch: [{ ...track, messageId: 'deep', properties: { a: deep } }, track],
    });
    expect(accepted.map((event) => event.messageId)).toEqual(['m1']);
    expect(rejected).toEqual([
      { index: 0, messageId: 'deep', errors: ['nested more than 16 levels deep: flatten it'] },
    ]);
  });

  it('make a 400 naming each field with its place in the batch when nothing is valid', () => {
    const envelope = readEnvelope({ batch: [{ ...track, properties: { revenue: 'x' } }, 5] }, 'batch');
    const error = nothingAccepted(triageEvents(envelope, receipt), envelope);
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error.message).toBe(
      'no event in the batch is valid: batch[0].properties.revenue: expected number; batch[1]: expected an event object',
    );
    expect(error.body).toEqual({
      rejected: [
        { index: 0, messageId: 'm1', errors: ['properties.revenue: expected number'] },
        { index: 1, errors: ['expected an event object'] },
      ],
    });
  });
});

describe('the 32 KB event limit', () => {
  it('takes an event of exactly 32 KB and refuses one byte more', () => {
    const { accepted, rejected } = triage({
      batch: [eventOfSize(maxEventBytes), eventOfSize(maxEventBytes + 1)],
    });
    expect(accepted).toHaveLength(1);
    expect(rejected).toEqual([
      {
        index: 1,
        messageId: 'm1',
        errors: ['event is 32769 bytes; the limit is 32 KB (32768 bytes) per event'],
      },
    ]);
  });

  it('counts the batch context merged into the event', () => {
    const { rejected } = triage({ context: { note: 'x'.repeat(100) }, batch: [eventOfSize(maxEventBytes)] });
    expect(rejected).toHaveLength(1);
  });

  it('makes a 413 when size was the only reason nothing was accepted', () => {
    const envelope = readEnvelope({ batch: [eventOfSize(40_000), eventOfSize(33_000)] }, 'batch');
    const error = nothingAccepted(triageEvents(envelope, receipt), envelope);
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    expect(error.message).toBe(
      'every event in the batch is over the limit of 32 KB (32768 bytes) per event; batch[0]: event is 40000 bytes; the limit is 32 KB (32768 bytes) per event',
    );
  });

  it('makes a 400 when some were too large and others invalid', () => {
    const envelope = readEnvelope({ batch: [eventOfSize(40_000), { type: 'track' }] }, 'batch');
    expect(nothingAccepted(triageEvents(envelope, receipt), envelope)).toBeInstanceOf(BadRequestError);
  });
});

describe('property: every event is either accepted or rejected', () => {
  const id = fc.oneof(fc.string({ minLength: 1, maxLength: 20 }), fc.integer());
  const validEvent = fc.oneof(
    fc.record({
      type: fc.constant('track'),
      userId: id,
      event: fc.string({ minLength: 1, maxLength: 30 }),
      properties: fc.record({
        revenue: fc.oneof(
          fc.double({ noNaN: true, min: -1e15, max: 1e15 }).filter((n) => n === 0 || Math.abs(n) >= 1e-130),
          fc.nat().map(String),
        ),
      }),
    }),
    fc.record({ type: fc.constantFrom('page', 'screen', 'identify'), anonymousId: id }),
    fc.record({ type: fc.constant('group'), userId: id, groupId: id }),
    fc.record({ type: fc.constant('alias'), userId: id, previousId: id }),
  );
  const invalidEvent = fc.oneof(
    fc.record({ type: fc.constant('track'), userId: id }),
    fc.record({
      type: fc.constant('track'),
      userId: id,
      event: fc.constant('x'),
      properties: fc.record({ revenue: fc.constant('lots') }),
    }),
    fc.record({ type: fc.constantFrom('page', 'identify', 'group') }),
    fc.record({ type: fc.constant('alias'), userId: id }),
    fc
      .record({ type: fc.string(), userId: id })
      .filter((event) => !['track', 'identify', 'page', 'screen', 'group', 'alias'].includes(event.type)),
    fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.array(fc.nat())),
  );
  const tagged = fc.oneof(
    validEvent.map((event) => ({ valid: true, event: event as unknown })),
    invalidEvent.map((event) => ({ valid: false, event: event as unknown })),
  );

  it('accepted + rejected = batch length, and every valid event is accepted', () => {
    fc.assert(
      fc.property(fc.array(tagged, { minLength: 1, maxLength: 30 }), (items) => {
        const { accepted, rejected } = triage({ batch: items.map((item) => item.event) });
        expect(accepted.length + rejected.length).toBe(items.length);
        const expectedRejected = items.flatMap((item, index) => (item.valid ? [] : [index]));
        expect(rejected.map((rejection) => rejection.index)).toEqual(expectedRejected);
        for (const rejection of rejected) expect(rejection.errors.length).toBeGreaterThan(0);
        for (const event of accepted) expect(ingestEvent.safeParse(event).success).toBe(true);
      }),
    );
  });
});
