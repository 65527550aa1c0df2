import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ScanCommand, type ScanCommandOutput } from '@aws-sdk/lib-dynamodb';
import type { Campaign } from '#shared/campaigns/campaign.ts';
import { type Catalog, parseCatalog } from '#shared/campaigns/catalog.ts';
import { fireCampaign } from '#shared/campaigns/fire-campaign.ts';
import { defaultEngagementSettings } from '#shared/engagement/settings.ts';
import { capacityTotals } from '#shared/store/capacity.ts';
import { indexShards } from '#shared/store/table.ts';
import { AwsCallTimers } from './aws-calls.ts';
import { type CpuReaders, cpuReaders, type PhaseUsage, phaseUsage, usageMark } from './cpu.ts';
import { type EmulatedAws, startEmulatedAws } from './emulated-aws.ts';
import { benchLog, fmt, fmtMs, round } from './format.ts';
import { itemBytes } from './item-size.ts';
import { type MachineInfo, machineInfo, mark, printRows } from './machine.ts';
import { syntheticCustomer } from './profiles.ts';
import { seededRandom } from './random.ts';
import { profileWrite, type SeedMethod, seedProfiles, storedItems } from './seed.ts';
import { buildCatalog } from './shop.ts';
import { type DurationSummary, percentile } from './stats.ts';

/**
 * The audience benchmark: what it costs to choose who a schedule campaign reaches, at two table
 * sizes with the same share of customers in the audience. Target: at most 2 read units per selected
 * customer at every size, so that the cost follows the audience, not the table.
 *
 * For each size:
 * 1. Seed a fresh table with synthetic customers (states folded from a few events each) and the
 *    membership items indexItemsOf gives them. The audience, subscribed and gold, is known
 *    statically, so the index holds exactly the audience: the chosen share, subscribed with a
 *    gold spend. Some gold customers are unsubscribed and many more subscribed are not gold, so
 *    each condition leaves people out.
 * 2. Fire the campaign with `collect` (nothing is sent) a few times; take the read units DynamoDB
 *    reports (ReturnConsumedCapacity, summed by the store through recordCapacity) and the time of
 *    each, and check the selection is exactly the audience.
 * 3. Scan the whole table (paginated, eventually consistent, as the selection reads) with
 *    ReturnConsumedCapacity: what a selection by scan would cost.
 * Then print the figures and write them to bench/results/audience.json.
 */
export interface AudienceBenchOptions {
  /** Customers in the table, one run per size. */
  sizes: number[];
  /** Percent of the customers in the audience. */
  audiencePercent: number;
  seed: string;
  seedMethod: SeedMethod;
  /** Concurrent seeding requests (BatchWriteItem or TransactWriteItems). */
  concurrency: number;
  /** Selections per size: the first pays for cold caches, the median is reported. */
  repeats: number;
  /**
   * Parallel scan segments of the ceiling. The read units are the same for any number, but for the
   * half unit each page rounds up to; DynamoDB Local takes time quadratic in a segment's size.
   */
  scanSegments: number;
  resultsDir: string;
}

export interface AudienceBenchReport {
  bench: 'audience';
  date: string;
  machine: MachineInfo;
  /** Other work on the machine skews the timings (not the read units). */
  sharedMachine: string;
  options: Omit<AudienceBenchOptions, 'resultsDir'>;
  campaign: { id: string; audience: unknown; fireTime: string; indexShards: number };
  sizes: SizeFigures[];
  targets: {
    readUnitsPerSelected: {
      target: number;
      values: { customers: number; value: number; pass: boolean }[];
      pass: boolean;
    };
  };
}

interface SizeFigures {
  customers: number;
  audience: {
    expected: number;
    membershipItems: number;
    /** Customers fireCampaign handed over to be sent (the last run). */
    selected: number;
    candidates: number;
    /** Every run selected exactly the expected customers. */
    exact: boolean;
  };
  seed: {
    method: SeedMethod;
    seconds: number;
    profilesPerSecond: number;
    writeUnits: number;
    /** Billed size of the stored profile items (profile, state, index bookkeeping). */
    profileItemBytes: { mean: number; p50: number; p95: number; max: number };
    audienceProfileItemBytes: { mean: number };
  };
  selection: {
    readUnits: number;
    readUnitsPerSelected: number;
    readUnitsPerCustomerInTable: number;
    /** Per call: the index Query and the BatchGetItem of candidate profiles. */
    readUnitsByCall: Record<string, number>;
    /** What the item sizes say it should cost: eventually consistent, 0.5 a 4 KB begun. */
    computedProfileReadUnits: number;
    /** Every run consumed the same read units. */
    readUnitsPerRun: number[];
    ms: { first: number; median: number; min: number; runs: number[] };
    calls: Record<string, DurationSummary>;
    usage: PhaseUsage;
  };
  scan: {
    items: number;
    pages: number;
    segments: number;
    readUnits: number;
    readUnitsPerItem: number;
    seconds: number;
    method: string;
  };
  /** Selection read units as a share of the scan's. */
  selectionShareOfScan: number;
}

const log = benchLog('audience');
const settings = defaultEngagementSettings;
const readUnitsPerSelectedTarget = 2;
const campaignId = 'bench-audience';
const writtenAudience = { all: [{ subscribed: true }, { tier: 'gold' }] };
/** A Monday 09:00 UTC, after every synthetic event. */
const fireTime = new Date('2026-11-23T09:00:00.000Z');
/** Customers are generated and written this many at a time, so that 100,000 states are never held at once. */
const seedChunk = 2_000;

export async function runAudienceBench(options: AudienceBenchOptions): Promise<AudienceBenchReport> {
  const startedAt = new Date();
  const machine = machineInfo();
  const catalog = benchCatalog();
  const campaign = catalog.campaigns[0];
  if (!campaign) throw new Error('the bench catalog has no campaign');
  log(`starting the emulators (load average ${machine.loadAverageAtStart.join(', ')})`);
  const aws = await startEmulatedAws();
  const timers = new AwsCallTimers();
  try {
    const readers = cpuReaders(aws.dynamodbPid);
    const sizes: SizeFigures[] = [];
    for (const customers of options.sizes) {
      sizes.push(await measureSize({ aws, timers, readers, catalog, campaign, customers, options }));
    }
    const report = buildReport(options, startedAt, machine, sizes);
    printReport(report);
    await writeReport(report, options.resultsDir);
    return report;
  } finally {
    await aws.stop();
  }
}

function benchCatalog(): Catalog {
  return parseCatalog(
    {
      campaigns: [
        {
          file: `campaigns/${campaignId}.yaml`,
          document: {
            id: campaignId,
            name: 'Gold subscribers (bench)',
            trigger: { kind: 'schedule', expression: 'cron(0 9 ? * MON *)' },
            audience: writtenAudience,
            message: { subject: 'For our gold members', template: 'bench' },
          },
        },
      ],
      segments: [],
      templates: { 'bench.html.liquid': '<p>Hello</p>', 'bench.txt.liquid': 'Hello' },
      sending: {
        from: 'Shop <hello@shop.example>',
        linkBaseUrl: 'http://127.0.0.1:3000',
        unsubscribeMailbox: 'unsubscribe@shop.example',
      },
      sendingFile: 'rapport.config.yaml',
    },
    settings,
  );
}

interface SizeContext {
  aws: EmulatedAws;
  timers: AwsCallTimers;
  readers: CpuReaders;
  catalog: Catalog;
  campaign: Campaign;
  customers: number;
  options: AudienceBenchOptions;
}

async function measureSize(context: SizeContext): Promise<SizeFigures> {
  const { aws, customers, options } = context;
  const table = `bench-audience-${customers}-${process.pid}`;
  await aws.useTable(table);
  // The clients are built on first use, which needs a table; attaching again replaces the timers.
  context.timers.attach();
  try {
    const seeded = await seedTable(context);
    const runs: Selection[] = [];
    for (let run = 0; run < options.repeats; run++) {
      const selection = await select(context);
      log(
        `${fmt(customers)} customers, selection ${run + 1}/${options.repeats}: ${fmt(selection.selected.length)} selected ` +
          `in ${fmtMs(selection.ms)}, ${round(selection.readUnits, 1)} read units`,
      );
      runs.push(selection);
    }
    const exact = runs.every((run) => sameIds(run.selected, seeded.expected));
    if (!exact) {
      const last = runs.at(-1);
      throw new Error(
        `the selection is not the audience: ${fmt(last?.selected.length ?? 0)} selected, ${fmt(seeded.expected.size)} expected`,
      );
    }
    log(`scanning the ${fmt(customers)}-customer table for the ceiling (${options.scanSegments} segments)`);
    const scan = await scanTable(aws, table, options.scanSegments);
    log(`scanned ${fmt(scan.items)} items in ${fmtMs(scan.ms)}: ${round(scan.readUnits, 1)} read units`);
    return figures(context, seeded, runs, scan);
  } finally {
    await aws.dropTable(table);
  }
}

interface Seeded {
  expected: Set<string>;
  membershipItems: number;
  ms: number;
  writeUnits: number;
  profileBytes: number[];
  audienceBytes: number[];
  computedProfileReadUnits: number;
}

/**
 * Every customer gets a state folded from a short history. Members of the audience (an even spread
 * of the given share) are subscribed and spent 2,000 to 6,000 USD (gold); one in 200 of the others
 * is gold but unsubscribed; the rest are 70% subscribed, and a third of them bought for up to
 * 1,500 USD (bronze or silver).
 */
async function seedTable(context: SizeContext): Promise<Seeded> {
  const { catalog, customers, options } = context;
  const random = seededRandom(`${options.seed}:audience`);
  const shop = buildCatalog(random);
  const perMillion = Math.round(options.audiencePercent * 10_000);
  const inAudience = (index: number): boolean =>
    Math.floor(((index + 1) * perMillion) / 1_000_000) > Math.floor((index * perMillion) / 1_000_000);
  const seeded: Seeded = {
    expected: new Set(),
    membershipItems: 0,
    ms: 0,
    writeUnits: 0,
    profileBytes: [],
    audienceBytes: [],
    computedProfileReadUnits: 0,
  };
  const window = { start: Date.UTC(2024, 5, 1), days: 720, settings };
  const before = capacityTotals();
  const start = performance.now();
  let lastLog = start;
  log(`seeding ${fmt(customers)} customers (${options.seedMethod}, ${options.concurrency} concurrent)`);
  for (let first = 0; first < customers; first += seedChunk) {
    const writes = [];
    for (let index = first; index < Math.min(customers, first + seedChunk); index++) {
      const member = inAudience(index);
      const gold = (): number => random.int(200_000, 600_000);
      const shape = member
        ? { subscribed: true, spendCents: gold() }
        : random.chance(0.005)
          ? { subscribed: false, spendCents: gold() }
          : {
              subscribed: random.chance(0.7),
              spendCents: random.chance(0.35) ? random.int(2_000, 150_000) : 0,
            };
      const customer = syntheticCustomer(random, index, shop, shape, window);
      const write = profileWrite(customer, catalog, settings);
      const [profileItem] = storedItems(write);
      const bytes = profileItem ? itemBytes(profileItem) : 0;
      seeded.profileBytes.push(bytes);
      seeded.membershipItems += write.indexed.length;
      if (member) {
        seeded.expected.add(customer.id);
        seeded.audienceBytes.push(bytes);
        seeded.computedProfileReadUnits += Math.ceil(bytes / 4096) * 0.5;
      }
      writes.push(write);
    }
    await seedProfiles(writes, { method: options.seedMethod, concurrency: options.concurrency });
    const now = performance.now();
    const done = Math.min(customers, first + seedChunk);
    if (now - lastLog > 5_000 || done === customers) {
      log(`seeded ${fmt(done)} of ${fmt(customers)} (${fmt((done * 1000) / (now - start))}/s)`);
      lastLog = now;
    }
  }
  seeded.ms = performance.now() - start;
  seeded.writeUnits = capacityTotals().writeUnits - before.writeUnits;
  if (seeded.membershipItems !== seeded.expected.size) {
    throw new Error(
      `the index holds ${fmt(seeded.membershipItems)} members for an audience of ${fmt(seeded.expected.size)}: ` +
        'the audience is not known statically',
    );
  }
  return seeded;
}

interface Selection {
  ms: number;
  readUnits: number;
  readUnitsByCall: Record<string, number>;
  selected: string[];
  candidates: number;
  calls: Record<string, DurationSummary>;
  usage: PhaseUsage;
}

/** One firing of the campaign that only decides: the customers come back through `collect`. */
async function select(context: SizeContext): Promise<Selection> {
  const { timers, readers, campaign } = context;
  timers.clear();
  const selected: string[] = [];
  const before = capacityTotals();
  const usageBefore = usageMark(readers);
  const start = performance.now();
  const summary = await fireCampaign(campaign, fireTime, settings, {
    collect: (requests) => {
      for (const request of requests) selected.push(request.customerId);
    },
  });
  const ms = performance.now() - start;
  const usage = phaseUsage(usageBefore, usageMark(readers), 0, summary.selected);
  return {
    ms,
    readUnits: capacityTotals().readUnits - before.readUnits,
    readUnitsByCall: timers.capacityUnits(),
    selected,
    candidates: summary.candidates,
    calls: timers.summary(),
    usage,
  };
}

interface Scan {
  items: number;
  pages: number;
  readUnits: number;
  ms: number;
}

/**
 * A Scan of the whole table, eventually consistent as the selection reads, with Select COUNT: it
 * consumes the same read units as returning the items (DynamoDB charges for what it reads, not what
 * it returns; checked on DynamoDB Local) without shipping them all to this process.
 */
async function scanTable(aws: EmulatedAws, table: string, segments: number): Promise<Scan> {
  const scan: Scan = { items: 0, pages: 0, readUnits: 0, ms: 0 };
  const start = performance.now();
  await Promise.all(
    Array.from({ length: segments }, async (_, segment) => {
      let from: Record<string, unknown> | undefined;
      do {
        const page: ScanCommandOutput = await aws.document.send(
          new ScanCommand({
            TableName: table,
            Select: 'COUNT',
            ConsistentRead: false,
            ReturnConsumedCapacity: 'TOTAL',
            ExclusiveStartKey: from,
            ...(segments > 1 ? { Segment: segment, TotalSegments: segments } : {}),
          }),
        );
        scan.items += page.Count ?? 0;
        scan.pages++;
        scan.readUnits += page.ConsumedCapacity?.CapacityUnits ?? 0;
        from = page.LastEvaluatedKey;
      } while (from);
    }),
  );
  scan.ms = performance.now() - start;
  return scan;
}

function sameIds(selected: readonly string[], expected: ReadonlySet<string>): boolean {
  const unique = new Set(selected);
  return (
    unique.size === selected.length &&
    unique.size === expected.size &&
    [...unique].every((id) => expected.has(id))
  );
}

function figures(context: SizeContext, seeded: Seeded, runs: readonly Selection[], scan: Scan): SizeFigures {
  const { customers, options } = context;
  const last = runs.at(-1);
  if (!last) throw new Error('no selection ran');
  const times = runs.map((run) => run.ms);
  const sortedTimes = [...times].sort((a, b) => a - b);
  const bytes = [...seeded.profileBytes].sort((a, b) => a - b);
  const mean = (values: readonly number[]): number =>
    round(values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length));
  return {
    customers,
    audience: {
      expected: seeded.expected.size,
      membershipItems: seeded.membershipItems,
      selected: last.selected.length,
      candidates: last.candidates,
      exact: true,
    },
    seed: {
      method: options.seedMethod,
      seconds: round(seeded.ms / 1000, 2),
      profilesPerSecond: round((customers * 1000) / seeded.ms),
      writeUnits: round(seeded.writeUnits),
      profileItemBytes: {
        mean: mean(bytes),
        p50: percentile(bytes, 0.5),
        p95: percentile(bytes, 0.95),
        max: bytes.at(-1) ?? 0,
      },
      audienceProfileItemBytes: { mean: mean(seeded.audienceBytes) },
    },
    selection: {
      readUnits: round(last.readUnits, 1),
      readUnitsPerSelected: round(last.readUnits / Math.max(1, last.selected.length), 3),
      readUnitsPerCustomerInTable: round(last.readUnits / customers, 5),
      readUnitsByCall: Object.fromEntries(
        Object.entries(last.readUnitsByCall).map(([name, units]) => [name, round(units, 1)]),
      ),
      computedProfileReadUnits: seeded.computedProfileReadUnits,
      readUnitsPerRun: runs.map((run) => round(run.readUnits, 1)),
      ms: {
        first: round(times[0] ?? 0),
        median: round(percentile(sortedTimes, 0.5)),
        min: round(sortedTimes[0] ?? 0),
        runs: times.map((ms) => round(ms)),
      },
      calls: last.calls,
      usage: last.usage,
    },
    scan: {
      items: scan.items,
      pages: scan.pages,
      segments: options.scanSegments,
      readUnits: round(scan.readUnits, 1),
      readUnitsPerItem: round(scan.readUnits / Math.max(1, scan.items), 4),
      seconds: round(scan.ms / 1000, 2),
      method: 'Scan, eventually consistent, Select COUNT, ReturnConsumedCapacity TOTAL, paginated',
    },
    selectionShareOfScan: round(last.readUnits / Math.max(1, scan.readUnits), 5),
  };
}

function buildReport(
  options: AudienceBenchOptions,
  startedAt: Date,
  machine: MachineInfo,
  sizes: SizeFigures[],
): AudienceBenchReport {
  const { resultsDir: _, ...shownOptions } = options;
  const values = sizes.map((size) => ({
    customers: size.customers,
    value: size.selection.readUnitsPerSelected,
    pass: size.selection.readUnitsPerSelected <= readUnitsPerSelectedTarget,
  }));
  return {
    bench: 'audience',
    date: startedAt.toISOString(),
    machine,
    sharedMachine:
      'taken on a shared machine: other processes (other test and bench runs) may have used the CPUs; see usage.otherCores. Read units do not depend on it, timings do.',
    options: shownOptions,
    campaign: { id: campaignId, audience: writtenAudience, fireTime: fireTime.toISOString(), indexShards },
    sizes,
    targets: {
      readUnitsPerSelected: {
        target: readUnitsPerSelectedTarget,
        values,
        pass: values.every((value) => value.pass),
      },
    },
  };
}

function printReport(report: AudienceBenchReport): void {
  const { sizes, machine, targets } = report;
  console.log('');
  console.log(
    `audience bench: schedule campaign "${report.campaign.id}", audience all: [subscribed, tier gold] (known statically, ` +
      `so the index holds exactly the audience), ${report.options.audiencePercent}% of customers; seed "${report.options.seed}", ` +
      `${machine.cpus} CPUs (shared; load ${machine.loadAverageAtStart[0]} at start), node ${machine.node}`,
  );
  const column = (value: (size: SizeFigures) => string): string[] => sizes.map(value);
  const rows: [string, string[], string][] = [
    ['customers in the table', column((size) => fmt(size.customers)), ''],
    [
      'audience (index items)',
      column((size) => `${fmt(size.audience.expected)} (${fmt(size.audience.membershipItems)})`),
      `${indexShards} index shards`,
    ],
    [
      'selected (candidates)',
      column((size) => `${fmt(size.audience.selected)} (${fmt(size.audience.candidates)})`),
      'exactly the audience in every run',
    ],
    [
      'selection read units',
      column((size) => round(size.selection.readUnits, 1).toString()),
      `index Query + BatchGetItem of profiles, eventually consistent`,
    ],
    [
      'read units / selected',
      column((size) => size.selection.readUnitsPerSelected.toFixed(2)),
      `target <= ${targets.readUnitsPerSelected.target}  ${mark(targets.readUnitsPerSelected.pass)}`,
    ],
    [
      'selection time',
      column((size) => fmtMs(size.selection.ms.median)),
      `median of ${report.options.repeats}; first runs ${sizes.map((size) => fmtMs(size.selection.ms.first)).join(', ')}`,
    ],
    [
      'scan read units (items)',
      column((size) => `${fmt(size.scan.readUnits)} (${fmt(size.scan.items)})`),
      'the ceiling: Scan of the same table, eventually consistent',
    ],
    [
      'scan time',
      column((size) => fmtMs(size.scan.seconds * 1000)),
      `${report.options.scanSegments} segments; DynamoDB Local's Scan slows with the square of a segment's size`,
    ],
    [
      'selection / scan units',
      column((size) => `${(size.selectionShareOfScan * 100).toFixed(2)} %`),
      'the cost follows the audience',
    ],
    [
      'seeding profiles/s',
      column((size) => fmt(size.seed.profilesPerSecond)),
      `${report.options.seedMethod}, profile items ${sizes[0]?.seed.profileItemBytes.mean ?? 0} B mean`,
    ],
  ];
  const widths = sizes.map((_, index) => Math.max(...rows.map(([, values]) => values[index]?.length ?? 0)));
  printRows(
    rows.map(([name, values, note]) => [
      name,
      values.map((value, index) => value.padStart(widths[index] ?? 0)).join('  '),
      note,
    ]),
  );
  for (const size of sizes) {
    const calls = Object.entries(size.selection.calls)
      .map(
        ([name, summary]) =>
          `${name} ${summary.count} calls, mean ${fmtMs(summary.meanMs)}, ${size.selection.readUnitsByCall[name] ?? 0} units`,
      )
      .join('; ');
    const usage = size.selection.usage;
    console.log(
      `  ${fmt(size.customers)}: ${calls}; profiles computed at ${size.selection.computedProfileReadUnits} units; ` +
        `cores busy: node ${usage.nodeCores}, java ${usage.javaCores ?? 'n/a'}, other ${usage.otherCores ?? 'n/a'}`,
    );
  }
  console.log('');
}

async function writeReport(report: AudienceBenchReport, resultsDir: string): Promise<void> {
  await mkdir(resultsDir, { recursive: true });
  const file = join(resultsDir, 'audience.json');
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`figures written to ${file}`);
}
