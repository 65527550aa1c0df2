import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { type AudienceBenchOptions, runAudienceBench } from './audience.ts';
import { type IngestBenchOptions, runIngestBench } from './ingest.ts';
import { type SeedMethod, seedMethods } from './seed.ts';
import { runSendBench, type SendBenchOptions } from './send.ts';

/** The options as commander names them: `--timeout` is the benches' `timeoutSeconds`. */
type CliOptions = Omit<IngestBenchOptions, 'timeoutSeconds' | 'resultsDir'> &
  Omit<AudienceBenchOptions, 'resultsDir'> &
  Pick<SendBenchOptions, 'senders' | 'pacingRate' | 'pacingEmails'> & { timeout: number };

const resultsDir = fileURLToPath(new URL('./results/', import.meta.url));

/**
 * `npm run bench [-- <name>] [options]`: runs one benchmark, or every one without a name. A bench
 * prints its figures and writes them to bench/results/<name>.json. A missed target is reported, not
 * failed (exit 0); a run that could not measure (rejected or lost events, errors, timeouts) exits 1.
 */
const benches = {
  ingest: (options: CliOptions) => {
    if (options.events < options.customers) {
      program.error(`--events (${options.events}) must be at least --customers (${options.customers})`);
    }
    return runIngestBench({
      events: options.events,
      customers: options.customers,
      concurrency: options.concurrency,
      batchSize: options.batchSize,
      seed: options.seed,
      ...(options.workerConcurrency === undefined ? {} : { workerConcurrency: options.workerConcurrency }),
      campaigns: options.campaigns,
      timeoutSeconds: options.timeout,
      profile: options.profile,
      resultsDir,
    });
  },
  audience: (options: CliOptions) =>
    runAudienceBench({
      sizes: options.sizes,
      audiencePercent: options.audiencePercent,
      seed: options.seed,
      seedMethod: options.seedMethod,
      concurrency: options.concurrency,
      repeats: options.repeats,
      scanSegments: options.scanSegments,
      resultsDir,
    }),
  send: (options: CliOptions) =>
    runSendBench({
      customers: options.customers,
      senders: options.senders,
      pacingRate: options.pacingRate,
      pacingEmails: options.pacingEmails,
      seed: options.seed,
      timeoutSeconds: options.timeout,
      profile: options.profile,
      resultsDir,
    }),
} as const;

type BenchName = keyof typeof benches;

function positiveNumber(value: string): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) throw new InvalidArgumentError('expected a positive number');
  return number;
}

function wholeNumbers(value: string): number[] {
  return value.split(',').map((part) => wholeNumber(1)(part.trim()));
}

function seedMethod(value: string): SeedMethod {
  const method = seedMethods.find((known) => known === value);
  if (!method) throw new InvalidArgumentError(`expected one of ${seedMethods.join(', ')}`);
  return method;
}

function wholeNumber(minimum: number) {
  return (value: string): number => {
    const number = Number(value);
    if (!Number.isInteger(number) || number < minimum) {
      throw new InvalidArgumentError(`expected a whole number of at least ${minimum}`);
    }
    return number;
  };
}

const program = new Command('bench')
  .description('rapport benchmarks: figures printed and written to bench/results/<name>.json')
  .argument('[name]', `the bench to run (${Object.keys(benches).join(', ')}); all when absent`)
  .option('--events <n>', 'synthetic events to ingest', wholeNumber(1), 20_000)
  .option(
    '--customers <n>',
    'ingest: customers the events are spread over; send: customers in the audience',
    wholeNumber(1),
    2_000,
  )
  .option(
    '--concurrency <n>',
    'concurrent requests (and BatchWriteItem calls for the ceiling; audience: seeding writes)',
    wholeNumber(1),
    8,
  )
  .option('--batch-size <n>', 'events per POST /v1/batch', wholeNumber(1), 100)
  .option('--seed <text>', 'seed of the synthetic traffic', 'rapport')
  .option(
    '--campaigns',
    "ingest: run the repository's campaigns as a deployment would (their indexes, timers and sends)",
    false,
  )
  .addOption(
    new Option(
      '--worker-concurrency <n>',
      "the local ingest worker's pollers (default: the stack's)",
    ).argParser(wholeNumber(1)),
  )
  .option('--timeout <seconds>', 'bound on posting plus draining (send: on each drain)', wholeNumber(1), 600)
  .option('--profile', 'record a CPU profile of the measured phase (slower; the run is marked)', false)
  .option('--sizes <list>', 'audience: customers in the table, one run each', wholeNumbers, [10_000, 100_000])
  .option('--audience-percent <n>', 'audience: percent of the customers in the audience', positiveNumber, 1)
  .option(
    '--seed-method <method>',
    `audience: how tables are seeded (${seedMethods.join(', ')})`,
    seedMethod,
    'batch',
  )
  .option('--repeats <n>', 'audience: selections per size (the median time is reported)', wholeNumber(1), 3)
  .option('--scan-segments <n>', 'audience: parallel segments of the ceiling scan', wholeNumber(1), 32)
  .option('--senders <n>', 'send: queue pollers, each delivering batches of up to 10', wholeNumber(1), 4)
  .option('--pacing-rate <n>', 'send: maxSendRate of the pacing run, emails/s', positiveNumber, 20)
  .option('--pacing-emails <n>', 'send: emails of the pacing run', wholeNumber(1), 300)
  .showHelpAfterError();

program.action(async (name: string | undefined) => {
  const options = program.opts<CliOptions>();
  if (name !== undefined && !(name in benches)) {
    program.error(`unknown bench "${name}"; known: ${Object.keys(benches).join(', ')}`);
  }
  const selected = name === undefined ? (Object.keys(benches) as BenchName[]) : [name as BenchName];
  for (const bench of selected) {
    await benches[bench](options);
  }
});

try {
  await program.parseAsync();
} catch (error) {
  console.error(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
}
