import { performance } from 'node:perf_hooks';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { LocalStack } from '#infra/local/stack.ts';
import type { CpuReaders } from './cpu.ts';

/** The ingest queue over time: its depth, the events ingested, the worker's batches and CPU, every 250 ms. */
export interface Sample {
  atMs: number;
  queueVisible: number;
  queueInFlight: number;
  ingested: number;
  batches: number;
  nodeCpuMs: number;
  javaCpuMs: number | null;
}

interface Sampler {
  samples: Sample[];
  stop(): Promise<void>;
}

const sampleIntervalMs = 250;

export function startSampler(
  stack: LocalStack,
  sqs: SQSClient,
  readers: CpuReaders,
  ingested: () => number,
): Sampler {
  const samples: Sample[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const atMs = performance.now();
      const counters = stack.workers.ingest.counters();
      const nodeCpuMs = readers.node();
      let depth = { visible: -1, inFlight: -1 };
      try {
        depth = await queueDepth(sqs, stack.queues.queueUrl);
      } catch {
        // A missed sample is only a gap in the curve.
      }
      samples.push({
        atMs,
        queueVisible: depth.visible,
        queueInFlight: depth.inFlight,
        ingested: ingested(),
        batches: counters.batches,
        nodeCpuMs,
        javaCpuMs: readers.java(),
      });
      await new Promise((resolve) => setTimeout(resolve, sampleIntervalMs));
    }
  })();
  return {
    samples,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

/** Messages waiting in a queue, and messages received but not yet deleted. */
export async function queueDepth(
  sqs: SQSClient,
  queueUrl: string,
): Promise<{ visible: number; inFlight: number }> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    visible: Number(Attributes.ApproximateNumberOfMessages ?? '0'),
    inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? '0'),
  };
}
