import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { sendRequest } from '#events/send-request.ts';
import { type QueueWorker, type SqsHandler, startQueueWorker } from '#infra/local/queue-worker.ts';
import type { Campaign } from '#shared/campaigns/campaign.ts';
import { type Catalog, parseCatalog } from '#shared/campaigns/catalog.ts';
import { readCatalogSource } from '#shared/campaigns/catalog-files.ts';
import { fireCampaign } from '#shared/campaigns/fire-campaign.ts';
import { sqsClient } from '#shared/clients/sqs.ts';
import { defaultEngagementSettings } from '#shared/engagement/settings.ts';
import { type DeliveryDeps, type DeliveryResult, deliverSend } from '#shared/send/deliver.ts';
import { systemClock } from '#shared/send/pacing.ts';
import { capacityTotals } from '#shared/store/capacity.ts';
import { AwsCallTimers } from './aws-calls.ts';
import { type CpuReaders, cpuReaders, type PhaseUsage, phaseUsage, usageMark } from './cpu.ts';
import { type EmulatedAws, startEmulatedAws } from './emulated-aws.ts';
import { benchLog, fmt, fmtMs, round } from './format.ts';
import { type MachineInfo, machineInfo, mark, printRows } from './machine.ts';
import { type CpuSummary, startProfiler, summarizeProfile } from './profile.ts';
import { syntheticCustomer } from './profiles.ts';
import { seededRandom } from './random.ts';
import { repoRoot } from './repo-root.ts';
import { profileWrite, seedProfiles } from './seed.ts';
import { buildCatalog } from './shop.ts';
import { type DurationSummary, DurationTable } from './stats.ts';

/**
 * The send benchmark: campaign email from the schedule's evaluation to SES, on the emulators.
 *
 * 1. Seed subscribed customers with email addresses (stored profiles with their index items, as
 *    ingest writes them), all in the audience of a schedule campaign defined here, and the first
 *    few also in a second campaign's, for pacing.
 * 2. Throughput, pacing off: fire the campaign (fireCampaign selects the audience and puts a send
 *    request per customer on the send queue), then drain the queue with concurrent workers that
 *    receive, call deliverSend (guards, ledger, render, SES, outcome on the ingest queue) and
 *    delete, as the local runtime's queue worker runs the send function. Emails/s, and where the
 *    time goes: the fire, deliverSend per email and the AWS calls in it.
 * 3. Pacing: fire the second campaign and drain it the same way with maxSendRate set and the real
 *    system clock, several senders competing for the same pacing windows. Target: the achieved
 *    rate within 5% of the configured one.
 * Every email is counted again in the SES emulator's store. Figures go to bench/results/send.json.
 */
export interface SendBenchOptions {
  /** Customers in the throughput campaign's audience. */
  customers: number;
  /** Queue pollers; each runs batches of up to 10 requests at once, as the send function does. */
  senders: number;
  /** maxSendRate of the pacing run, emails per second across all senders. */
  pacingRate: number;
  /** Emails of the pacing run (the first customers are in its audience). */
  pacingEmails: number;
  seed: string;
  /** Bounds each drain of the send queue. */
  timeoutSeconds: number;
  /** Record a CPU profile of the throughput drain (adds overhead; the figures are then marked). */
  profile: boolean;
  resultsDir: string;
}

export interface SendBenchReport {
  bench: 'send';
  date: string;
  machine: MachineInfo;
  sharedMachine: string;
  options: Omit<SendBenchOptions, 'resultsDir'>;
  profiled: boolean;
  campaigns: { throughput: string; pacing: string; template: string; fireTimes: string[] };
  seed: { customers: number; seconds: number; method: 'transactions' };
  throughput: {
    sent: number;
    emailsPerSecond: number;
    /** From the fire's start to the last email: selection, queueing and delivery. */
    endToEndEmailsPerSecond: number;
    fire: { seconds: number; selected: number; readUnits: number; writeUnits: number };
    drain: { seconds: number; usage: PhaseUsage };
    perEmail: {
      deliverSend: DurationSummary;
      readUnits: number;
      writeUnits: number;
      awsCalls: Record<string, DurationSummary & { perEmail: number }>;
    };
    results: Record<string, number>;
    sesStore: { emails: number; matched: number };
    outcomesQueuedForIngest: number;
    /** With --profile: this process's CPU during the drain (bench, handlers and both emulators), by area. */
    cpu?: CpuSummary;
  };
  pacing: {
    configuredRate: number;
    emails: number;
    senders: number;
    sent: number;
    /** Least-squares slope of SendEmail requests made against time: the sustained rate. */
    achievedRate: number;
    method: string;
    deviation: number;
    /** (emails - 1) over the time from the first email to the last. */
    rateOverSpan: number;
    /** The same slope taken from when SES answered each request. */
    rateByAnswers: number;
    /** Mean of perSecond without its first and last seconds, which the run fills only in part. */
    fullSecondsRate: number;
    seconds: number;
    /** SendEmail requests made in each clock second, the first and last (partial) seconds included. */
    perSecond: number[];
    sesStore: { emails: number; matched: number };
    results: Record<string, number>;
  };
  targets: {
    pacingDeviation: { value: number; target: number; pass: boolean };
  };
}

const log = benchLog('send');
const settings = defaultEngagementSettings;
const throughputCampaignId = 'bench-send';
const pacingCampaignId = 'bench-pacing';
const template = 'weekly-newsletter';
const fireTimes = {
  throughput: new Date('2026-11-23T09:00:00.000Z'),
  pacing: new Date('2026-11-23T10:00:00.000Z'),
};
const pacingDeviationTarget = 0.05;

export async function runSendBench(options: SendBenchOptions): Promise<SendBenchReport> {
  if (options.pacingEmails > options.customers) {
    throw new Error(
      `--pacing-emails (${options.pacingEmails}) must be at most --customers (${options.customers})`,
    );
  }
  const startedAt = new Date();
  const machine = machineInfo();
  const catalog = benchCatalog(options.pacingRate);
  log(`starting the emulators (load average ${machine.loadAverageAtStart.join(', ')})`);
  const aws = await startEmulatedAws();
  const timers = new AwsCallTimers();
  const table = `bench-send-${process.pid}`;
  try {
    await aws.useTable(table);
    const sendQueue = await aws.useQueue(`${table}-send`, 'RAPPORT_SEND_QUEUE_URL');
    const ingestQueue = await aws.useQueue(`${table}-ingest`, 'RAPPORT_INGEST_QUEUE_URL');
    timers.attach();
    const readers = cpuReaders(aws.dynamodbPid);
    const seed = await seedCustomers(catalog, options);
    const context: RunContext = { aws, timers, readers, catalog, options, sendQueueUrl: sendQueue.queueUrl };

    const throughput = await runThroughput(context);
    const outcomesQueuedForIngest = await aws.queueDepth(ingestQueue.queueUrl);
    const pacing = await runPacing(context);
    if ((await aws.queueDepth(sendQueue.dlqUrl)) > 0) throw new Error('send requests reached the send DLQ');

    const report = buildReport({
      options,
      startedAt,
      machine,
      seed,
      throughput: { ...throughput, outcomesQueuedForIngest },
      pacing,
    });
    printReport(report);
    await writeReport(report, options.resultsDir);
    return report;
  } finally {
    await aws.stop();
  }
}

/**
 * Two schedule campaigns on the repository's weekly-newsletter template and layout, with a frequency
 * cap no run reaches and no quiet hours, so that every customer in an audience is sent to.
 */
function benchCatalog(maxSendRate: number): Catalog {
  const { templates } = readCatalogSource(repoRoot);
  const campaign = (id: string, name: string, ...more: Record<string, unknown>[]) => ({
    file: `campaigns/${id}.yaml`,
    document: {
      id,
      name,
      trigger: { kind: 'schedule', expression: 'cron(0 9 ? * MON *)' },
      audience: { all: [{ subscribed: true }, { trait: { name: 'email', exists: true } }, ...more] },
      message: { subject: "{{ traits.firstName | default: 'Hello' }}, this week at the studio", template },
      utm: { campaign: id },
    },
  });
  return parseCatalog(
    {
      campaigns: [
        campaign(throughputCampaignId, 'Newsletter (bench)'),
        campaign(pacingCampaignId, 'Paced newsletter (bench)', { trait: { name: 'benchPacing', eq: true } }),
      ],
      segments: [],
      templates,
      sending: {
        from: 'rapport bench shop <shop@shop.example>',
        linkBaseUrl: 'http://127.0.0.1:3000',
        unsubscribeMailbox: 'unsubscribe@shop.example',
        frequencyCap: { max: 1_000, per: '7d' },
        quietHours: null,
        linkDomains: ['shop.example'],
        maxSendRate,
      },
      sendingFile: 'rapport.config.yaml',
    },
    settings,
  );
}

/** Subscribed customers with addresses, a third of them buyers; the first `pacingEmails` in the pacing audience. */
async function seedCustomers(catalog: Catalog, options: SendBenchOptions): Promise<SendBenchReport['seed']> {
  const random = seededRandom(`${options.seed}:send`);
  const shop = buildCatalog(random);
  const window = { start: Date.UTC(2025, 5, 1), days: 365, settings };
  const writes = Array.from({ length: options.customers }, (_, index) => {
    const shape = {
      subscribed: true,
      spendCents: random.chance(0.35) ? random.int(2_000, 150_000) : 0,
      ...(index < options.pacingEmails ? { traits: { benchPacing: true } } : {}),
    };
    return profileWrite(syntheticCustomer(random, index, shop, shape, window), catalog, settings);
  });
  log(`seeding ${fmt(options.customers)} customers through writeLiveProfiles`);
  const start = performance.now();
  await seedProfiles(writes, { method: 'transactions', concurrency: 8 });
  const seconds = (performance.now() - start) / 1000;
  return { customers: options.customers, seconds: round(seconds, 2), method: 'transactions' };
}

interface RunContext {
  aws: EmulatedAws;
  timers: AwsCallTimers;
  readers: CpuReaders;
  catalog: Catalog;
  options: SendBenchOptions;
  sendQueueUrl: string;
}

interface Drained {
  tally: Tally;
  ms: number;
  usage: PhaseUsage;
}

type ThroughputRun = Omit<SendBenchReport['throughput'], 'outcomesQueuedForIngest'>;

async function runThroughput(context: RunContext): Promise<ThroughputRun> {
  const { timers, options } = context;
  const campaign = campaignOf(context.catalog, throughputCampaignId);
  timers.clear();
  const before = capacityTotals();
  const start = performance.now();
  const fired = await fireCampaign(campaign, fireTimes.throughput, settings);
  const fireMs = performance.now() - start;
  const afterFire = capacityTotals();
  log(`fired ${campaign.id}: ${fmt(fired.selected)} send requests queued in ${fmtMs(fireMs)}`);
  if (fired.selected !== options.customers) {
    throw new Error(`the campaign selected ${fmt(fired.selected)} of ${fmt(options.customers)} customers`);
  }
  const fireCalls = timers.summary();
  timers.clear();
  log(`draining with ${options.senders} senders, pacing off${options.profile ? ', profiled' : ''}`);
  const profiler = options.profile ? await startProfiler() : undefined;
  const drained = await drain(context, { maxSendRate: undefined });
  const profile = await profiler?.stop();
  const end = performance.now();
  const afterDrain = capacityTotals();
  const sent = drained.tally.count('sent');
  requireAllSent(drained.tally, options.customers, 'throughput');
  const sesStore = await countInSesStore(context.aws, drained.tally.sentIds);
  if (sesStore.matched !== sent) {
    throw new Error(`SES has ${fmt(sesStore.matched)} of the ${fmt(sent)} emails deliverSend sent`);
  }
  const calls = timers.summary();
  log(`sent ${fmt(sent)} in ${fmtMs(drained.ms)}; SES holds ${fmt(sesStore.matched)} of them`);
  return {
    sent,
    emailsPerSecond: round((sent * 1000) / drained.ms),
    endToEndEmailsPerSecond: round((sent * 1000) / (end - start)),
    fire: {
      seconds: round(fireMs / 1000, 3),
      selected: fired.selected,
      readUnits: round(afterFire.readUnits - before.readUnits, 1),
      writeUnits: round(afterFire.writeUnits - before.writeUnits, 1),
    },
    drain: { seconds: round(drained.ms / 1000, 3), usage: drained.usage },
    perEmail: {
      deliverSend: drained.tally.durations(),
      readUnits: round((afterDrain.readUnits - afterFire.readUnits) / sent, 2),
      writeUnits: round((afterDrain.writeUnits - afterFire.writeUnits) / sent, 2),
      awsCalls: Object.fromEntries(
        Object.entries({ ...prefixed(fireCalls, 'fire: '), ...calls }).map(([name, summary]) => [
          name,
          { ...summary, perEmail: round(summary.count / sent, 3) },
        ]),
      ),
    },
    results: drained.tally.results(),
    sesStore,
    ...(profile ? { cpu: summarizeProfile(profile) } : {}),
  };
}

async function runPacing(context: RunContext): Promise<SendBenchReport['pacing']> {
  const { timers, options } = context;
  const campaign = campaignOf(context.catalog, pacingCampaignId);
  const fired = await fireCampaign(campaign, fireTimes.pacing, settings);
  if (fired.selected !== options.pacingEmails) {
    throw new Error(`the pacing campaign selected ${fmt(fired.selected)} of ${fmt(options.pacingEmails)}`);
  }
  timers.clear();
  log(
    `pacing: ${fmt(fired.selected)} emails at maxSendRate ${options.pacingRate}/s, ${options.senders} senders, system clock`,
  );
  const drained = await drain(context, { maxSendRate: options.pacingRate });
  requireAllSent(drained.tally, options.pacingEmails, 'pacing');
  const sesStore = await countInSesStore(context.aws, drained.tally.sentIds);
  // When each SendEmail request was made, right after its pacing slot: the SES emulator runs in
  // this process, and its own time to answer under load would blur when the emails arrived.
  const spans = timers.spansOf('SES SendEmail');
  const rate = pacedRate(spans.map((span) => performance.timeOrigin + span.start));
  const arrivals = pacedRate(spans.map((span) => performance.timeOrigin + span.end));
  log(
    `pacing: ${fmt(spans.length)} emails in ${rate.seconds.toFixed(2)} s, ${rate.achievedRate.toFixed(2)}/s ` +
      `(configured ${options.pacingRate}/s; ${arrivals.achievedRate.toFixed(2)}/s by SES's answers)`,
  );
  const deviation = Math.abs(rate.achievedRate - options.pacingRate) / options.pacingRate;
  return {
    configuredRate: options.pacingRate,
    emails: options.pacingEmails,
    senders: options.senders,
    sent: drained.tally.count('sent'),
    achievedRate: round(rate.achievedRate, 3),
    method:
      'least-squares slope of the SendEmail request times; pacing grants a window at its start, so the ' +
      'first window, which the run enters part way, biases the slope up by at most 2.2% at 300 emails at 20/s ' +
      '(more for shorter runs)',
    deviation: round(deviation, 4),
    rateOverSpan: round(rate.rateOverSpan, 3),
    rateByAnswers: round(arrivals.achievedRate, 3),
    fullSecondsRate: round(rate.fullSecondsRate, 3),
    seconds: round(rate.seconds, 3),
    perSecond: rate.perSecond,
    sesStore,
    results: drained.tally.results(),
  };
}

/**
 * Runs queue workers on the send queue until it is empty and no batch is running. Each worker is
 * the local runtime's stand-in for the send function's event source mapping (batches of up to 10,
 * partial batch failures), with a handler that does what functions/send.ts does with these deps.
 */
async function drain(context: RunContext, pacing: { maxSendRate: number | undefined }): Promise<Drained> {
  const { catalog, options, readers } = context;
  const secret = process.env.RAPPORT_SIGNING_SECRET ?? '';
  const deps: DeliveryDeps = {
    catalog,
    settings,
    secret,
    maxSendRate: pacing.maxSendRate,
    clock: systemClock,
  };
  const tally = new Tally();
  const before = usageMark(readers);
  const start = performance.now();
  const worker: QueueWorker = startQueueWorker({
    sqs: sqsClient(),
    queueUrl: context.sendQueueUrl,
    handler: sendHandler(deps, tally),
    functionName: 'bench-send',
    concurrency: options.senders,
    batchSize: 10,
    batchingWindowMs: 0,
    waitTimeSeconds: 1,
  });
  let ms: number;
  let usage: PhaseUsage;
  try {
    await worker.idle({ timeoutMs: options.timeoutSeconds * 1000 });
    ms = performance.now() - start;
    usage = phaseUsage(before, usageMark(readers), 0, tally.count('sent'));
    // Let the pollers' long polls end rather than abandon them: an abandoned receive lives on in
    // the queue and would hide the next run's messages for the visibility timeout.
    await worker.drain();
  } finally {
    await worker.stop();
  }
  return { tally, ms, usage };
}

function sendHandler(deps: DeliveryDeps, tally: Tally): SqsHandler {
  return async (event) => {
    const failed: string[] = [];
    await Promise.all(
      event.Records.map(async (record) => {
        const start = performance.now();
        try {
          const result = await deliverSend(sendRequest.parse(JSON.parse(record.body)), deps);
          tally.record(result, performance.now() - start);
        } catch (error) {
          tally.error(error);
          failed.push(record.messageId);
        }
      }),
    );
    return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
  };
}

/** What deliverSend returned, how long it took, and the SES message ids of what it sent. */
class Tally {
  readonly sentIds = new Set<string>();
  private readonly kinds = new Map<string, number>();
  private readonly timings = new DurationTable();
  private readonly errors: string[] = [];

  record(result: DeliveryResult, ms: number): void {
    const kind =
      result.kind === 'skipped' || result.kind === 'failed'
        ? `${result.kind}: ${result.reason}`
        : result.kind;
    this.kinds.set(kind, (this.kinds.get(kind) ?? 0) + 1);
    if (result.kind === 'sent') this.sentIds.add(result.messageId);
    this.timings.record('deliverSend', ms);
  }

  error(error: unknown): void {
    this.kinds.set('error', (this.kinds.get('error') ?? 0) + 1);
    if (this.errors.length < 5) this.errors.push(error instanceof Error ? error.message : String(error));
  }

  count(kind: string): number {
    return this.kinds.get(kind) ?? 0;
  }

  results(): Record<string, number> {
    return Object.fromEntries(this.kinds);
  }

  firstErrors(): string[] {
    return [...this.errors];
  }

  durations(): DurationSummary {
    return (
      this.timings.summary().deliverSend ?? { count: 0, totalMs: 0, meanMs: 0, p50Ms: 0, p95Ms: 0, maxMs: 0 }
    );
  }
}

/** Every request sent, each once: anything else means the run measured something else. */
function requireAllSent(tally: Tally, expected: number, phase: string): void {
  const sent = tally.count('sent');
  if (sent !== expected || tally.sentIds.size !== expected) {
    throw new Error(
      `${phase}: ${fmt(sent)} of ${fmt(expected)} sent (${JSON.stringify(tally.results())}); ` +
        `first errors: ${tally.firstErrors().join(' | ') || 'none'}`,
    );
  }
}

/** The emails in the SES emulator's store (GET /store), and how many of them are the given message ids. */
async function countInSesStore(
  aws: EmulatedAws,
  messageIds: ReadonlySet<string>,
): Promise<{ emails: number; matched: number }> {
  const response = await fetch(`${aws.endpoints.ses}/store`);
  if (!response.ok) throw new Error(`the SES emulator's store answered ${response.status}`);
  const body = (await response.json()) as { emails?: { messageId?: string }[] };
  const emails = body.emails ?? [];
  return {
    emails: emails.length,
    matched: emails.filter((email) => email.messageId !== undefined && messageIds.has(email.messageId))
      .length,
  };
}

/**
 * The rate of a paced run from the times its emails went to SES. Pacing grants a window's emails at
 * its start, so the emails come in bursts once a second; the least-squares slope of the count
 * against time measures the sustained rate across the bursts, where (n - 1) / span would count one
 * burst too many for the time.
 */
function pacedRate(epochMillis: readonly number[]): {
  achievedRate: number;
  rateOverSpan: number;
  fullSecondsRate: number;
  seconds: number;
  perSecond: number[];
} {
  const times = [...epochMillis].sort((a, b) => a - b);
  const first = times[0] ?? 0;
  const last = times.at(-1) ?? 0;
  const n = times.length;
  const xs = times.map((at) => (at - first) / 1000);
  const meanX = xs.reduce((sum, x) => sum + x, 0) / Math.max(1, n);
  const meanY = (n + 1) / 2;
  let covariance = 0;
  let variance = 0;
  xs.forEach((x, index) => {
    covariance += (x - meanX) * (index + 1 - meanY);
    variance += (x - meanX) ** 2;
  });
  const firstSecond = Math.floor(first / 1000);
  const perSecond = Array.from({ length: Math.floor(last / 1000) - firstSecond + 1 }, () => 0);
  for (const at of times) {
    const second = Math.floor(at / 1000) - firstSecond;
    perSecond[second] = (perSecond[second] ?? 0) + 1;
  }
  const seconds = (last - first) / 1000;
  const full = perSecond.slice(1, -1);
  return {
    achievedRate: variance > 0 ? covariance / variance : 0,
    rateOverSpan: seconds > 0 ? (n - 1) / seconds : 0,
    fullSecondsRate: full.length > 0 ? full.reduce((sum, count) => sum + count, 0) / full.length : 0,
    seconds,
    perSecond,
  };
}

function campaignOf(catalog: Catalog, id: string): Campaign {
  const campaign = catalog.campaigns.find((candidate) => candidate.id === id);
  if (!campaign) throw new Error(`the bench catalog has no campaign ${id}`);
  return campaign;
}

function prefixed<T>(record: Record<string, T>, prefix: string): Record<string, T> {
  return Object.fromEntries(Object.entries(record).map(([name, value]) => [`${prefix}${name}`, value]));
}

function buildReport(input: {
  options: SendBenchOptions;
  startedAt: Date;
  machine: MachineInfo;
  seed: SendBenchReport['seed'];
  throughput: SendBenchReport['throughput'];
  pacing: SendBenchReport['pacing'];
}): SendBenchReport {
  const { resultsDir: _, ...shownOptions } = input.options;
  return {
    bench: 'send',
    date: input.startedAt.toISOString(),
    machine: input.machine,
    sharedMachine:
      'taken on a shared machine: other processes (other test and bench runs) may have used the CPUs; see drain.usage.otherCores.',
    options: shownOptions,
    profiled: input.options.profile,
    campaigns: {
      throughput: throughputCampaignId,
      pacing: pacingCampaignId,
      template,
      fireTimes: [fireTimes.throughput.toISOString(), fireTimes.pacing.toISOString()],
    },
    seed: input.seed,
    throughput: input.throughput,
    pacing: input.pacing,
    targets: {
      pacingDeviation: {
        value: input.pacing.deviation,
        target: pacingDeviationTarget,
        pass: input.pacing.deviation <= pacingDeviationTarget,
      },
    },
  };
}

function printReport(report: SendBenchReport): void {
  const { throughput, pacing, machine, targets } = report;
  const usage = throughput.drain.usage;
  console.log('');
  console.log(
    `send bench: schedule campaign -> send queue -> deliverSend -> SES emulator; seed "${report.options.seed}", ` +
      `${machine.cpus} CPUs (shared; load ${machine.loadAverageAtStart[0]} at start), node ${machine.node}`,
  );
  printRows([
    [
      'emails/s, pacing off',
      fmt(throughput.emailsPerSecond),
      `${fmt(throughput.sent)} sent in ${throughput.drain.seconds.toFixed(2)} s by ${report.options.senders} senders (batches of 10)` +
        (report.profiled ? ' (profiled: the CPU profiler slows the run)' : ''),
    ],
    [
      'end to end emails/s',
      fmt(throughput.endToEndEmailsPerSecond),
      `fire ${fmtMs(throughput.fire.seconds * 1000)} (${fmt(throughput.fire.selected)} selected and queued) + drain`,
    ],
    [
      'deliverSend per email',
      fmtMs(throughput.perEmail.deliverSend.p50Ms),
      `p50; mean ${fmtMs(throughput.perEmail.deliverSend.meanMs)}, p95 ${fmtMs(throughput.perEmail.deliverSend.p95Ms)} (concurrent, so waits included)`,
    ],
    [
      'capacity per email',
      `${throughput.perEmail.writeUnits.toFixed(2)} W`,
      `${throughput.perEmail.readUnits.toFixed(2)} read units; fire ${throughput.fire.readUnits} read units in all`,
    ],
    [
      'SES emulator store',
      fmt(throughput.sesStore.matched),
      `of ${fmt(throughput.sent)} sent found by message id; ${fmt(throughput.outcomesQueuedForIngest)} outcomes on the ingest queue`,
    ],
    [
      'cores busy while draining',
      `${usage.nodeCores.toFixed(2)}`,
      `node (event loop ${Math.round(usage.nodeEventLoop * 100)}%), java ${usage.javaCores ?? 'n/a'}, other processes ${usage.otherCores ?? 'n/a'}`,
    ],
    [
      'paced emails/s',
      pacing.achievedRate.toFixed(2),
      `configured ${pacing.configuredRate}/s, deviation ${(pacing.deviation * 100).toFixed(2)} %, target <= ${targets.pacingDeviation.target * 100} %  ${mark(targets.pacingDeviation.pass)}`,
    ],
    [
      'paced run',
      `${pacing.seconds.toFixed(2)} s`,
      `${fmt(pacing.sent)} emails, ${pacing.senders} senders, system clock; per second ${pacing.perSecond.join(' ')} ` +
        `(full seconds ${pacing.fullSecondsRate.toFixed(2)}/s); SES store ${fmt(pacing.sesStore.matched)}`,
    ],
  ]);
  console.log('\nwhere the time goes (pacing off)');
  for (const [name, summary] of Object.entries(throughput.perEmail.awsCalls)) {
    console.log(
      `  ${name.padEnd(32)} ${fmt(summary.count).padStart(6)} calls  ${summary.perEmail.toFixed(2)}/email  mean ${fmtMs(summary.meanMs).padStart(8)}  p95 ${fmtMs(summary.p95Ms).padStart(8)}`,
    );
  }
  const { cpu } = throughput;
  if (cpu) {
    const busy = Object.entries(cpu.self)
      .filter(([name]) => name !== 'idle')
      .slice(0, 10)
      .map(([name, ms]) => `${name} ${((ms / (cpu.totalMs || 1)) * 100).toFixed(0)}%`)
      .join(', ');
    console.log(`  node CPU by where it runs: ${busy}`);
  }
  console.log('');
}

async function writeReport(report: SendBenchReport, resultsDir: string): Promise<void> {
  await mkdir(resultsDir, { recursive: true });
  const file = join(resultsDir, 'send.json');
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`figures written to ${file}`);
}
