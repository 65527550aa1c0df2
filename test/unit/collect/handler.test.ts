import { gzipSync } from 'node:zlib';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { Analytics } from '@segment/analytics-node';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import 'aws-sdk-client-mock-vitest/extend';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ingestEvent } from '#events/ingest-event.ts';
import { handler } from '#functions/collect.ts';
import { corsHeaders } from '#shared/http.ts';
import { ingestMessageEvents } from '#shared/ingest-queue.ts';
import {
  acceptAll,
  adminKey,
  basicAuth,
  type HttpRequest,
  httpEvent,
  lambdaContext,
  mockAws,
  queuedBodies,
  receivedAtMillis,
  writeKey,
} from './fixtures.ts';

let aws: ReturnType<typeof mockAws>;
let errorLog: ReturnType<typeof vi.spyOn>;

beforeEach(() => {
  aws = mockAws();
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(receivedAtMillis);
  errorLog = vi.spyOn(console, 'error').mockImplementation(() => {});
});

afterEach(() => {
  aws.restore();
  vi.useRealTimers();
  vi.restoreAllMocks();
});

async function post(request: HttpRequest): Promise<{
  status: number | undefined;
  body: Record<string, unknown>;
  result: APIGatewayProxyStructuredResultV2;
}> {
  const result = await handler(
    httpEvent({ ...request, headers: { authorization: basicAuth(writeKey), ...request.headers } }),
    lambdaContext,
  );
  return { status: result.statusCode, body: result.body ? JSON.parse(result.body) : {}, result };
}

const track = {
  type: 'track',
  userId: 'u1',
  event: 'Order Completed',
  properties: { revenue: '69.90', currency: 'eur' },
};

describe('POST /v1/batch', () => {
  it('queues the events and answers 200 with what it accepted', async () => {
    const { status, body, result } = await post({
      body: {
        batch: [track, { type: 'page', anonymousId: 'a1', name: 'Home' }],
        sentAt: '2024-05-01T12:00:00Z',
      },
    });
    expect(status).toBe(200);
    expect(body).toEqual({ success: true, accepted: 2, rejected: [] });
    expect(result.headers).toMatchObject(corsHeaders);
    const queued = queuedBodies(aws.sqs);
    expect(queued).toHaveLength(2);
    for (const event of queued) expect(ingestEvent.parse(event)).toMatchObject({ source: 'shop' });
    expect(queued[0]).toMatchObject({
      properties: { revenue: 69.9, currency: 'EUR' },
      receivedAt: '2024-05-01T12:00:00.000Z',
    });
  });

  it('keeps the valid events and lists the others', async () => {
    const { status, body } = await post({
      body: { batch: [track, { ...track, messageId: 'm-bad', properties: { revenue: 'lots' } }] },
    });
    expect(status).toBe(200);
    expect(body).toEqual({
      success: true,
      accepted: 1,
      rejected: [{ index: 1, messageId: 'm-bad', errors: ['properties.revenue: expected number'] }],
    });
    expect(queuedBodies(aws.sqs)).toHaveLength(1);
  });

  it('is a 400 with the rejected list when no event is valid', async () => {
    const { status, body, result } = await post({ body: { batch: [{ type: 'track', userId: 'u1' }] } });
    expect(status).toBe(400);
    expect(body).toEqual({
      success: false,
      error: 'no event in the batch is valid: batch[0].event: required, expected a non-empty string',
      rejected: [{ index: 0, errors: ['event: required, expected a non-empty string'] }],
    });
    expect(result.headers).toMatchObject(corsHeaders);
    expect(aws.sqs).not.toHaveReceivedCommand(SendMessageBatchCommand);
  });

  it('is a 400 for an empty batch and for malformed JSON, saying where', async () => {
    expect((await post({ body: { batch: [] } })).body.error).toBe('batch: expected at least one event');
    const malformed = await post({ body: '{"batch": [{"type": "track"]}' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error).toMatch(/^body is not valid JSON: .* at line 1, column 28 \(position 27\)$/);
  });

  it('inflates a gzipped body', async () => {
    const { status, body } = await post({
      rawBody: gzipSync(JSON.stringify({ batch: [track] })),
      headers: { 'content-encoding': 'gzip' },
    });
    expect(status).toBe(200);
    expect(body.accepted).toBe(1);
  });
});

describe('single-event routes', () => {
  it('take the type from the path and the write key from the body', async () => {
    const { status, body } = await post({
      path: '/v1/identify',
      body: { userId: 'u1', traits: { email: 'a@example.com' }, writeKey },
      headers: { authorization: '' },
    });
    expect(status).toBe(200);
    expect(body).toEqual({ success: true, accepted: 1, rejected: [] });
    expect(queuedBodies(aws.sqs)[0]).toMatchObject({ type: 'identify', traits: { email: 'a@example.com' } });
  });

  it('are a 400 for a type that contradicts the path', async () => {
    const { status, body } = await post({ path: '/v1/track', body: { ...track, type: 'page' } });
    expect(status).toBe(400);
    expect(body.error).toBe('invalid track event: type: expected "track" on /v1/track, got "page"');
  });

  it('are a 413 for an event over 32 KB', async () => {
    const { status, body } = await post({
      path: '/v1/track',
      body: { ...track, properties: { notes: 'x'.repeat(33_000) } },
    });
    expect(status).toBe(413);
    expect(body.error).toMatch(/^event is \d+ bytes; the limit is 32 KB \(32768 bytes\) per event$/);
  });
});

describe('limits', () => {
  it('is a 413 naming the limit for a body over 500 KB', async () => {
    const batch = Array.from({ length: 20 }, (_, i) => ({
      ...track,
      messageId: `m${i}`,
      properties: { notes: 'x'.repeat(30_000) },
    }));
    const { status, body } = await post({ body: { batch } });
    expect(status).toBe(413);
    expect(body.error).toMatch(/the limit is 500 KB \(512000 bytes\) per request/);
  });

  it('rejects an oversized event of a batch and keeps the others', async () => {
    const { status, body } = await post({
      body: { batch: [track, { ...track, messageId: 'big', properties: { notes: 'x'.repeat(33_000) } }] },
    });
    expect(status).toBe(200);
    expect(body.accepted).toBe(1);
    expect(body.rejected).toEqual([
      { index: 1, messageId: 'big', errors: [expect.stringMatching(/^event is \d+ bytes/)] },
    ]);
  });

  it('is a 413 when every event of the batch is oversized', async () => {
    const big = { ...track, properties: { notes: 'x'.repeat(33_000) } };
    expect((await post({ body: { batch: [big, big] } })).status).toBe(413);
  });
});

describe('auth', () => {
  it('is a 401 saying how to pass the key when there is none', async () => {
    const { status, body } = await post({ body: { batch: [track] }, headers: { authorization: '' } });
    expect(status).toBe(401);
    expect(body.error).toMatch(/^missing write key: send the write key as the HTTP Basic username/);
  });

  it('is a 401 before anything else is said about a body without a key', async () => {
    for (const body of [{ batch: 'not a list' }, { batch: [] }]) {
      const { status, body: answer } = await post({ body, headers: { authorization: '' } });
      expect(status).toBe(401);
      expect(answer.error).toMatch(/^missing write key/);
    }
  });

  it('is a 401 for an unknown key', async () => {
    const { status, body } = await post({
      body: { batch: [track] },
      headers: { authorization: basicAuth('wk_nobody') },
    });
    expect(status).toBe(401);
    expect(body.error).toMatch(/^unknown or revoked write key/);
  });

  it('lets an admin key post, with its source', async () => {
    const { status } = await post({
      body: { batch: [track] },
      headers: { authorization: basicAuth(adminKey) },
    });
    expect(status).toBe(200);
    expect(queuedBodies(aws.sqs)[0]).toMatchObject({ source: 'backoffice' });
  });
});

describe('failures', () => {
  it('retries a partial SendMessageBatch failure and answers 200', async () => {
    // Ten events of 30 KB take two messages, each in a call of its own; the first call fails once.
    const batch = Array.from({ length: 10 }, (_, i) => ({
      ...track,
      messageId: `m${i}`,
      properties: { notes: 'x'.repeat(30_000) },
    }));
    aws.sqs
      .on(SendMessageBatchCommand)
      .resolvesOnce({ Successful: [], Failed: [{ Id: '0', Code: 'InternalError', SenderFault: false }] })
      .callsFake(acceptAll);
    const { status, body } = await post({ body: { batch } });
    expect(status).toBe(200);
    expect(body.accepted).toBe(10);
    const calls = aws.sqs
      .commandCalls(SendMessageBatchCommand)
      .map((call) => call.args[0].input.Entries ?? []);
    expect(calls.map((entries) => entries.map((entry) => entry.Id))).toEqual([['0'], ['1'], ['0']]);
    expect(calls[2]?.[0]?.MessageBody).toBe(calls[0]?.[0]?.MessageBody);
    const messageIds = (entries: { MessageBody?: string }[] | undefined) =>
      (entries ?? []).flatMap((entry) =>
        ingestMessageEvents(entry.MessageBody ?? '').map((event) => ingestEvent.parse(event).messageId),
      );
    // The retried message and the one taken at once hold every event, in the request's order.
    expect([...messageIds(calls[2]), ...messageIds(calls[1])]).toEqual(batch.map((event) => event.messageId));
  });

  it('is a 503 without internals when SQS keeps failing', async () => {
    aws.sqs.on(SendMessageBatchCommand).resolves({
      Successful: [],
      Failed: [
        { Id: '0', Code: 'KMS.ThrottlingException', SenderFault: false, Message: 'arn:aws:kms:secret' },
      ],
    });
    const { status, body } = await post({ body: { batch: [track] } });
    expect(status).toBe(503);
    expect(body).toEqual({ success: false, error: 'could not queue every event; retry the request' });
  });

  it('is a plain 500 for an unexpected error, logged for the operator', async () => {
    aws.dynamo.on(GetCommand).rejects(new Error('ProvisionedThroughputExceeded on table rapport-test'));
    const { status, body, result } = await post({ body: { batch: [track] } });
    expect(status).toBe(500);
    expect(body).toEqual({ success: false, error: 'internal error' });
    expect(result.headers).toMatchObject(corsHeaders);
    expect(errorLog).toHaveBeenCalled();
  });

  it('is a 404 for a path that is no collect route', async () => {
    expect((await post({ path: '/v1/purchase', body: track })).status).toBe(404);
  });
});

describe('OPTIONS', () => {
  it('answers 204 with the CORS headers', async () => {
    const result = await handler(httpEvent({ method: 'OPTIONS', path: '/v1/t' }), lambdaContext);
    expect(result).toEqual({ statusCode: 204, headers: corsHeaders });
  });
});

describe('a real Segment client', () => {
  it('analytics-node works by changing only its host', async () => {
    const requests: HttpRequest[] = [];
    const analytics = new Analytics({
      writeKey,
      host: 'https://collect.test',
      flushAt: 3,
      maxRetries: 0,
      httpClient: async (url, init) => {
        const request = { path: new URL(url).pathname, body: init.body, headers: init.headers };
        requests.push(request);
        const result = await handler(httpEvent(request), lambdaContext);
        return { status: result.statusCode ?? 500, statusText: String(result.statusCode), headers: {} };
      },
    });
    analytics.identify({ userId: 'u1', traits: { email: 'a@example.com' } });
    analytics.track({ userId: 'u1', event: 'Product Viewed', properties: { product_id: 'p1', price: 12.5 } });
    analytics.page({
      anonymousId: 'a1',
      name: 'Home',
      context: { campaign: { name: 'spring', source: 'newsletter', medium: 'email' } },
    });
    await analytics.closeAndFlush();

    expect(requests.map((request) => request.path)).toEqual(['/v1/batch']);
    const queued = queuedBodies(aws.sqs).map((event) => ingestEvent.parse(event));
    expect(queued.map((event) => event.type)).toEqual(['identify', 'track', 'page']);
    expect(queued[2]?.context).toMatchObject({
      campaign: { source: 'newsletter' },
      library: { name: '@segment/analytics-node' },
    });
    expect(queued.every((event) => !event.messageId.startsWith('rapport-'))).toBe(true);
  });
});
