import { isJsonObject, type SegmentType, segmentBatch } from '#events/segment.ts';
import { BadRequestError, NotFoundError } from '#shared/http.ts';
import { describeIssue } from './validate.ts';

/** A batch, or one event whose type the path names. */
export type CollectRoute = 'batch' | SegmentType;

/**
 * The events of one request, with what the batch says about all of them. On a single-event route the
 * body is the event, and the route is the type it must have.
 */
export interface Envelope {
  route: CollectRoute;
  events: unknown[];
  context?: Record<string, unknown>;
  integrations?: Record<string, unknown>;
  sentAt?: string;
  writeKey?: string;
}

const pathNames = new Map<string, CollectRoute>([
  ['batch', 'batch'],
  ['import', 'batch'],
  ['track', 'track'],
  ['identify', 'identify'],
  ['page', 'page'],
  ['screen', 'screen'],
  ['group', 'group'],
  ['alias', 'alias'],
  // analytics.js (analytics-next) posts each event to the first letter of its type, and batches to /b.
  ['b', 'batch'],
  ['t', 'track'],
  ['i', 'identify'],
  ['p', 'page'],
  ['s', 'screen'],
  ['g', 'group'],
  ['a', 'alias'],
]);

/** The route of a request path; a stage prefix such as `/prod` in front of `/v1/...` is allowed. */
export function collectRoute(path: string): CollectRoute {
  const name = /\/v1\/([a-z]+)\/?$/.exec(path)?.[1];
  const route = name === undefined ? undefined : pathNames.get(name);
  if (route === undefined) {
    throw new NotFoundError(
      `no collect route at ${path}: post to /v1/batch, or /v1/track, /v1/identify, ...`,
    );
  }
  return route;
}

/** JSON.parse with an error that tells the client where its body went wrong, when V8 says. */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') throw new BadRequestError('request body is empty: send a JSON object');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new BadRequestError(`body is not valid JSON: ${jsonProblem(error, text)}`);
  }
}

function jsonProblem(error: unknown, text: string): string {
  const message = error instanceof Error ? error.message : String(error);
  const at = / in JSON at position (\d+)/.exec(message);
  if (at?.[1] !== undefined) {
    const position = Number(at[1]);
    const before = text.slice(0, position);
    const line = before.split('\n').length;
    const column = position - before.lastIndexOf('\n');
    return `${message.slice(0, at.index)} at line ${line}, column ${column} (position ${position})`;
  }
  // "Unexpected token 'x', "...{"a":x}..." is not valid JSON": the quoted excerpt only repeats the body.
  const token = /^(Unexpected token .+?), .* is not valid JSON$/s.exec(message);
  return token?.[1] ?? message;
}

/** What the body of a request on this route says, or a 400 naming what is wrong with its shape. */
export function readEnvelope(body: unknown, route: CollectRoute): Envelope {
  if (route !== 'batch') {
    if (!isJsonObject(body))
      throw new BadRequestError(`body: expected a JSON object with the ${route} event`);
    const writeKey = typeof body.writeKey === 'string' ? body.writeKey : undefined;
    return { route, events: [body], writeKey };
  }
  const parsed = segmentBatch.safeParse(body);
  if (!parsed.success) {
    if (!isJsonObject(body)) throw new BadRequestError('body: expected a JSON object with a batch array');
    throw new BadRequestError(parsed.error.issues.map(describeIssue).join('; '));
  }
  const { batch, context, integrations, sentAt, writeKey } = parsed.data;
  return { route, events: batch, context, integrations, sentAt, writeKey };
}
