import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Gateway, type HttpHandler, PortInUseError, startGateway } from '#infra/local/gateway.ts';
import type { FunctionName } from '#infra/routes.ts';

/** The local gateway against fake handlers: the events it builds and the responses it writes. */
const events: APIGatewayProxyEventV2[] = [];
const errors: string[] = [];
let reply: HttpHandler = () => ({ statusCode: 200, body: 'ok' });

const handlers: Record<FunctionName, HttpHandler> = {
  collect: (event, context) => {
    events.push(event);
    return reply(event, context);
  },
  customers: (event, context) => {
    events.push(event);
    return reply(event, context);
  },
  health: () => ({ statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{"ok":true}' }),
};

let gateway: Gateway;

beforeAll(async () => {
  gateway = await startGateway({
    port: 0,
    loadHandler: async (name) => handlers[name],
    logError: (line) => errors.push(line),
  });
});

afterAll(async () => {
  await gateway.close();
});

beforeEach(() => {
  events.length = 0;
  errors.length = 0;
  reply = () => ({ statusCode: 200, body: 'ok' });
});

function lastEvent(): APIGatewayProxyEventV2 {
  const event = events.at(-1);
  if (!event) throw new Error('the handler was not called');
  return event;
}

describe('the API Gateway v2 event', () => {
  it('carries the route key, raw path and query, decoded path parameters, headers and context', async () => {
    const response = await fetch(
      `${gateway.url}/v1/customers/ada%20lovelace%2F1/timeline?limit=10&tag=a&tag=b`,
      {
        headers: {
          'X-Custom': 'Yes',
          Authorization: 'Bearer k',
          cookie: 'a=1; b=2',
          'user-agent': 'probe/1',
        },
      },
    );
    expect(response.status).toBe(200);
    const event = lastEvent();
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'GET /v1/customers/{id}/timeline',
      rawPath: '/v1/customers/ada%20lovelace%2F1/timeline',
      rawQueryString: 'limit=10&tag=a&tag=b',
      queryStringParameters: { limit: '10', tag: 'a,b' },
      pathParameters: { id: 'ada lovelace/1' },
      cookies: ['a=1', 'b=2'],
      isBase64Encoded: false,
      requestContext: {
        routeKey: 'GET /v1/customers/{id}/timeline',
        stage: '$default',
        http: {
          method: 'GET',
          path: '/v1/customers/ada%20lovelace%2F1/timeline',
          sourceIp: '127.0.0.1',
          userAgent: 'probe/1',
        },
      },
    });
    expect(event.headers).toMatchObject({
      'x-custom': 'Yes',
      authorization: 'Bearer k',
      'x-forwarded-for': '127.0.0.1',
    });
    expect(event.headers).not.toHaveProperty('cookie');
    expect(event.body).toBeUndefined();
    expect(event.requestContext.requestId).toMatch(/[0-9a-f-]{36}/);
    expect(response.headers.get('apigw-requestid')).toBe(event.requestContext.requestId);
    expect(Math.abs(event.requestContext.timeEpoch - Date.now())).toBeLessThan(5_000);
    expect(event.requestContext.time).toMatch(/^\d\d\/[A-Z][a-z]{2}\/\d{4}:\d\d:\d\d:\d\d \+0000$/);
  });

  it('matches the more specific route and leaves out what a request lacks', async () => {
    await fetch(`${gateway.url}/v1/customers/ada`);
    expect(lastEvent()).toMatchObject({ routeKey: 'GET /v1/customers/{id}', pathParameters: { id: 'ada' } });
    expect(lastEvent()).not.toHaveProperty('queryStringParameters');
    expect(lastEvent()).not.toHaveProperty('cookies');
  });

  it('passes a JSON body as text', async () => {
    const body = JSON.stringify({ userId: 'ada', event: 'Product Viewed', name: 'Zoë' });
    await fetch(`${gateway.url}/v1/track`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body,
    });
    expect(lastEvent()).toMatchObject({ routeKey: 'POST /v1/track', body, isBase64Encoded: false });
  });

  it('base64-encodes a binary or compressed body', async () => {
    const binary = Buffer.from([0, 1, 2, 255, 254]);
    await fetch(`${gateway.url}/v1/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: binary,
    });
    expect(lastEvent()).toMatchObject({ body: binary.toString('base64'), isBase64Encoded: true });

    const gzipped = gzipSync(Buffer.from('{"batch":[]}'));
    await fetch(`${gateway.url}/v1/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gzipped,
    });
    expect(lastEvent()).toMatchObject({ body: gzipped.toString('base64'), isBase64Encoded: true });
  });
});

describe('the response', () => {
  it('writes the status, headers, cookies and a base64 body', async () => {
    reply = () => ({
      statusCode: 201,
      headers: { 'content-type': 'image/gif', 'x-count': 3 },
      cookies: ['session=1; Path=/', 'theme=dark'],
      body: Buffer.from('GIF89a').toString('base64'),
      isBase64Encoded: true,
    });
    const response = await fetch(`${gateway.url}/v1/customers/ada`);
    expect(response.status).toBe(201);
    expect(response.headers.get('content-type')).toBe('image/gif');
    expect(response.headers.get('x-count')).toBe('3');
    expect(response.headers.getSetCookie()).toEqual(['session=1; Path=/', 'theme=dark']);
    expect(Buffer.from(await response.arrayBuffer()).toString()).toBe('GIF89a');
  });

  it('answers 200 JSON for a result without a status code, as API Gateway does', async () => {
    reply = () => ({ customerId: 'ada' });
    const response = await fetch(`${gateway.url}/v1/customers/ada`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toEqual({ customerId: 'ada' });
  });

  it('answers 500 without internals when the handler throws, and logs the error', async () => {
    reply = () => {
      throw new Error('secret table name in a stack trace');
    };
    const response = await fetch(`${gateway.url}/v1/customers/ada`);
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ success: false, error: 'internal error' });
    expect(errors.join('\n')).toContain('secret table name in a stack trace');
  });
});

describe('requests without a handler call', () => {
  it('answers a CORS preflight for any route with 204', async () => {
    const response = await fetch(`${gateway.url}/v1/customers/ada`, {
      method: 'OPTIONS',
      headers: { origin: 'https://shop.example', 'access-control-request-method': 'GET' },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('access-control-allow-methods')).toBe('GET,POST,OPTIONS');
    expect(response.headers.get('access-control-allow-headers')).toBe('authorization,content-type');
    expect(events).toEqual([]);
  });

  it('answers 404 JSON for an unknown path or a method the route lacks', async () => {
    const unknown = await fetch(`${gateway.url}/x`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ success: false, error: 'no route for GET /x' });
    const wrongMethod = await fetch(`${gateway.url}/v1/track`);
    expect(await wrongMethod.json()).toEqual({ success: false, error: 'no route for GET /v1/track' });
    expect(events).toEqual([]);
  });

  it('answers 413 to a body declared over 1 MB without reading it', async () => {
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        `${gateway.url}/v1/batch`,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': 5 * 1024 * 1024 },
        },
        (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => {
            text += chunk.toString();
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        },
      );
      req.on('error', reject);
      // Only the start of the declared body is ever sent: the answer must not wait for the rest.
      req.write('{"batch":[');
    });
    expect(status).toBe(413);
    expect(JSON.parse(body)).toMatchObject({ success: false });
    expect(events).toEqual([]);
  });

  it('answers 413 to a chunked body once it passes 1 MB', async () => {
    const { status } = await new Promise<{ status: number }>((resolve, reject) => {
      const req = request(
        `${gateway.url}/v1/batch`,
        { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } },
        (res) => {
          res.resume();
          resolve({ status: res.statusCode ?? 0 });
        },
      );
      req.on('error', (error: NodeJS.ErrnoException) => {
        // The gateway may close the socket while the client is still writing the rest.
        if (error.code !== 'ECONNRESET' && error.code !== 'EPIPE') reject(error);
      });
      req.write(Buffer.alloc(1024 * 1024 + 10, 'a'));
    });
    expect(status).toBe(413);
    expect(events).toEqual([]);
  });
});

describe('start-up', () => {
  it('names the port when it is in use', async () => {
    const error = await startGateway({
      port: gateway.port,
      loadHandler: async (name) => handlers[name],
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PortInUseError);
    expect(error).toMatchObject({
      port: gateway.port,
      message: `port ${gateway.port} on 127.0.0.1 is in use`,
    });
  });
});
