import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeRequestBody, maxRequestBytes } from '#shared/collect/limits.ts';
import { collectRoute, parseJsonBody, readEnvelope } from '#shared/collect/request.ts';
import { BadRequestError, NotFoundError, PayloadTooLargeError } from '#shared/http.ts';

function thrown(work: () => unknown): unknown {
  try {
    work();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('collectRoute', () => {
  it('maps the Segment paths, with and without a stage prefix', () => {
    expect(collectRoute('/v1/batch')).toBe('batch');
    expect(collectRoute('/v1/track')).toBe('track');
    expect(collectRoute('/prod/v1/alias/')).toBe('alias');
    expect(collectRoute('/v1/import')).toBe('batch');
  });

  it("maps analytics.js's one-letter paths", () => {
    expect(['/v1/t', '/v1/i', '/v1/p', '/v1/s', '/v1/g', '/v1/a', '/v1/b'].map(collectRoute)).toEqual([
      'track',
      'identify',
      'page',
      'screen',
      'group',
      'alias',
      'batch',
    ]);
  });

  it('is a 404 for anything else, inherited names included', () => {
    expect(thrown(() => collectRoute('/v1/purchase'))).toBeInstanceOf(NotFoundError);
    expect(thrown(() => collectRoute('/v1/constructor'))).toBeInstanceOf(NotFoundError);
  });
});

describe('parseJsonBody', () => {
  it('says where the JSON went wrong, by line and column', () => {
    const error = thrown(() => parseJsonBody('{"batch": [\n  {"type": "track",}\n]}'));
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as Error).message).toMatch(
      /^body is not valid JSON: .+ at line 2, column 20 \(position 31\)$/,
    );
  });

  it('names the unexpected token without repeating the body', () => {
    const error = thrown(() => parseJsonBody(`{"a": x${' '.repeat(200)}}`));
    expect((error as Error).message).toBe("body is not valid JSON: Unexpected token 'x'");
  });

  it('is a 400 for an empty body', () => {
    const error = thrown(() => parseJsonBody('  '));
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as Error).message).toBe('request body is empty: send a JSON object');
  });
});

describe('readEnvelope', () => {
  function message(body: unknown): string {
    const error = thrown(() => readEnvelope(body, 'batch'));
    expect(error).toBeInstanceOf(BadRequestError);
    return (error as Error).message;
  }

  it('refuses an empty or missing batch', () => {
    expect(message({ batch: [] })).toBe('batch: expected at least one event');
    expect(message({ events: [] })).toBe('batch: required, expected an array of events');
    expect(message({ batch: {} })).toBe('batch: expected an array of events');
    expect(message([{ type: 'track' }])).toBe('body: expected a JSON object with a batch array');
  });

  it('checks what the batch says about all its events', () => {
    expect(message({ batch: [{}], sentAt: 'soon', writeKey: 5 })).toBe(
      'writeKey: expected string; sentAt: expected an ISO 8601 date, e.g. 2024-05-01T12:00:00.000Z',
    );
  });

  it('reads the write key from the batch or from the single event', () => {
    expect(readEnvelope({ batch: [{}], writeKey: 'wk_1' }, 'batch').writeKey).toBe('wk_1');
    expect(readEnvelope({ userId: 'u1', writeKey: 'wk_2' }, 'identify')).toMatchObject({
      route: 'identify',
      writeKey: 'wk_2',
      events: [{ userId: 'u1', writeKey: 'wk_2' }],
    });
  });

  it('wants an object on a single-event route', () => {
    expect(thrown(() => readEnvelope([1], 'track'))).toBeInstanceOf(BadRequestError);
  });
});

describe('the 500 KB request limit', () => {
  it('takes a body of exactly 500 KB and refuses one byte more, naming the limit', () => {
    expect(decodeRequestBody(Buffer.alloc(maxRequestBytes, 0x20), undefined)).toHaveLength(maxRequestBytes);
    const error = thrown(() => decodeRequestBody(Buffer.alloc(maxRequestBytes + 1, 0x20), undefined));
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    expect((error as Error).message).toBe(
      'request body is 512001 bytes; the limit is 500 KB (512000 bytes) per request: send fewer events per batch',
    );
  });

  it('inflates gzip, and applies the limit to the inflated body', () => {
    expect(decodeRequestBody(gzipSync('{"batch":[]}'), 'gzip')).toBe('{"batch":[]}');
    const bomb = gzipSync(Buffer.alloc(maxRequestBytes + 1, 0x20));
    expect(bomb.length).toBeLessThan(maxRequestBytes);
    expect(thrown(() => decodeRequestBody(bomb, 'gzip'))).toBeInstanceOf(PayloadTooLargeError);
  });

  it('reads a body as it is when it is not gzip after all, and refuses broken gzip', () => {
    expect(decodeRequestBody(Buffer.from('{}'), 'gzip')).toBe('{}');
    expect(thrown(() => decodeRequestBody(Buffer.from([0x1f, 0x8b, 1, 2, 3]), 'gzip'))).toBeInstanceOf(
      BadRequestError,
    );
  });
});
