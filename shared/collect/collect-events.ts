import { isJsonObject } from '#events/segment.ts';
import { enqueueEvents } from '#shared/ingest-queue.ts';
import { authenticateWriteKey, presentedWriteKey } from './auth.ts';
import { decodeRequestBody } from './limits.ts';
import { type CollectRoute, parseJsonBody, readEnvelope } from './request.ts';
import { nothingAccepted, type Rejection, triageEvents } from './triage.ts';

export interface CollectRequest {
  route: CollectRoute;
  /** The body's bytes as they arrived (possibly gzipped). */
  body: Buffer;
  contentEncoding?: string;
  authorization?: string;
  /** The time of receipt: the one clock reading, taken by the handler. */
  nowMillis: number;
}

export interface CollectResult {
  accepted: number;
  rejected: Rejection[];
}

/**
 * Take a Segment request:
 * 1. read the body within the request size limit and parse it;
 * 2. authenticate the write key, from the Authorization header or the body;
 * 3. find the batch, or the single event of the route;
 * 4. sort the events into accepted and rejected (nothing accepted: 400, or 413 if only for size);
 * 5. put the accepted events on the ingest queue, and answer only once they are all there.
 */
export async function collectEvents(request: CollectRequest): Promise<CollectResult> {
  const body = parseJsonBody(decodeRequestBody(request.body, request.contentEncoding));
  // The key first: a caller without one learns only that, whatever else is wrong with the body.
  const bodyWriteKey = isJsonObject(body) && typeof body.writeKey === 'string' ? body.writeKey : undefined;
  const key = await authenticateWriteKey(
    presentedWriteKey(request.authorization, bodyWriteKey),
    request.nowMillis,
  );
  const envelope = readEnvelope(body, request.route);
  const triage = triageEvents(envelope, { receivedAtMillis: request.nowMillis, source: key.source });
  if (triage.accepted.length === 0) throw nothingAccepted(triage, envelope);
  await enqueueEvents(triage.accepted);
  return { accepted: triage.accepted.length, rejected: triage.rejected };
}
