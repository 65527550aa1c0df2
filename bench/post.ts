import { Worker } from 'node:worker_threads';
import type { LocalStack } from '#infra/local/stack.ts';
import { log } from './format.ts';
import { parseObject } from './json.ts';
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

/**
 * Posts every request, `concurrency` at a time, from a thread of its own (post-worker.mjs), as clients
 * are not in the server's process; any request not wholly accepted fails the run.
 */
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
  const worker = new Worker(new URL('./post-worker.mjs', import.meta.url), {
    workerData: { url: `${stack.url}/v1/batch`, authorization, requests, concurrency, deadline },
  });
  try {
    await new Promise<void>((resolve, reject) => {
      worker.on('error', reject);
      worker.on('exit', (code) => reject(new Error(`the posting thread ended early (exit code ${code})`)));
      worker.on('message', (message: PosterMessage) => {
        if (message.kind === 'done') return resolve();
        if (message.kind === 'failed') return reject(new Error(message.reason));
        const request = requests[message.index];
        try {
          if (!request) throw new Error(`request ${message.index}: not one the bench made`);
          latenciesMs.push(message.ms);
          checkAccepted(message.index, request, message.status, message.text);
        } catch (error) {
          reject(error);
          return;
        }
        accepted += request.events;
        const done = Math.floor((10 * latenciesMs.length) / requests.length);
        if (done > lastReported) {
          lastReported = done;
          if (done < 10) log(`posted ${done * 10}%`);
        }
      });
    });
  } finally {
    await worker.terminate();
  }
  return { latenciesMs, accepted };
}

/** What the posting thread says: each request's answer, then whether it got through them all. */
type PosterMessage =
  | { kind: 'posted'; index: number; status: number; text: string; ms: number }
  | { kind: 'done' }
  | { kind: 'failed'; reason: string };

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
