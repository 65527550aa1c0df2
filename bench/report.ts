import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type CeilingMeasurement, ceilingBatchSize, type TimelineItem } from './ceiling.ts';
import type { PhaseUsage } from './cpu.ts';
import { round } from './format.ts';
import type { IngestBenchOptions } from './ingest.ts';
import type { HandlerTimers, IngestBatchShape } from './instrument.ts';
import { itemBytes, writeUnitsOf } from './item-size.ts';
import { type MachineInfo, machineInfo } from './machine.ts';
import type { IngestMeasurement } from './measure.ts';
import type { BatchRequest } from './post.ts';
import { type CpuProfile, type CpuSummary, summarizeProfile } from './profile.ts';
import type { Sample } from './sampler.ts';
import { type DurationSummary, percentile, summarize } from './stats.ts';
import type { SyntheticData } from './synthetic.ts';
import type { ReadBackCheck } from './verify.ts';

/**
 * The figures of one run, as written to bench/results/ingest.json: the machine, the traffic, the
 * rates against the ceiling, capacity per event, the targets, and where the time went.
 */
export interface IngestBenchReport {
  bench: 'ingest';
  date: string;
  machine: MachineInfo;
  options: Omit<IngestBenchOptions, 'resultsDir'>;
  profiled: boolean;
  traffic: {
    events: number;
    customers: number;
    identified: number;
    buyers: number;
    orders: number;
    requests: number;
    eventsPerRequest: number;
    mix: Record<string, number>;
    firstTimestamp: string;
    lastTimestamp: string;
    timelineItemBytes: { mean: number; p50: number; p95: number; max: number };
  };
  gateway: {
    eventsPerSecond: number;
    seconds: number;
    requestLatencyMs: DurationSummary;
  };
  endToEnd: { eventsPerSecond: number; seconds: number };
  ceiling: {
    itemsPerSecond: number;
    seconds: number;
    items: number;
    itemsPerRequest: number;
    concurrency: number;
    unprocessedRetries: number;
    writeUnitsPerItem: number;
    writeUnitsMethod: string;
    usage: PhaseUsage;
  };
  capacity: {
    method:
      | 'reported by DynamoDB Local (ReturnConsumedCapacity TOTAL)'
      | 'computed from timeline item sizes (a lower bound: profile writes are not counted)';
    writeUnitsPerEvent: number;
    readUnitsPerEvent: number | null;
    writeUnits: number;
    readUnits: number | null;
    timelineWriteUnitsPerEvent: number;
  };
  targets: {
    endToEndShareOfCeiling: { value: number; target: number; pass: boolean };
    writeUnitsPerEvent: { value: number; target: number; pass: boolean };
  };
  readBack: ReadBackCheck[];
  worker: IngestMeasurement['worker'];
  profile: {
    phases: IngestMeasurement['phases'];
    handlers: Record<string, DurationSummary>;
    ingestBatches: IngestBatchShape;
    awsCallsTotal: Record<string, DurationSummary & { perEvent: number }>;
    awsCallsWire: Record<string, DurationSummary>;
    cpu?: CpuSummary;
    queueSamples: Sample[];
  };
  setup: { generateMs: number; stackStartMs: number };
}

/** End to end at least a third of the ceiling; at most 3 write units per event. */
const ingestTargets = { endToEndShareOfCeiling: 1 / 3, writeUnitsPerEvent: 3 } as const;

interface ReportInput {
  options: IngestBenchOptions;
  data: SyntheticData;
  requests: readonly BatchRequest[];
  ingest: IngestMeasurement;
  ceiling: CeilingMeasurement;
  items: readonly TimelineItem[];
  readBack: ReadBackCheck[];
  startedAt: Date;
  generateMs: number;
  stackStartMs: number;
  timers: HandlerTimers;
}

export function buildReport(input: ReportInput): IngestBenchReport {
  const { options, data, ingest, ceiling } = input;
  const events = data.events.length;
  const sizes = input.items.map((item) => itemBytes({ ...item })).sort((a, b) => a - b);
  const timelineWriteUnits = sizes.reduce((sum, bytes) => sum + writeUnitsOf(bytes), 0);
  const endToEndRate = (events * 1000) / ingest.endToEndMs;
  const ceilingRate = (ceiling.items * 1000) / ceiling.ms;
  const { resultsDir: _, ...shownOptions } = options;
  return {
    bench: 'ingest',
    date: input.startedAt.toISOString(),
    machine: machineInfo(),
    options: shownOptions,
    profiled: options.profile,
    traffic: {
      events,
      customers: data.customers.length,
      identified: data.customers.filter((customer) => customer.userId).length,
      buyers: data.customers.filter((customer) => customer.orders > 0).length,
      orders: data.customers.reduce((sum, customer) => sum + customer.orders, 0),
      requests: input.requests.length,
      eventsPerRequest: options.batchSize,
      mix: data.counts,
      firstTimestamp: data.firstTimestamp,
      lastTimestamp: data.lastTimestamp,
      timelineItemBytes: {
        mean: round(sizes.reduce((sum, bytes) => sum + bytes, 0) / Math.max(1, sizes.length)),
        p50: percentile(sizes, 0.5),
        p95: percentile(sizes, 0.95),
        max: sizes.at(-1) ?? 0,
      },
    },
    gateway: {
      eventsPerSecond: round((events * 1000) / ingest.gatewayMs),
      seconds: round(ingest.gatewayMs / 1000, 3),
      requestLatencyMs: summarize(ingest.posted.latenciesMs),
    },
    endToEnd: { eventsPerSecond: round(endToEndRate), seconds: round(ingest.endToEndMs / 1000, 3) },
    ceiling: {
      itemsPerSecond: round(ceilingRate),
      seconds: round(ceiling.ms / 1000, 3),
      items: ceiling.items,
      itemsPerRequest: ceilingBatchSize,
      concurrency: options.concurrency,
      unprocessedRetries: ceiling.unprocessedRetries,
      writeUnitsPerItem: round(
        (ceiling.capacity.writeUnits > 0 ? ceiling.capacity.writeUnits : timelineWriteUnits) / ceiling.items,
        3,
      ),
      writeUnitsMethod: ceiling.capacity.writeUnits > 0 ? 'reported' : 'computed from item sizes',
      usage: ceiling.usage,
    },
    ...judge(ingest.capacity, timelineWriteUnits, events, endToEndRate / ceilingRate),
    readBack: input.readBack,
    worker: ingest.worker,
    profile: profileOf(ingest, input.timers, events),
    setup: { generateMs: round(input.generateMs), stackStartMs: round(input.stackStartMs) },
  };
}

/** Writes the report, and the CPU profile when there is one, to the results folder. */
export async function writeReport(
  report: IngestBenchReport,
  profile: CpuProfile | undefined,
  resultsDir: string,
): Promise<void> {
  await mkdir(resultsDir, { recursive: true });
  const file = join(resultsDir, 'ingest.json');
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  if (profile) {
    const profileFile = join(resultsDir, 'ingest.cpuprofile');
    await writeFile(profileFile, JSON.stringify(profile));
    console.log(`CPU profile of the measured phase: ${profileFile} (open in Chrome DevTools)`);
  }
  console.log(`figures written to ${file}`);
}

/**
 * Capacity per event, as DynamoDB Local reported it or, when it reports none, computed from the
 * timeline items alone; and both targets.
 */
function judge(
  capacity: IngestMeasurement['capacity'],
  timelineWriteUnits: number,
  events: number,
  shareOfCeiling: number,
): Pick<IngestBenchReport, 'capacity' | 'targets'> {
  const reported = capacity.writeUnits > 0;
  const writeUnits = reported ? capacity.writeUnits : timelineWriteUnits;
  const writeUnitsPerEvent = writeUnits / events;
  return {
    capacity: {
      method: reported
        ? 'reported by DynamoDB Local (ReturnConsumedCapacity TOTAL)'
        : 'computed from timeline item sizes (a lower bound: profile writes are not counted)',
      writeUnitsPerEvent: round(writeUnitsPerEvent, 3),
      readUnitsPerEvent: reported ? round(capacity.readUnits / events, 3) : null,
      writeUnits: round(writeUnits, 1),
      readUnits: reported ? round(capacity.readUnits, 1) : null,
      timelineWriteUnitsPerEvent: round(timelineWriteUnits / events, 3),
    },
    targets: {
      endToEndShareOfCeiling: {
        value: round(shareOfCeiling, 4),
        target: round(ingestTargets.endToEndShareOfCeiling, 4),
        pass: shareOfCeiling >= ingestTargets.endToEndShareOfCeiling,
      },
      writeUnitsPerEvent: {
        value: round(writeUnitsPerEvent, 3),
        target: ingestTargets.writeUnitsPerEvent,
        pass: writeUnitsPerEvent <= ingestTargets.writeUnitsPerEvent,
      },
    },
  };
}

function profileOf(
  ingest: IngestMeasurement,
  timers: HandlerTimers,
  events: number,
): IngestBenchReport['profile'] {
  return {
    phases: ingest.phases,
    handlers: timers.handlers,
    ingestBatches: timers.ingestBatches,
    awsCallsTotal: Object.fromEntries(
      Object.entries(timers.awsTotal).map(([name, summary]) => [
        name,
        { ...summary, perEvent: round(summary.count / events, 3) },
      ]),
    ),
    awsCallsWire: timers.awsWire,
    ...(ingest.profile ? { cpu: summarizeProfile(ingest.profile) } : {}),
    queueSamples: ingest.samples.map((sample) => ({
      ...sample,
      atMs: round(sample.atMs),
      nodeCpuMs: round(sample.nodeCpuMs),
      javaCpuMs: sample.javaCpuMs === null ? null : round(sample.javaCpuMs),
    })),
  };
}
