import { performance } from 'node:perf_hooks';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { QueueWorkerCounters } from '#infra/local/queue-worker.ts';
import type { LocalStack } from '#infra/local/stack.ts';
import { capacityTotals } from '#shared/store/capacity.ts';
import { type CpuReaders, type PhaseUsage, phaseUsage, type UsageMark, usageMark } from './cpu.ts';
import { fmt, fmtMs, log } from './format.ts';
import { type BatchRequest, type PostResult, postAll } from './post.ts';
import { type CpuProfile, startProfiler } from './profile.ts';
import { type Sample, startSampler } from './sampler.ts';

/**
 * The measured phase: every request posted, then the ingest queue drained, with the queue sampled,
 * CPU marked when posting ends, capacity and worker counters taken before and after, and the CPU
 * profiler on when asked for.
 */
export interface IngestMeasurement {
  posted: PostResult;
  gatewayMs: number;
  endToEndMs: number;
  capacity: { writeUnits: number; readUnits: number };
  worker: WorkerProgress;
  phases: { posting: PhaseUsage; drainOnly: PhaseUsage };
  samples: Sample[];
  profile?: CpuProfile;
}

/** What the ingest worker did, in queue messages (each carries the events of one request or less). */
interface WorkerProgress {
  received: number;
  succeeded: number;
  failed: number;
  batches: number;
}

/** Marks taken while posting and draining. */
interface Run {
  posted: PostResult;
  start: number;
  gatewayEnd: number;
  end: number;
  usageStart: UsageMark;
  usageGateway: UsageMark;
  usageEnd: UsageMark;
  /** Events the ingest handler had taken before posting began. */
  ingestedBefore: number;
  ingestedAtGateway: number;
}

export async function measureIngest(
  stack: LocalStack,
  sqs: SQSClient,
  requests: readonly BatchRequest[],
  events: number,
  options: { concurrency: number; timeoutSeconds: number; profile: boolean },
  readers: CpuReaders,
  ingested: () => number,
): Promise<IngestMeasurement> {
  const deadline = Date.now() + options.timeoutSeconds * 1000;
  const sampler = startSampler(stack, sqs, readers, ingested);
  const profiler = options.profile ? await startProfiler() : undefined;
  const workerBefore = stack.workers.ingest.counters();
  const capacityBefore = capacityTotals();
  let run: Run;
  let profile: CpuProfile | undefined;
  try {
    run = await postThenDrain(stack, requests, readers, ingested, {
      events,
      concurrency: options.concurrency,
      deadline,
      ingestedBefore: ingested(),
    });
  } finally {
    await sampler.stop();
    profile = await profiler?.stop();
  }
  const capacityAfter = capacityTotals();
  const worker = progress(workerBefore, stack.workers.ingest.counters());
  const ingestedEvents = ingested() - run.ingestedBefore;
  if (run.posted.accepted !== events || ingestedEvents < events) {
    throw new Error(
      `${fmt(events)} events generated, ${fmt(run.posted.accepted)} accepted, ${fmt(ingestedEvents)} ingested`,
    );
  }
  return {
    posted: run.posted,
    gatewayMs: run.gatewayEnd - run.start,
    endToEndMs: run.end - run.start,
    capacity: {
      writeUnits: capacityAfter.writeUnits - capacityBefore.writeUnits,
      readUnits: capacityAfter.readUnits - capacityBefore.readUnits,
    },
    worker,
    phases: {
      posting: phaseUsage(run.usageStart, run.usageGateway, 0, run.ingestedAtGateway),
      drainOnly: phaseUsage(run.usageGateway, run.usageEnd, run.ingestedAtGateway, ingestedEvents),
    },
    samples: sampler.samples.map((sample) => ({ ...sample, atMs: sample.atMs - run.start })),
    ...(profile ? { profile } : {}),
  };
}

async function postThenDrain(
  stack: LocalStack,
  requests: readonly BatchRequest[],
  readers: CpuReaders,
  ingested: () => number,
  plan: { events: number; concurrency: number; deadline: number; ingestedBefore: number },
): Promise<Run> {
  const { events, concurrency, deadline } = plan;
  const usageStart = usageMark(readers);
  log(`posting ${fmt(events)} events, ${concurrency} requests at a time`);
  const start = performance.now();
  const posted = await postAll(stack, requests, concurrency, deadline);
  const gatewayEnd = performance.now();
  const usageGateway = usageMark(readers);
  const ingestedAtGateway = ingested() - plan.ingestedBefore;
  log(`posted all in ${fmtMs(gatewayEnd - start)}; ${fmt(ingestedAtGateway)} ingested so far, draining`);
  await stack.drain({ timeoutMs: Math.max(1_000, deadline - Date.now()) });
  const end = performance.now();
  return {
    posted,
    start,
    gatewayEnd,
    end,
    usageStart,
    usageGateway,
    usageEnd: usageMark(readers),
    ingestedBefore: plan.ingestedBefore,
    ingestedAtGateway,
  };
}

/** What the ingest worker did between two readings of its counters. */
function progress(before: QueueWorkerCounters, after: QueueWorkerCounters): WorkerProgress {
  return {
    received: after.received - before.received,
    succeeded: after.succeeded - before.succeeded,
    failed: after.failed - before.failed,
    batches: after.batches - before.batches,
  };
}
