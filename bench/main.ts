import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { type IngestBenchOptions, runIngestBench } from './ingest.ts';

/**
 * `npm run bench [-- <name>] [options]`: runs one benchmark, or every one without a name. A bench
 * prints its figures and writes them to bench/results/<name>.json. A missed target is reported, not
 * failed (exit 0); a run that could not measure (rejected or lost events, errors, timeouts) exits 1.
 */
const benches = {
  ingest: runIngestBench,
} as const;

type BenchName = keyof typeof benches;

/** The options as commander names them: `--timeout` is the bench's `timeoutSeconds`. */
type CliOptions = Omit<IngestBenchOptions, 'timeoutSeconds' | 'resultsDir'> & { timeout: number };

const resultsDir = fileURLToPath(new URL('./results/', import.meta.url));

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
  .option('--customers <n>', 'customers the events are spread over', wholeNumber(1), 2_000)
  .option(
    '--concurrency <n>',
    'concurrent requests (and BatchWriteItem calls for the ceiling)',
    wholeNumber(1),
    8,
  )
  .option('--batch-size <n>', 'events per POST /v1/batch', wholeNumber(1), 100)
  .option('--seed <text>', 'seed of the synthetic traffic', 'rapport')
  .addOption(
    new Option(
      '--worker-concurrency <n>',
      "the local ingest worker's pollers (default: the stack's)",
    ).argParser(wholeNumber(1)),
  )
  .option('--timeout <seconds>', 'bound on posting plus draining', wholeNumber(1), 600)
  .option('--profile', 'record a CPU profile of the measured phase (slower; the run is marked)', false)
  .showHelpAfterError();

program.action(async (name: string | undefined) => {
  const options = program.opts<CliOptions>();
  if (name !== undefined && !(name in benches)) {
    program.error(`unknown bench "${name}"; known: ${Object.keys(benches).join(', ')}`);
  }
  if (options.events < options.customers) {
    program.error(`--events (${options.events}) must be at least --customers (${options.customers})`);
  }
  const selected = name === undefined ? (Object.keys(benches) as BenchName[]) : [name as BenchName];
  for (const bench of selected) {
    await benches[bench]({
      events: options.events,
      customers: options.customers,
      concurrency: options.concurrency,
      batchSize: options.batchSize,
      seed: options.seed,
      ...(options.workerConcurrency === undefined ? {} : { workerConcurrency: options.workerConcurrency }),
      timeoutSeconds: options.timeout,
      profile: options.profile,
      resultsDir,
    });
  }
});

try {
  await program.parseAsync();
} catch (error) {
  console.error(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
}
