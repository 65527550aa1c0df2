import { performance } from 'node:perf_hooks';
import type { LocalStack } from '#infra/local/stack.ts';
import { log } from './format.ts';
import { gatewayRequest } from './gateway.ts';
import { parseObject } from './json.ts';
import { inPool } from './pool.ts';
import type { SyntheticData } from './synthetic.ts';

/** Posting the synthetic traffic through the gateway's POST /v1/batch, as a Segment client sends it. */
export interface BatchRequest {
  /** The batch array, serialized before the clock starts. */
  batchJson: string;
  events: number;
}

export interface PostResult {
  latenciesMs: number[];
  accepted: number;
}

/**
 * Requests as a server-side Segment client sends them: events in the order they happened, cut into
 * batches, so that each request holds a slice of several customers' journeys.
 */
export function cutRequests(data: SyntheticData, batchSize: number): BatchRequest[] {
  const requests: BatchRequest[] = [];
  for (let start = 0; start < data.events.length; start += batchSize) {
    const slice = data.events.slice(start, start + batchSize).map((item) => item.event);
    requests.push({ batchJson: JSON.stringify(slice), events: slice.length });
  }
  return requests;
}

/** Posts every request, `concurrency` at a time; any request not wholly accepted fails the run. */
export async function postAll(
  stack: LocalStack,
  requests: readonly BatchRequest[],
  concurrency: number,
  deadline: number,
): Promise<PostResult> {
  const authorization = `Basic ${Buffer.from(`${stack.keys.write}:`).toString('base64')}`;
  const latenciesMs: number[] = [];
  let accepted = 0;
  let lastReported = 0;
  await inPool(requests, concurrency, async (request, index) => {
    if (Date.now() > deadline) throw new Error('the bench ran out of time while posting');
    const body = `{"batch":${request.batchJson},"sentAt":"${new Date().toISOString()}"}`;
    const start = performance.now();
    const { status, text } = await gatewayRequest(stack, '/v1/batch', {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/json' },
      body,
    });
    latenciesMs.push(performance.now() - start);
    checkAccepted(index, request, status, text);
    accepted += request.events;
    const done = Math.floor((10 * (index + 1)) / requests.length);
    if (done > lastReported) {
      lastReported = done;
      if (done < 10) log(`posted ${done * 10}%`);
    }
  });
  return { latenciesMs, accepted };
}

function checkAccepted(index: number, request: BatchRequest, status: number, text: string): void {
  if (status !== 200) {
    throw new Error(`request ${index}: POST /v1/batch answered ${status}: ${text.slice(0, 500)}`);
  }
  const answer = parseObject(text);
  const rejected = Array.isArray(answer?.rejected) ? answer.rejected : undefined;
  if (answer?.accepted !== request.events || !rejected || rejected.length > 0) {
    throw new Error(
      `request ${index}: expected ${request.events} accepted and none rejected, got ${text.slice(0, 500)}`,
    );
  }
}
