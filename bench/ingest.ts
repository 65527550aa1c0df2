import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type LocalStack, startLocalStack } from '#infra/local/stack.ts';
import { measureCeiling, timelineItems } from './ceiling.ts';
import { cpuReaders } from './cpu.ts';
import { fmt, fmtMs, log } from './format.ts';
import { Instruments } from './instrument.ts';
import { measureIngest } from './measure.ts';
import { cutRequests } from './post.ts';
import { printReport } from './print.ts';
import { buildReport, type IngestBenchReport, writeReport } from './report.ts';
import { generateTraffic } from './synthetic.ts';
import { checkNothingLost, readBackCustomers } from './verify.ts';
import { warmUp } from './warm-up.ts';

/**
 * The ingest benchmark: synthetic shop traffic posted through the local gateway, measured at the
 * gateway and end to end (until the ingest queue is drained), against the raw BatchWriteItem ceiling
 * of the same DynamoDB Local. Targets: end to end at least a third of the ceiling, at most 3 write units
 * per event. A missed target is a figure, not a failure; rejected events, lost events, timeouts and a
 * wrong read-back are failures.
 *
 * 1. Generate the traffic and cut it into time-ordered requests.
 * 2. Start the local stack, with timers around the handlers and the AWS clients they use.
 * 3. Warm DynamoDB Local up on a throw-away table, so that ingest does not pay for the JVM's JIT alone.
 * 4. Post every request (bounded concurrency), then wait for the ingest queue to drain.
 * 5. Check nothing reached the DLQ and read three customers back.
 * 6. Measure the ceiling: BatchWriteItem of as many timeline-sized items into a fresh table.
 * 7. Print the figures and write them, with the machine and a profile of the run, to a JSON file.
 */
export interface IngestBenchOptions {
  events: number;
  customers: number;
  /** Concurrent requests to the gateway, and concurrent BatchWriteItem calls for the ceiling. */
  concurrency: number;
  /** Events per POST /v1/batch. */
  batchSize: number;
  seed: string;
  /** The local ingest worker's pollers; the stack's default when absent. */
  workerConcurrency?: number;
  /** Run the repository's campaigns as a deployment would (their indexes, timers and sends); false measures ingest alone. */
  campaigns: boolean;
  /** Bounds the whole posting and the drain. */
  timeoutSeconds: number;
  /** Record a CPU profile of the measured phase (adds overhead; the figures are then marked). */
  profile: boolean;
  resultsDir: string;
}

export async function runIngestBench(options: IngestBenchOptions): Promise<IngestBenchReport> {
  const startedAt = new Date();
  const { data, requests, generateMs } = generate(options);
  const instruments = new Instruments();
  const { stack, stackStartMs } = await startStack(instruments, options.workerConcurrency, options.campaigns);
  const aws = benchClients(stack);
  try {
    instruments.timeHandlerClients();
    const items = timelineItems(data);
    await warmUp(aws.dynamo, items, options.concurrency);
    instruments.clear();

    const readers = cpuReaders(stack.dynamodbPid);
    const ingest = await measureIngest(stack, aws.sqs, requests, data.events.length, options, readers, () =>
      instruments.ingestedEvents(),
    );
    // Taken now, so that the read-back below does not count.
    const timers = instruments.summary();
    await checkNothingLost(stack, aws.sqs, data.events.length);
    const readBack = await readBackCustomers(stack, data.customers, options.seed);
    log(`read back ${readBack.map((check) => check.id).join(', ')}: ${readBack.length} customers match`);

    const ceiling = await measureCeiling(aws.dynamo, items, options.concurrency, readers);
    const report = buildReport({
      options,
      data,
      requests,
      ingest,
      ceiling,
      items,
      readBack,
      startedAt,
      generateMs,
      stackStartMs,
      timers,
    });
    printReport(report);
    await writeReport(report, ingest.profile, options.resultsDir);
    return report;
  } finally {
    await stack.stop();
    aws.destroy();
  }
}

function generate(options: IngestBenchOptions) {
  const start = performance.now();
  const data = generateTraffic({ events: options.events, customers: options.customers, seed: options.seed });
  const requests = cutRequests(data, options.batchSize);
  const generateMs = performance.now() - start;
  log(
    `generated ${fmt(data.events.length)} events for ${fmt(data.customers.length)} customers ` +
      `(${data.firstTimestamp.slice(0, 10)} to ${data.lastTimestamp.slice(0, 10)}) in ${fmtMs(generateMs)}; ` +
      `${fmt(requests.length)} requests of up to ${options.batchSize}`,
  );
  return { data, requests, generateMs };
}

async function startStack(
  instruments: Instruments,
  workerConcurrency: number | undefined,
  campaigns: boolean,
): Promise<{ stack: LocalStack; stackStartMs: number }> {
  const start = performance.now();
  const stack = await startLocalStack({
    inMemory: true,
    port: 0,
    quiet: true,
    loadHandler: instruments.loadHandler,
    ...(workerConcurrency === undefined ? {} : { workerConcurrency }),
    // A folder without campaigns/: the stack runs none.
    ...(campaigns ? {} : { catalogRoot: await mkdtemp(join(tmpdir(), 'rapport-bench-no-campaigns-')) }),
  });
  const stackStartMs = performance.now() - start;
  log(`local stack up in ${fmtMs(stackStartMs)} at ${stack.url}`);
  return { stack, stackStartMs };
}

/** The bench's own clients of the stack's emulators, apart from the handlers' (which the timers watch). */
function benchClients(stack: LocalStack) {
  const region = stack.env.AWS_REGION ?? 'us-east-1';
  const credentials = {
    accessKeyId: stack.env.AWS_ACCESS_KEY_ID ?? 'local',
    secretAccessKey: stack.env.AWS_SECRET_ACCESS_KEY ?? 'local',
  };
  const rawDynamo = new DynamoDBClient({ region, credentials, endpoint: stack.endpoints.dynamodb });
  const dynamo = DynamoDBDocumentClient.from(rawDynamo, {
    marshallOptions: { removeUndefinedValues: true, convertEmptyValues: false },
  });
  const sqs = new SQSClient({ region, credentials, endpoint: stack.endpoints.sqs });
  return {
    dynamo,
    sqs,
    destroy: (): void => {
      rawDynamo.destroy();
      sqs.destroy();
    },
  };
}
