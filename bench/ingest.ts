import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { arch, cpus, platform, release, totalmem } from 'node:os';
import { basename, join } from 'node:path';
import { type EventLoopUtilization, performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  BatchWriteCommand,
  type BatchWriteCommandOutput,
  DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { type LocalStack, startLocalStack } from '#infra/local/stack.ts';
import { clients } from '#shared/clients.ts';
import { capacityTotals } from '#shared/store/capacity.ts';
import { tableDefinition } from '#shared/store/schema.ts';
import { type CustomerOutcome, generateTraffic, type SyntheticData, seededRandom } from './synthetic.ts';

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
  /** Bounds the whole posting and the drain. */
  timeoutSeconds: number;
  /** Record a CPU profile of the measured phase (adds overhead; the figures are then marked). */
  profile: boolean;
  resultsDir: string;
}

export const ingestTargets = { endToEndShareOfCeiling: 1 / 3, writeUnitsPerEvent: 3 } as const;

const requestTimeoutMs = 60_000;
const ceilingBatchSize = 25;
const warmUpItems = 2_500;
const sampleIntervalMs = 250;
const repoRoot = fileURLToPath(new URL('../', import.meta.url));

export async function runIngestBench(options: IngestBenchOptions): Promise<IngestBenchReport> {
  const startedAt = new Date();
  const generateStart = performance.now();
  const data = generateTraffic({ events: options.events, customers: options.customers, seed: options.seed });
  const requests = cutRequests(data, options.batchSize);
  const generateMs = performance.now() - generateStart;
  log(
    `generated ${fmt(data.events.length)} events for ${fmt(data.customers.length)} customers ` +
      `(${data.firstTimestamp.slice(0, 10)} to ${data.lastTimestamp.slice(0, 10)}) in ${fmtMs(generateMs)}; ` +
      `${fmt(requests.length)} requests of up to ${options.batchSize}`,
  );

  const handlerTimes = new DurationTable();
  const ingestBatches = new QueueBatchShape();
  const stackStart = performance.now();
  const stack = await startLocalStack({
    inMemory: true,
    port: 0,
    quiet: true,
    loadHandler: timedHandlerLoader(handlerTimes, ingestBatches),
    ...(options.workerConcurrency === undefined ? {} : { workerConcurrency: options.workerConcurrency }),
  });
  const stackStartMs = performance.now() - stackStart;
  log(`local stack up in ${fmtMs(stackStartMs)} at ${stack.url}`);
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
  try {
    const commandTimes = instrumentHandlerClients();
    const items = timelineItems(data);

    log(`warming DynamoDB Local up with ${fmt(Math.min(warmUpItems, items.length))} items`);
    await writeToFreshTable(
      dynamo,
      `bench-warmup-${process.pid}`,
      items.slice(0, warmUpItems),
      options.concurrency,
    );
    handlerTimes.clear();
    ingestBatches.clear();
    commandTimes.total.clear();
    commandTimes.wire.clear();

    const readers = cpuReaders(stack.dynamodbPid);
    const ingest = await measureIngest(stack, sqs, requests, data, options, readers);
    // Taken now, so that the read-back below does not count.
    const timers = {
      handlers: handlerTimes.summary(),
      ingestBatches: ingestBatches.summary(),
      awsTotal: commandTimes.total.summary(),
      awsWire: commandTimes.wire.summary(),
    };
    await checkNothingLost(stack, sqs, data.events.length);
    const readBack = await readBackCustomers(stack, data.customers, options.seed);
    log(`read back ${readBack.map((check) => check.id).join(', ')}: ${readBack.length} customers match`);

    log(
      `measuring the ceiling: BatchWriteItem of ${fmt(items.length)} items, ${options.concurrency} concurrent`,
    );
    const ceiling = await measureCeiling(dynamo, items, options.concurrency, readers);

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
    await mkdir(options.resultsDir, { recursive: true });
    const file = join(options.resultsDir, 'ingest.json');
    await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
    if (ingest.profile) {
      const profileFile = join(options.resultsDir, 'ingest.cpuprofile');
      await writeFile(profileFile, JSON.stringify(ingest.profile));
      console.log(`CPU profile of the measured phase: ${profileFile} (open in Chrome DevTools)`);
    }
    console.log(`figures written to ${file}`);
    return report;
  } finally {
    await stack.stop();
    rawDynamo.destroy();
    sqs.destroy();
  }
}

// ---------------------------------------------------------------------------------------------------
// Requests

interface BatchRequest {
  /** The batch array, serialized before the clock starts. */
  batchJson: string;
  events: number;
}

/**
 * Requests as a server-side Segment client sends them: events in the order they happened, cut into
 * batches, so that each request holds a slice of several customers' journeys.
 */
function cutRequests(data: SyntheticData, batchSize: number): BatchRequest[] {
  const requests: BatchRequest[] = [];
  for (let start = 0; start < data.events.length; start += batchSize) {
    const slice = data.events.slice(start, start + batchSize).map((item) => item.event);
    requests.push({ batchJson: JSON.stringify(slice), events: slice.length });
  }
  return requests;
}

interface PostResult {
  latenciesMs: number[];
  accepted: number;
}

async function postAll(
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
    const response = await fetch(`${stack.url}/v1/batch`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/json' },
      body,
      signal: AbortSignal.timeout(requestTimeoutMs),
    });
    const text = await response.text();
    latenciesMs.push(performance.now() - start);
    if (response.status !== 200) {
      throw new Error(`request ${index}: POST /v1/batch answered ${response.status}: ${text.slice(0, 500)}`);
    }
    const answer = parseObject(text);
    const rejected = Array.isArray(answer?.rejected) ? answer.rejected : undefined;
    if (answer?.accepted !== request.events || !rejected || rejected.length > 0) {
      throw new Error(
        `request ${index}: expected ${request.events} accepted and none rejected, got ${text.slice(0, 500)}`,
      );
    }
    accepted += request.events;
    const done = Math.floor((10 * (index + 1)) / requests.length);
    if (done > lastReported) {
      lastReported = done;
      if (done < 10) log(`posted ${done * 10}%`);
    }
  });
  return { latenciesMs, accepted };
}

/** Runs `work` over the items, at most `concurrency` at a time; the first failure stops the rest. */
async function inPool<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const index = next++;
      const item = items[index];
      if (item === undefined) return;
      try {
        await work(item, index);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
}

// ---------------------------------------------------------------------------------------------------
// The measured phase

interface IngestMeasurement {
  posted: PostResult;
  gatewayMs: number;
  endToEndMs: number;
  capacity: { writeUnits: number; readUnits: number };
  worker: { received: number; succeeded: number; failed: number; batches: number };
  phases: { posting: PhaseUsage; drainOnly: PhaseUsage };
  samples: Sample[];
  profile?: CpuProfile;
}

async function measureIngest(
  stack: LocalStack,
  sqs: SQSClient,
  requests: readonly BatchRequest[],
  data: SyntheticData,
  options: IngestBenchOptions,
  readers: CpuReaders,
): Promise<IngestMeasurement> {
  const deadline = Date.now() + options.timeoutSeconds * 1000;
  const sampler = startSampler(stack, sqs, readers);
  const profiler = options.profile ? await startProfiler() : undefined;
  const workerBefore = stack.workers.ingest.counters();
  const capacityBefore = capacityTotals();
  const usageStart = usageMark(readers);
  log(`posting ${fmt(data.events.length)} events, ${options.concurrency} requests at a time`);
  const start = performance.now();
  let posted: PostResult;
  let gatewayEnd: number;
  let usageGateway: UsageMark;
  let ingestedAtGateway: number;
  let end: number;
  let usageEnd: UsageMark;
  let profile: CpuProfile | undefined;
  try {
    posted = await postAll(stack, requests, options.concurrency, deadline);
    gatewayEnd = performance.now();
    usageGateway = usageMark(readers);
    ingestedAtGateway = stack.workers.ingest.counters().succeeded - workerBefore.succeeded;
    log(`posted all in ${fmtMs(gatewayEnd - start)}; ${fmt(ingestedAtGateway)} ingested so far, draining`);
    await stack.drain({ timeoutMs: Math.max(1_000, deadline - Date.now()) });
    end = performance.now();
    usageEnd = usageMark(readers);
  } finally {
    await sampler.stop();
    profile = await profiler?.stop();
  }
  const capacityAfter = capacityTotals();
  const workerAfter = stack.workers.ingest.counters();
  const handled = workerAfter.succeeded - workerBefore.succeeded;
  if (posted.accepted !== data.events.length || handled < data.events.length) {
    throw new Error(
      `${fmt(data.events.length)} events generated, ${fmt(posted.accepted)} accepted, ${fmt(handled)} ingested`,
    );
  }
  return {
    posted,
    gatewayMs: gatewayEnd - start,
    endToEndMs: end - start,
    capacity: {
      writeUnits: capacityAfter.writeUnits - capacityBefore.writeUnits,
      readUnits: capacityAfter.readUnits - capacityBefore.readUnits,
    },
    worker: {
      received: workerAfter.received - workerBefore.received,
      succeeded: workerAfter.succeeded - workerBefore.succeeded,
      failed: workerAfter.failed - workerBefore.failed,
      batches: workerAfter.batches - workerBefore.batches,
    },
    phases: {
      posting: phaseUsage(usageStart, usageGateway, 0, ingestedAtGateway),
      drainOnly: phaseUsage(
        usageGateway,
        usageEnd,
        ingestedAtGateway,
        workerAfter.succeeded - workerBefore.succeeded,
      ),
    },
    samples: sampler.samples.map((sample) => ({ ...sample, atMs: sample.atMs - start })),
    ...(profile ? { profile } : {}),
  };
}

/** Every posted event was handled, and none of them ended in the dead-letter queue. */
async function checkNothingLost(stack: LocalStack, sqs: SQSClient, events: number): Promise<void> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: stack.queues.dlqUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  const dead =
    Number(Attributes.ApproximateNumberOfMessages ?? '0') +
    Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? '0');
  if (dead > 0) throw new Error(`${dead} of ${events} events ended in the ingest dead-letter queue`);
}

// ---------------------------------------------------------------------------------------------------
// Read-back

interface ReadBackCheck {
  id: string;
  orders: number;
  revenue: string | null;
  identified: boolean;
}

/**
 * Reads customers back through GET /v1/customers/{id}: two random buyers and one random customer of
 * any kind, chosen by the seed. Their orders, revenue and linked identity must be what was generated.
 */
async function readBackCustomers(
  stack: LocalStack,
  customers: readonly CustomerOutcome[],
  seed: string,
): Promise<ReadBackCheck[]> {
  const random = seededRandom(`${seed}/read-back`);
  const buyers = customers.filter((customer) => customer.orders > 0);
  const chosen = new Set<CustomerOutcome>();
  for (let attempt = 0; chosen.size < Math.min(2, buyers.length) && attempt < 100; attempt++) {
    chosen.add(random.pick(buyers));
  }
  for (let attempt = 0; chosen.size < Math.min(3, customers.length) && attempt < 100; attempt++) {
    chosen.add(random.pick(customers));
  }
  const checks: ReadBackCheck[] = [];
  for (const customer of chosen) checks.push(await readBackCustomer(stack, customer));
  return checks;
}

async function readBackCustomer(stack: LocalStack, customer: CustomerOutcome): Promise<ReadBackCheck> {
  const id = customer.userId ?? customer.anonymousId;
  const response = await fetch(`${stack.url}/v1/customers/${encodeURIComponent(id)}`, {
    headers: { authorization: `Bearer ${stack.keys.admin}` },
    signal: AbortSignal.timeout(requestTimeoutMs),
  });
  const text = await response.text();
  if (response.status !== 200) {
    throw new Error(
      `read-back of ${id}: GET /v1/customers answered ${response.status}: ${text.slice(0, 300)}`,
    );
  }
  const view = parseObject(text);
  const orders = parseObject(view?.orders);
  const revenue = parseObject(orders?.revenue);
  const traits = parseObject(view?.traits);
  const anonymousIds = Array.isArray(view?.anonymousIds) ? view.anonymousIds : [];
  const expectedRevenue = customer.orders > 0 ? (customer.revenueCents / 100).toFixed(2) : undefined;
  const problems: string[] = [];
  if (orders?.count !== customer.orders) {
    problems.push(`orders.count is ${String(orders?.count)}, generated ${customer.orders}`);
  }
  if (expectedRevenue !== undefined && revenue?.USD !== expectedRevenue) {
    problems.push(`orders.revenue.USD is ${String(revenue?.USD)}, generated ${expectedRevenue}`);
  }
  if (customer.userId && !anonymousIds.includes(customer.anonymousId)) {
    problems.push(`anonymousIds lacks ${customer.anonymousId}, which identify linked`);
  }
  if (customer.email && traits?.email !== customer.email) {
    problems.push(`traits.email is ${String(traits?.email)}, generated ${customer.email}`);
  }
  if (problems.length > 0) throw new Error(`read-back of ${id} does not match: ${problems.join('; ')}`);
  return {
    id,
    orders: customer.orders,
    revenue: expectedRevenue ?? null,
    identified: Boolean(customer.userId),
  };
}

// ---------------------------------------------------------------------------------------------------
// The ceiling

interface TimelineItem {
  pk: string;
  sk: string;
  /** Event time in epoch milliseconds, as shared/store/timeline.ts keeps it. */
  at: number;
  event: Record<string, unknown>;
}

/**
 * The items ingest stores on the timeline (shared/store/timeline.ts), with the fields collect adds to
 * each event, so that the ceiling writes items of the same sizes.
 */
function timelineItems(data: SyntheticData): TimelineItem[] {
  return data.events.map(({ event, millis }) => ({
    pk: `c#${event.userId ?? event.anonymousId ?? ''}`,
    sk: `e#${event.messageId}`,
    at: millis,
    event: { ...event, receivedAt: '2026-11-22T17:05:09.123Z', source: 'local' },
  }));
}

interface CeilingMeasurement {
  usage?: PhaseUsage;
  items: number;
  ms: number;
  requests: number;
  unprocessedRetries: number;
  capacity: { writeUnits: number };
}

async function measureCeiling(
  dynamo: DynamoDBDocumentClient,
  items: readonly TimelineItem[],
  concurrency: number,
  readers: CpuReaders,
): Promise<CeilingMeasurement> {
  const before = usageMark(readers);
  const written = await writeToFreshTable(dynamo, `bench-ceiling-${process.pid}`, items, concurrency);
  return { ...written, usage: phaseUsage(before, usageMark(readers), 0, items.length) };
}

/** Creates the table (the stack's key schema), writes the items 25 a request, and deletes it again. */
async function writeToFreshTable(
  dynamo: DynamoDBDocumentClient,
  table: string,
  items: readonly TimelineItem[],
  concurrency: number,
): Promise<CeilingMeasurement> {
  await dynamo.send(new CreateTableCommand({ TableName: table, ...tableDefinition }));
  try {
    const chunks: TimelineItem[][] = [];
    for (let start = 0; start < items.length; start += ceilingBatchSize) {
      chunks.push(items.slice(start, start + ceilingBatchSize));
    }
    let unprocessedRetries = 0;
    let writeUnits = 0;
    const start = performance.now();
    await inPool(chunks, concurrency, async (chunk) => {
      let requests = chunk.map((Item) => ({ PutRequest: { Item } }));
      for (let round = 0; requests.length > 0; round++) {
        if (round === 8) throw new Error(`${table}: DynamoDB kept returning unprocessed items`);
        if (round > 0) {
          unprocessedRetries++;
          await new Promise((resolve) => setTimeout(resolve, 25 * 2 ** round));
        }
        const result: BatchWriteCommandOutput = await dynamo.send(
          new BatchWriteCommand({ RequestItems: { [table]: requests }, ReturnConsumedCapacity: 'TOTAL' }),
        );
        for (const consumed of result.ConsumedCapacity ?? []) writeUnits += consumed.CapacityUnits ?? 0;
        requests = (result.UnprocessedItems?.[table] ?? []).flatMap((request) =>
          request.PutRequest?.Item ? [{ PutRequest: { Item: request.PutRequest.Item as TimelineItem } }] : [],
        );
      }
    });
    return {
      items: items.length,
      ms: performance.now() - start,
      requests: chunks.length,
      unprocessedRetries,
      capacity: { writeUnits },
    };
  } finally {
    await dynamo.send(new DeleteTableCommand({ TableName: table }));
  }
}

// ---------------------------------------------------------------------------------------------------
// Item sizes as DynamoDB bills them

/**
 * The size DynamoDB bills for an item: attribute names plus values; numbers by significant digits;
 * maps and lists 3 bytes plus 1 per element
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html).
 */
export function itemBytes(item: Record<string, unknown>): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(item)) {
    if (value !== undefined) bytes += Buffer.byteLength(name) + valueBytes(value);
  }
  return bytes;
}

function valueBytes(value: unknown): number {
  if (value === null || typeof value === 'boolean') return 1;
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (typeof value === 'number') return numberBytes(value);
  if (Array.isArray(value))
    return 3 + value.reduce((sum: number, element) => sum + 1 + valueBytes(element), 0);
  if (typeof value === 'object') {
    let bytes = 3;
    for (const [name, member] of Object.entries(value)) {
      if (member !== undefined) bytes += 1 + Buffer.byteLength(name) + valueBytes(member);
    }
    return bytes;
  }
  return 0;
}

function numberBytes(value: number): number {
  const digits = Math.abs(value).toExponential().replace(/e.*$/, '').replace('.', '').replace(/0+$/, '');
  return Math.ceil(Math.max(1, digits.length) / 2) + 1;
}

function writeUnitsOf(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / 1024));
}

// ---------------------------------------------------------------------------------------------------
// Where the time goes: handler and client timers, CPU of node and java, queue depth over time

interface DurationSummary {
  count: number;
  totalMs: number;
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
}

class DurationTable {
  private readonly durations = new Map<string, number[]>();

  record(name: string, ms: number): void {
    const list = this.durations.get(name);
    if (list) list.push(ms);
    else this.durations.set(name, [ms]);
  }

  clear(): void {
    this.durations.clear();
  }

  summary(): Record<string, DurationSummary> {
    const entries = [...this.durations.entries()].map(([name, list]) => [name, summarize(list)] as const);
    entries.sort((a, b) => b[1].totalMs - a[1].totalMs);
    return Object.fromEntries(entries);
  }
}

function summarize(list: readonly number[]): DurationSummary {
  const sorted = [...list].sort((a, b) => a - b);
  const totalMs = sorted.reduce((sum, ms) => sum + ms, 0);
  const at = (share: number): number =>
    round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * share))] ?? 0);
  return {
    count: sorted.length,
    totalMs: round(totalMs),
    meanMs: round(sorted.length === 0 ? 0 : totalMs / sorted.length),
    p50Ms: at(0.5),
    p95Ms: at(0.95),
    maxMs: round(sorted.at(-1) ?? 0),
  };
}

/** Loads each handler as the stack would, and times every invocation (wall clock, awaits included). */
function timedHandlerLoader(
  times: DurationTable,
  batches: QueueBatchShape,
): (entry: string) => Promise<unknown> {
  return async (entry) => {
    const module: Record<string, unknown> = await import(pathToFileURL(join(repoRoot, entry)).href);
    const handler = module.handler;
    if (typeof handler !== 'function') return handler;
    const call = handler as (...args: unknown[]) => unknown;
    const name = `${basename(entry, '.ts')} handler`;
    return async (...args: unknown[]): Promise<unknown> => {
      batches.observe(args[0]);
      const start = performance.now();
      try {
        return await call(...args);
      } finally {
        times.record(name, performance.now() - start);
      }
    };
  };
}

/** How many events, and how many distinct customer ids, each ingest invocation gets. */
class QueueBatchShape {
  private invocations = 0;
  private records = 0;
  private ids = 0;

  observe(event: unknown): void {
    const records = parseObject(event)?.Records;
    if (!Array.isArray(records)) return;
    const ids = new Set<string>();
    for (const record of records) {
      const body = parseObject(parseObject(record)?.body);
      const id = body?.userId ?? body?.anonymousId;
      if (typeof id === 'string') ids.add(id);
    }
    this.invocations++;
    this.records += records.length;
    this.ids += ids.size;
  }

  clear(): void {
    this.invocations = 0;
    this.records = 0;
    this.ids = 0;
  }

  summary(): { invocations: number; eventsPerInvocation: number; customerIdsPerInvocation: number } {
    const per = (value: number): number => round(value / Math.max(1, this.invocations), 2);
    return {
      invocations: this.invocations,
      eventsPerInvocation: per(this.records),
      customerIdsPerInvocation: per(this.ids),
    };
  }
}

/**
 * Times the AWS calls the handlers make, through the one place that builds their clients: `total`
 * from the command's start (marshalling included) to its result, `wire` one HTTP round trip.
 */
function instrumentHandlerClients(): { total: DurationTable; wire: DurationTable } {
  const total = new DurationTable();
  const wire = new DurationTable();
  const { dynamo, sqs } = clients();
  const totalOptions = {
    step: 'initialize',
    name: 'benchTotalTimer',
    priority: 'high',
    override: true,
  } as const;
  const wireOptions = {
    step: 'finalizeRequest',
    name: 'benchWireTimer',
    priority: 'low',
    override: true,
  } as const;
  dynamo.middlewareStack.add(timer(total, 'DynamoDB'), totalOptions);
  dynamo.middlewareStack.add(timer(wire, 'DynamoDB'), wireOptions);
  sqs.middlewareStack.add(timer(total, 'SQS'), totalOptions);
  sqs.middlewareStack.add(timer(wire, 'SQS'), wireOptions);
  return { total, wire };
}

/** An SDK middleware that records how long the rest of the stack takes, by command. */
function timer(table: DurationTable, service: string) {
  return <A, R>(next: (args: A) => Promise<R>, context: { commandName?: string }) =>
    async (args: A): Promise<R> => {
      const start = performance.now();
      try {
        return await next(args);
      } finally {
        const command = (context.commandName ?? 'unknown').replace(/Command$/, '');
        table.record(`${service} ${command}`, performance.now() - start);
      }
    };
}

interface Sample {
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

/** Queue depth, worker progress and CPU, every 250 ms during the measured phase. */
function startSampler(stack: LocalStack, sqs: SQSClient, readers: CpuReaders): Sampler {
  const samples: Sample[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const atMs = performance.now();
      const counters = stack.workers.ingest.counters();
      const cpu = process.cpuUsage();
      let queueVisible = -1;
      let queueInFlight = -1;
      try {
        const { Attributes = {} } = await sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: stack.queues.queueUrl,
            AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
          }),
        );
        queueVisible = Number(Attributes.ApproximateNumberOfMessages ?? '0');
        queueInFlight = Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? '0');
      } catch {
        // A missed sample is only a gap in the curve.
      }
      samples.push({
        atMs,
        queueVisible,
        queueInFlight,
        ingested: counters.succeeded,
        batches: counters.batches,
        nodeCpuMs: (cpu.user + cpu.system) / 1000,
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

interface CpuReaders {
  /** CPU milliseconds the DynamoDB Local JVM has used, from /proc (Linux); null elsewhere. */
  java(): number | null;
  /** CPU milliseconds every process on the machine has used (steal included), from /proc/stat. */
  machine(): number | null;
}

function cpuReaders(javaPid: number | undefined): CpuReaders {
  let ticksPerSecond = 100;
  try {
    ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    // 100 is the Linux default.
  }
  const toMs = (ticks: number): number | null =>
    Number.isFinite(ticks) ? (ticks * 1000) / ticksPerSecond : null;
  return {
    java: () => {
      if (javaPid === undefined) return null;
      try {
        const stat = readFileSync(`/proc/${javaPid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return toMs(Number(fields[11]) + Number(fields[12]));
      } catch {
        return null;
      }
    },
    machine: () => {
      try {
        const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
        const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
        return toMs((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0));
      } catch {
        return null;
      }
    },
  };
}

interface UsageMark {
  at: number;
  nodeCpuMs: number;
  javaCpuMs: number | null;
  machineCpuMs: number | null;
  loop: EventLoopUtilization;
}

function usageMark(readers: CpuReaders): UsageMark {
  const cpu = process.cpuUsage();
  return {
    at: performance.now(),
    nodeCpuMs: (cpu.user + cpu.system) / 1000,
    javaCpuMs: readers.java(),
    machineCpuMs: readers.machine(),
    loop: performance.eventLoopUtilization(),
  };
}

export interface PhaseUsage {
  ms: number;
  /** Events the ingest worker finished in the phase (items written, for the ceiling), and the rate. */
  done: number;
  donePerSecond: number;
  /** Share of one core: 1.0 is one core busy the whole phase. */
  nodeCores: number;
  javaCores: number | null;
  /** Every other process on the machine (other work on a shared machine skews the figures). */
  otherCores: number | null;
  /** Share of the phase the node event loop was busy (the one thread that runs gateway, emulator and handlers). */
  nodeEventLoop: number;
  /** CPU per event ingested (per item written, for the ceiling). */
  nodeCpuMsPerUnit: number | null;
  javaCpuMsPerUnit: number | null;
}

function phaseUsage(from: UsageMark, to: UsageMark, doneBefore: number, doneAfter: number): PhaseUsage {
  const ms = to.at - from.at;
  const done = doneAfter - doneBefore;
  const cores = (a: number | null, b: number | null): number | null =>
    a === null || b === null ? null : round((b - a) / ms, 3);
  const node = cores(from.nodeCpuMs, to.nodeCpuMs);
  const java = cores(from.javaCpuMs, to.javaCpuMs);
  const machine = cores(from.machineCpuMs, to.machineCpuMs);
  return {
    ms: round(ms),
    done,
    donePerSecond: ms > 0 ? round((done * 1000) / ms) : 0,
    nodeCores: node ?? 0,
    javaCores: java,
    otherCores: machine === null ? null : round(Math.max(0, machine - (node ?? 0) - (java ?? 0)), 3),
    nodeEventLoop: round(performance.eventLoopUtilization(to.loop, from.loop).utilization, 3),
    nodeCpuMsPerUnit: done > 0 ? round((to.nodeCpuMs - from.nodeCpuMs) / done, 3) : null,
    javaCpuMsPerUnit:
      done > 0 && to.javaCpuMs !== null && from.javaCpuMs !== null
        ? round((to.javaCpuMs - from.javaCpuMs) / done, 3)
        : null,
  };
}

// ---------------------------------------------------------------------------------------------------
// CPU profile of the node process, summarized by component

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

interface CpuProfile {
  nodes: CpuProfileNode[];
  samples?: number[];
  timeDeltas?: number[];
}

async function startProfiler(): Promise<{ stop(): Promise<CpuProfile> }> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 500 });
  await session.post('Profiler.start');
  return {
    stop: async () => {
      const { profile } = await session.post('Profiler.stop');
      session.disconnect();
      return profile;
    },
  };
}

/**
 * Sampled CPU time by where it is spent (`self`: the library or repository area of the running
 * function, node internals counted to their caller) and by the repository area that called it
 * (`caller`). Continuations after an await start a fresh stack, so `caller` can only name what the
 * stack shows.
 */
export function summarizeProfile(profile: CpuProfile): {
  totalMs: number;
  self: Record<string, number>;
  caller: Record<string, number>;
} {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfOf = new Map<number, string>();
  const callerOf = new Map<number, string>();
  const childIds = new Set(profile.nodes.flatMap((node) => node.children ?? []));
  const roots = profile.nodes.filter((node) => !childIds.has(node.id));
  const stack: { node: CpuProfileNode; self: string; caller: string }[] = roots.map((node) => ({
    node,
    self: 'node runtime',
    caller: 'node runtime',
  }));
  for (let item = stack.pop(); item; item = stack.pop()) {
    const area = componentOf(item.node.callFrame.url, item.node.callFrame.functionName);
    const self = area ?? item.self;
    const repoArea =
      area && !area.startsWith('lib ') && area !== 'AWS SDK' && area !== 'zod' ? area : undefined;
    const caller = repoArea ?? item.caller;
    selfOf.set(item.node.id, self);
    callerOf.set(item.node.id, caller);
    for (const childId of item.node.children ?? []) {
      const child = byId.get(childId);
      if (child) stack.push({ node: child, self, caller });
    }
  }
  const self: Record<string, number> = {};
  const caller: Record<string, number> = {};
  let totalMs = 0;
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  samples.forEach((id, index) => {
    const ms = (deltas[index] ?? 0) / 1000;
    totalMs += ms;
    const selfArea = selfOf.get(id) ?? 'node runtime';
    const callerArea = callerOf.get(id) ?? 'node runtime';
    self[selfArea] = (self[selfArea] ?? 0) + ms;
    caller[callerArea] = (caller[callerArea] ?? 0) + ms;
  });
  const sorted = (record: Record<string, number>) =>
    Object.fromEntries(
      Object.entries(record)
        .sort((a, b) => b[1] - a[1])
        .map(([name, ms]) => [name, round(ms)]),
    );
  return { totalMs: round(totalMs), self: sorted(self), caller: sorted(caller) };
}

function componentOf(url: string, functionName: string): string | undefined {
  if (functionName === '(idle)') return 'idle';
  if (functionName === '(garbage collector)') return 'garbage collector';
  if (functionName === '(program)') return 'native (unattributed)';
  if (url === '' || url.startsWith('node:')) return undefined;
  const library = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1];
  if (library) {
    if (library === 'fauxqs') return 'SQS emulator (fauxqs)';
    if (/^@(aws-sdk|smithy|aws-crypto)\//.test(library)) return 'AWS SDK';
    if (library === 'zod') return 'zod';
    if (library === 'tsx' || library === 'esbuild') return 'lib tsx';
    return `lib ${library}`;
  }
  const path = url.replace(/^file:\/\//, '');
  if (!path.startsWith(repoRoot)) return undefined;
  const relative = path.slice(repoRoot.length);
  if (relative.startsWith('bench/')) return 'bench client';
  if (/^(functions\/collect|shared\/collect\/|events\/segment|shared\/ingest-queue)/.test(relative))
    return 'collect';
  if (/^shared\/engagement\//.test(relative)) return 'ingest: engagement fold';
  if (/^(functions\/ingest|shared\/ingest\/|shared\/store\/|events\/ingest-event)/.test(relative))
    return 'ingest';
  if (relative.startsWith('infra/local/gateway')) return 'local gateway';
  if (relative.startsWith('infra/local/queue-worker')) return 'local queue worker';
  return `repo ${relative}`;
}

// ---------------------------------------------------------------------------------------------------
// Report

export interface IngestBenchReport {
  bench: 'ingest';
  date: string;
  machine: {
    cpus: number;
    cpuModel: string;
    memoryGiB: number;
    node: string;
    platform: string;
    arch: string;
    kernel: string;
  };
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
    usage: PhaseUsage | null;
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
    ingestBatches: ReturnType<QueueBatchShape['summary']>;
    awsCallsTotal: Record<string, DurationSummary & { perEvent: number }>;
    awsCallsWire: Record<string, DurationSummary>;
    cpu?: ReturnType<typeof summarizeProfile>;
    queueSamples: Sample[];
  };
  setup: { generateMs: number; stackStartMs: number };
}

function buildReport(input: {
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
  timers: {
    handlers: Record<string, DurationSummary>;
    ingestBatches: ReturnType<QueueBatchShape['summary']>;
    awsTotal: Record<string, DurationSummary>;
    awsWire: Record<string, DurationSummary>;
  };
}): IngestBenchReport {
  const { options, data, ingest, ceiling } = input;
  const events = data.events.length;
  const sizes = input.items.map((item) => itemBytes({ ...item })).sort((a, b) => a - b);
  const timelineWriteUnits = sizes.reduce((sum, bytes) => sum + writeUnitsOf(bytes), 0);
  const reported = ingest.capacity.writeUnits > 0;
  const writeUnits = reported ? ingest.capacity.writeUnits : timelineWriteUnits;
  const gatewayRate = (events * 1000) / ingest.gatewayMs;
  const endToEndRate = (events * 1000) / ingest.endToEndMs;
  const ceilingRate = (ceiling.items * 1000) / ceiling.ms;
  const share = endToEndRate / ceilingRate;
  const writeUnitsPerEvent = writeUnits / events;
  const cpuCores = cpus();
  const { resultsDir: _, ...shownOptions } = options;
  const { awsTotal } = input.timers;
  return {
    bench: 'ingest',
    date: input.startedAt.toISOString(),
    machine: {
      cpus: cpuCores.length,
      cpuModel: cpuCores[0]?.model ?? 'unknown',
      memoryGiB: round(totalmem() / 2 ** 30, 1),
      node: process.version,
      platform: platform(),
      arch: arch(),
      kernel: release(),
    },
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
        p50: sizes[Math.floor(sizes.length / 2)] ?? 0,
        p95: sizes[Math.floor(sizes.length * 0.95)] ?? 0,
        max: sizes.at(-1) ?? 0,
      },
    },
    gateway: {
      eventsPerSecond: round(gatewayRate),
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
      usage: ceiling.usage ?? null,
    },
    capacity: {
      method: reported
        ? 'reported by DynamoDB Local (ReturnConsumedCapacity TOTAL)'
        : 'computed from timeline item sizes (a lower bound: profile writes are not counted)',
      writeUnitsPerEvent: round(writeUnitsPerEvent, 3),
      readUnitsPerEvent: reported ? round(ingest.capacity.readUnits / events, 3) : null,
      writeUnits: round(writeUnits, 1),
      readUnits: reported ? round(ingest.capacity.readUnits, 1) : null,
      timelineWriteUnitsPerEvent: round(timelineWriteUnits / events, 3),
    },
    targets: {
      endToEndShareOfCeiling: {
        value: round(share, 4),
        target: round(ingestTargets.endToEndShareOfCeiling, 4),
        pass: share >= ingestTargets.endToEndShareOfCeiling,
      },
      writeUnitsPerEvent: {
        value: round(writeUnitsPerEvent, 3),
        target: ingestTargets.writeUnitsPerEvent,
        pass: writeUnitsPerEvent <= ingestTargets.writeUnitsPerEvent,
      },
    },
    readBack: input.readBack,
    worker: ingest.worker,
    profile: {
      phases: ingest.phases,
      handlers: input.timers.handlers,
      ingestBatches: input.timers.ingestBatches,
      awsCallsTotal: Object.fromEntries(
        Object.entries(awsTotal).map(([name, summary]) => [
          name,
          { ...summary, perEvent: round(summary.count / events, 3) },
        ]),
      ),
      awsCallsWire: input.timers.awsWire,
      ...(ingest.profile ? { cpu: summarizeProfile(ingest.profile) } : {}),
      queueSamples: ingest.samples.map((sample) => ({
        ...sample,
        atMs: round(sample.atMs),
        nodeCpuMs: round(sample.nodeCpuMs),
        javaCpuMs: sample.javaCpuMs === null ? null : round(sample.javaCpuMs),
      })),
    },
    setup: { generateMs: round(input.generateMs), stackStartMs: round(input.stackStartMs) },
  };
}

function printReport(report: IngestBenchReport): void {
  const { traffic, gateway, endToEnd, ceiling, capacity, targets, profile } = report;
  const mark = (pass: boolean): string => (pass ? 'PASS' : 'MISS');
  const rows: [string, string, string][] = [
    [
      'events',
      fmt(traffic.events),
      `${fmt(traffic.requests)} requests of ${traffic.eventsPerRequest}, ${report.options.concurrency} concurrent`,
    ],
    [
      'customers',
      fmt(traffic.customers),
      `${fmt(traffic.identified)} identified, ${fmt(traffic.buyers)} with ${fmt(traffic.orders)} orders`,
    ],
    [
      'gateway events/s',
      fmt(gateway.eventsPerSecond),
      `${gateway.seconds.toFixed(2)} s, request p50 ${fmtMs(gateway.requestLatencyMs.p50Ms)}, p95 ${fmtMs(gateway.requestLatencyMs.p95Ms)}`,
    ],
    [
      'end-to-end events/s',
      fmt(endToEnd.eventsPerSecond),
      `${endToEnd.seconds.toFixed(2)} s until the ingest queue drained`,
    ],
    [
      'ceiling items/s',
      fmt(ceiling.itemsPerSecond),
      `BatchWriteItem ${ceiling.itemsPerRequest}/request, ${ceiling.concurrency} concurrent, ${ceiling.seconds.toFixed(2)} s`,
    ],
    [
      'end-to-end / ceiling',
      `${(targets.endToEndShareOfCeiling.value * 100).toFixed(1)} %`,
      `target >= ${(targets.endToEndShareOfCeiling.target * 100).toFixed(0)} %  ${mark(targets.endToEndShareOfCeiling.pass)}`,
    ],
    [
      'write units/event',
      targets.writeUnitsPerEvent.value.toFixed(2),
      `target <= ${targets.writeUnitsPerEvent.target}  ${mark(targets.writeUnitsPerEvent.pass)}  (${capacity.method}; timeline items alone ${capacity.timelineWriteUnitsPerEvent.toFixed(2)})`,
    ],
    [
      'read units/event',
      capacity.readUnitsPerEvent === null ? 'n/a' : capacity.readUnitsPerEvent.toFixed(2),
      capacity.readUnitsPerEvent === null ? 'not reported by DynamoDB Local' : capacity.method,
    ],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  const valueWidth = Math.max(...rows.map(([, value]) => value.length));
  console.log('');
  console.log(
    `ingest bench${report.profiled ? ' (profiled: the CPU profiler slows the run)' : ''}, seed "${report.options.seed}", ${report.machine.cpus} CPUs, node ${report.machine.node}`,
  );
  for (const [name, value, note] of rows)
    console.log(`  ${name.padEnd(width)}  ${value.padStart(valueWidth)}  ${note}`);
  console.log(
    `  read-back: ${report.readBack.length} customers match (orders, revenue, identity): ` +
      report.readBack.map((check) => `${check.id} ${check.orders} orders`).join(', '),
  );

  console.log('\nwhere the time goes');
  const phases: [string, PhaseUsage | null][] = [
    ['while posting', profile.phases.posting],
    ['drain only', profile.phases.drainOnly],
    ['ceiling', ceiling.usage],
  ];
  console.log(
    `  ${''.padEnd(13)} ${'seconds'.padStart(8)}  ${'per second'.padStart(10)}  ${'CPU ms per event (item): node, java'.padStart(36)}  cores busy: node (event loop), java, other processes`,
  );
  for (const [name, phase] of phases) {
    if (!phase) continue;
    const cores = (value: number | null): string => (value === null ? 'n/a' : value.toFixed(2));
    const perUnit = (value: number | null): string => (value === null ? 'n/a' : value.toFixed(2));
    console.log(
      `  ${name.padEnd(13)} ${(phase.ms / 1000).toFixed(2).padStart(8)}  ${fmt(phase.donePerSecond).padStart(10)}  ` +
        `${`${perUnit(phase.nodeCpuMsPerUnit)}, ${perUnit(phase.javaCpuMsPerUnit)}`.padStart(36)}  ` +
        `${cores(phase.nodeCores)} (${pct(phase.nodeEventLoop)}), ${cores(phase.javaCores)}, ${cores(phase.otherCores)}`,
    );
  }
  const shape = profile.ingestBatches;
  console.log(
    `  ingest invocations: ${fmt(shape.invocations)}, ${shape.eventsPerInvocation} events and ${shape.customerIdsPerInvocation} distinct customer ids each`,
  );
  const handlerRows = Object.entries(profile.handlers);
  for (const [name, summary] of handlerRows) {
    console.log(
      `  ${name.padEnd(22)} ${fmt(summary.count).padStart(6)} calls  mean ${fmtMs(summary.meanMs).padStart(8)}  p95 ${fmtMs(summary.p95Ms).padStart(8)}`,
    );
  }
  for (const [name, summary] of Object.entries(profile.awsCallsTotal)) {
    const wire = profile.awsCallsWire[name];
    console.log(
      `  ${name.padEnd(22)} ${fmt(summary.count).padStart(6)} calls  ${summary.perEvent.toFixed(2)}/event  mean ${fmtMs(summary.meanMs).padStart(8)}` +
        `  (HTTP ${wire ? fmtMs(wire.meanMs) : 'n/a'})`,
    );
  }
  const callsPerEvent = (service: string): number =>
    Object.entries(profile.awsCallsTotal)
      .filter(([name]) => name.startsWith(`${service} `))
      .reduce((sum, [, summary]) => sum + summary.perEvent, 0);
  console.log(
    `  AWS calls by the handlers per event: DynamoDB ${callsPerEvent('DynamoDB').toFixed(2)}, SQS ${callsPerEvent('SQS').toFixed(2)} ` +
      `(the ceiling makes ${(1 / ceilingBatchSize).toFixed(2)} per item)`,
  );
  if (profile.cpu) {
    const top = (record: Record<string, number>) =>
      Object.entries(record)
        .filter(([name]) => name !== 'idle')
        .slice(0, 8)
        .map(([name, ms]) => `${name} ${((ms / (profile.cpu?.totalMs || 1)) * 100).toFixed(0)}%`)
        .join(', ');
    console.log(`  node CPU by where it runs: ${top(profile.cpu.self)}`);
    console.log(`  node CPU by calling area:  ${top(profile.cpu.caller)}`);
  }
  console.log('');
}

// ---------------------------------------------------------------------------------------------------
// Small helpers

function parseObject(value: unknown): Record<string, unknown> | undefined {
  let parsed = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
    ? (parsed as Record<string, unknown>)
    : undefined;
}

function round(value: number, digits = 1): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

function fmt(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

function fmtMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`;
}

function pct(share: number): string {
  return `${Math.round(share * 100)}%`;
}

function log(line: string): void {
  console.error(`[bench ingest] ${line}`);
}
