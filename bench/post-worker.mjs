// The bench's load generator, on a thread of its own so that posting does not take turns with the
// stack on the main thread's event loop, as a real client would not. Plain JavaScript: worker threads
// do not load TypeScript through the bench's loader. See post.ts for what it is given and answers.
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';

const requestTimeoutMs = 60_000;
const { url, authorization, requests, concurrency, deadline } = workerData;

let next = 0;
let failure;

async function postNext() {
  while (failure === undefined && next < requests.length) {
    const index = next++;
    const request = requests[index];
    if (Date.now() > deadline) {
      failure = 'the bench ran out of time while posting';
      return;
    }
    const body = `{"batch":${request.batchJson},"sentAt":"${new Date().toISOString()}"}`;
    const start = performance.now();
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(requestTimeoutMs),
      });
      const text = await response.text();
      parentPort?.postMessage({
        kind: 'posted',
        index,
        status: response.status,
        text,
        ms: performance.now() - start,
      });
    } catch (error) {
      failure = `request ${index}: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
}

await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, requests.length)) }, postNext));
parentPort?.postMessage(failure === undefined ? { kind: 'done' } : { kind: 'failed', reason: failure });
