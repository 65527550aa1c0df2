import { gunzipSync } from 'node:zlib';
import { BadRequestError, PayloadTooLargeError } from '#shared/http.ts';

/**
 * Segment's limits (https://segment.com/docs/connections/sources/catalog/libraries/server/http-api/#max-request-size):
 * Segment libraries split their batches by them already, so a compatible client never meets them. They
 * also keep every queued event well under an SQS message's size.
 */
export const maxRequestBytes = 500 * 1024;
export const maxEventBytes = 32 * 1024;

const gzipMagic = [0x1f, 0x8b];

function requestTooLarge(bytes: string): PayloadTooLargeError {
  return new PayloadTooLargeError(
    `request body is ${bytes} bytes; the limit is 500 KB (${maxRequestBytes} bytes) per request: send fewer events per batch`,
  );
}

/**
 * The request body as text, within the request limit. Some Segment libraries gzip their batches
 * (`Content-Encoding: gzip`); the limit applies to the body once inflated, and inflating stops there,
 * so that a small compressed body cannot blow up in memory.
 */
export function decodeRequestBody(body: Buffer, contentEncoding: string | undefined): string {
  const gzipped =
    contentEncoding?.toLowerCase().includes('gzip') === true &&
    gzipMagic.every((byte, i) => body[i] === byte);
  if (!gzipped) {
    if (body.length > maxRequestBytes) throw requestTooLarge(String(body.length));
    return body.toString('utf8');
  }
  try {
    return gunzipSync(body, { maxOutputLength: maxRequestBytes }).toString('utf8');
  } catch (error) {
    if (error instanceof RangeError) throw requestTooLarge(`over ${maxRequestBytes}`);
    throw new BadRequestError('body: Content-Encoding says gzip but the body is not valid gzip');
  }
}

/** An event's size as Segment counts it: the bytes of its JSON. */
export function eventBytes(event: unknown): number {
  return Buffer.byteLength(JSON.stringify(event) ?? '', 'utf8');
}

export function eventTooLargeMessage(bytes: number): string {
  return `event is ${bytes} bytes; the limit is 32 KB (${maxEventBytes} bytes) per event`;
}
