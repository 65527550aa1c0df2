import { GetCommand, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import 'aws-sdk-client-mock-vitest/extend';
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import type { IngestEvent } from '#events/ingest-event.ts';
import { handler } from '#functions/customers.ts';
import { encodeCursor } from '#shared/customers/read-customer.ts';
import { defaultEngagementSettings } from '#shared/engagement/settings.ts';
import { foldEvents } from '#shared/engagement/state.ts';
import { corsHeaders } from '#shared/http.ts';
import { adminKey, lambdaContext, mockAws, writeKey } from '../collect/fixtures.ts';
import { minutesAfterStart as at, page, track } from '../engagement/events.ts';
import { apiEvent, bearer, parsed } from '../support/api-event.ts';

let aws: ReturnType<typeof mockAws>;
let errorLog: MockInstance<typeof console.error>;

beforeEach(() => {
  aws = mockAws();
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date(at(60)));
  errorLog = vi.spyOn(console, 'error').mockImplementation(() => {});
});

afterEach(() => {
  aws.restore();
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** u1 signed up after browsing as a1: their timeline is the union of both partitions. */
const events: IngestEvent[] = [
  page(at(0), {}, { messageId: 'm-visit', userId: undefined, anonymousId: 'a1' }),
  track('Product Viewed', at(1), { product_id: 'p1' }, { messageId: 'm-view-2', anonymousId: 'a1' }),
  track('Product Viewed', at(1), { product_id: 'p2' }, { messageId: 'm-view-1' }),
  track('Product Viewed', at(1), { product_id: 'p3' }, { messageId: 'm-view-3' }),
  track('Product Added', at(2), { product_id: 'p1', price: 120.5 }, { messageId: 'm-add' }),
  track(
    'Order Completed',
    at(3),
    { order_id: 'o1', revenue: '120.50', currency: 'USD' },
    { messageId: 'm-o1' },
  ),
  page(at(4), {}, { messageId: 'm-thanks' }),
];

const newestFirst = ['m-thanks', 'm-o1', 'm-add', 'm-view-3', 'm-view-2', 'm-view-1', 'm-visit'];

/** Stores u1 (with a1 merged into it) and answers Queries from the events, in pages of two per partition. */
function storeCustomer() {
  aws.dynamo.on(GetCommand, { Key: { pk: 'c#u1', sk: 'state' } }).resolves({
    Item: {
      pk: 'c#u1',
      sk: 'state',
      version: 3,
      members: ['a1', 'u1'],
      foldedMembers: ['a1', 'u1'],
      state: foldEvents('u1', events, defaultEngagementSettings),
      outbox: { events: [] },
    },
  });
  aws.dynamo
    .on(GetCommand, { Key: { pk: 'c#a1', sk: 'state' } })
    .resolves({ Item: { pk: 'c#a1', sk: 'state', version: 2, mergedInto: 'u1' } });
  const partitions = new Map([
    ['c#u1', events.filter((event) => event.userId === 'u1' && event.anonymousId === undefined)],
    ['c#a1', events.filter((event) => event.anonymousId === 'a1')],
  ]);
  aws.dynamo.on(QueryCommand).callsFake((input: QueryCommandInput) => {
    const stored = partitions.get(String(input.ExpressionAttributeValues?.[':pk'])) ?? [];
    const start = Number(input.ExclusiveStartKey?.offset ?? 0);
    const items = stored.slice(start, start + 2).map((event) => ({ event }));
    const more = start + 2 < stored.length;
    return { Items: items, ...(more ? { LastEvaluatedKey: { offset: start + 2 } } : {}) };
  });
}

async function get(
  route: '/v1/customers/{id}' | '/v1/customers/{id}/timeline',
  id: string,
  query?: Record<string, string>,
  headers: Record<string, string> = bearer(adminKey),
) {
  const result = await handler(
    apiEvent({ route, pathParameters: { id }, headers, ...(query ? { query } : {}) }),
    lambdaContext,
  );
  const answer = parsed(result);
  expect(answer.headers).toMatchObject(corsHeaders);
  return answer;
}

async function timeline(id: string, query?: Record<string, string>) {
  return get('/v1/customers/{id}/timeline', id, query);
}

function messageIds(body: Record<string, unknown>): string[] {
  const items = body.items;
  if (!Array.isArray(items)) throw new Error(`no items in ${JSON.stringify(body)}`);
  return items.map((item: IngestEvent) => item.messageId);
}

describe('GET /v1/customers/{id}', () => {
  it('answers the customer view, by userId and by a merged anonymousId', async () => {
    storeCustomer();
    for (const id of ['u1', 'a1']) {
      const { status, body } = await get('/v1/customers/{id}', id);
      expect(status).toBe(200);
      expect(body).toMatchObject({
        customerId: 'u1',
        anonymousIds: ['a1'],
        lifecycle: 'customer',
        orders: { count: 1, revenue: { USD: '120.50' }, firstOrderAt: at(3) },
      });
    }
    expect(aws.dynamo).not.toHaveReceivedCommand(QueryCommand);
  });

  it('routes on the route key, so a customer whose id is "timeline" is read as a customer', async () => {
    storeCustomer();
    aws.dynamo
      .on(GetCommand, { Key: { pk: 'c#timeline', sk: 'state' } })
      .resolves({ Item: { pk: 'c#timeline', sk: 'state', version: 2, mergedInto: 'u1' } });
    const { status, body } = await get('/v1/customers/{id}', 'timeline');
    expect(status).toBe(200);
    expect(body).toMatchObject({ customerId: 'u1' });
  });

  it('is a 404 whose JSON body names the unknown id', async () => {
    storeCustomer();
    for (const route of ['/v1/customers/{id}', '/v1/customers/{id}/timeline'] as const) {
      const { status, body } = await get(route, 'nobody');
      expect(status).toBe(404);
      expect(body).toEqual({ success: false, error: 'no customer with id "nobody"' });
    }
  });

  it('refuses a request without an admin key (401) and a write key (403) before reading anything', async () => {
    storeCustomer();
    const missing = await get('/v1/customers/{id}', 'u1', undefined, {});
    expect(missing.status).toBe(401);
    expect(missing.body).toEqual({
      success: false,
      error: 'an admin key is required: send the header "Authorization: Bearer <admin key>"',
    });
    const unknown = await get('/v1/customers/{id}', 'u1', undefined, bearer('ak_nobody'));
    expect(unknown.status).toBe(401);
    const write = await get('/v1/customers/{id}/timeline', 'u1', undefined, bearer(writeKey));
    expect(write.status).toBe(403);
    expect(write.body.error).toMatch(/needs an admin key/);
    expect(aws.dynamo).not.toHaveReceivedCommandWith(GetCommand, { Key: { pk: 'c#u1', sk: 'state' } });
    expect(aws.dynamo).not.toHaveReceivedCommand(QueryCommand);
  });

  it('turns an unexpected DynamoDB error into a plain 500 that leaks nothing, and logs it', async () => {
    const failure = Object.assign(
      new Error(
        'User: arn:aws:sts::123456789012:assumed-role/ingest is not authorized on table rapport-test',
      ),
      { name: 'AccessDeniedException' },
    );
    aws.dynamo.on(GetCommand, { Key: { pk: 'c#u1', sk: 'state' } }).rejects(failure);
    const { status, body } = await get('/v1/customers/{id}', 'u1');
    expect(status).toBe(500);
    expect(body).toEqual({ success: false, error: 'internal error' });
    expect(errorLog).toHaveBeenCalledWith('unhandled error', failure);
  });

  it('is a 500 without internals when the timeline Query fails', async () => {
    storeCustomer();
    aws.dynamo.on(QueryCommand).rejects(new Error('ProvisionedThroughputExceededException on c#u1'));
    const { status, body } = await timeline('u1');
    expect(status).toBe(500);
    expect(body).toEqual({ success: false, error: 'internal error' });
  });
});

describe('GET /v1/customers/{id}/timeline', () => {
  it('answers every event of every member partition, newest first, 50 by default', async () => {
    storeCustomer();
    const { status, body } = await timeline('a1');
    expect(status).toBe(200);
    expect(messageIds(body)).toEqual(newestFirst);
    expect(body.next).toBeUndefined();
    expect(aws.dynamo).toHaveReceivedCommandWith(QueryCommand, {
      ExpressionAttributeValues: { ':pk': 'c#a1', ':prefix': 'e#' },
      ConsistentRead: true,
    });
  });

  it('pages with the next cursor, returning every event exactly once, newest first', async () => {
    storeCustomer();
    for (const limit of [1, 2, 3, 4, 7]) {
      const seen: string[] = [];
      const pages: number[] = [];
      let before: string | undefined;
      do {
        const { status, body } = await timeline('u1', {
          limit: String(limit),
          ...(before === undefined ? {} : { before }),
        });
        expect(status).toBe(200);
        const ids = messageIds(body);
        seen.push(...ids);
        pages.push(ids.length);
        before = typeof body.next === 'string' ? body.next : undefined;
      } while (before !== undefined && pages.length <= newestFirst.length);
      expect(seen).toEqual(newestFirst);
      expect(pages).toHaveLength(Math.ceil(newestFirst.length / limit));
    }
  });

  it('takes an ISO timestamp as before, excluding every event at that instant', async () => {
    storeCustomer();
    const { status, body } = await timeline('u1', { before: at(1) });
    expect(status).toBe(200);
    expect(messageIds(body)).toEqual(['m-visit']);
    const date = await timeline('u1', { before: '2025-03-01T10:02:00+00:00', limit: '2' });
    expect(messageIds(date.body)).toEqual(['m-view-3', 'm-view-2']);
    expect(date.body.next).toBe(encodeCursor({ timestamp: at(1), messageId: 'm-view-2' }));
  });

  it('rejects a limit that is not a whole number from 1 to 500 with a 400 naming limit', async () => {
    storeCustomer();
    for (const limit of ['0', '501', 'abc', '2.5', '-1', '']) {
      const { status, body } = await timeline('u1', { limit });
      expect(status).toBe(400);
      expect(body).toEqual({ success: false, error: 'limit: expected a whole number from 1 to 500' });
    }
    for (const limit of ['1', '500']) {
      expect((await timeline('u1', { limit })).status).toBe(200);
    }
  });

  it('rejects a before that is neither a timestamp nor a cursor with a 400 naming before', async () => {
    storeCustomer();
    const garbage = [
      'yesterday',
      'abc',
      '2025-13-45T99:00:00Z',
      encodeCursor({ timestamp: at(1) }),
      Buffer.from(JSON.stringify({ timestamp: 'soon', messageId: 'm-o1' })).toString('base64url'),
      Buffer.from('null').toString('base64url'),
    ];
    for (const before of garbage) {
      const { status, body } = await timeline('u1', { before });
      expect(status).toBe(400);
      expect(body).toEqual({
        success: false,
        error: 'before: expected an ISO 8601 timestamp or the "next" cursor of a page',
      });
    }
  });
});
