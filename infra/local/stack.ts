import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { rapportConfigFileName, readEngagementSettings } from '#infra/rapport-config.ts';
import { eventFunctions, type FunctionName, httpFunctions, queueFunctions } from '#infra/routes.ts';
import { ingestBatchSize } from '#infra/stacks/ingest-settings.ts';
import type { Catalog } from '#shared/campaigns/catalog.ts';
import { indexesMatch, reindexProfiles } from '#shared/campaigns/reindex.ts';
import { resetCatalog } from '#shared/campaigns/runtime-catalog.ts';
import { resetClients } from '#shared/clients/options.ts';
import { resetRuntimeConfig } from '#shared/config.ts';
import { type LocalBus, startLocalBus } from './bus.ts';
import { type CampaignHandlers, readCatalog, wireCampaigns, writeCatalog } from './campaigns.ts';
import { type EmulatorEndpoints, type Emulators, startEmulators } from './emulators.ts';
import { type Gateway, type HttpHandler, startGateway } from './gateway.ts';
import { ensureLocalKeys } from './keys.ts';
import { type QueueWorker, type SqsHandler, startQueueWorker } from './queue-worker.ts';
import { ensureQueueWithDlq, ensureTable, type QueuePair } from './resources.ts';
import { Scheduler } from './scheduler.ts';
import { ensureSigningSecret } from './signing-secret.ts';
import { StartupError } from './startup-error.ts';

/**
 * The whole of rapport on one machine: emulators, table and queues, the local bus, the HTTP gateway,
 * the ingest worker and the scheduler, wired to the same handlers that run on Lambda. `npm start`,
 * the end-to-end tests and the benchmarks all start it through here.
 */
export interface LocalStackOptions {
  /** Keeps DynamoDB data and the generated keys; default `.rapport/` (none when `inMemory`). */
  dataDir?: string;
  /** Gateway port; default 3000, 0 for a free one. */
  port?: number;
  /** DynamoDB in memory: nothing survives stop(). */
  inMemory?: boolean;
  /** No start-up or request lines (errors are still logged). */
  quiet?: boolean;
  /**
   * Where to read overrides from (RAPPORT_* endpoints, table, keys, AWS_REGION); default
   * process.env. The handlers always see process.env, which the stack sets.
   */
  env?: NodeJS.ProcessEnv;
  /** Default `rapport.config.yaml` in the working directory. */
  configFile?: string;
  /** Where campaigns/ and segments/ are; default the config file's directory. */
  catalogRoot?: string;
  /** A handler entry file (as named in infra/routes.ts) to its `handler`; tests pass fakes. */
  loadHandler?: (entry: string) => Promise<unknown>;
  /**
   * Ingest batches run at once; default 1. A batch folds its customers in parallel already, and
   * batches side by side on the one DynamoDB Local mostly meet on the same customers, where all but
   * one must read and fold again.
   */
  workerConcurrency?: number;
  /** Seconds before a failed ingest record is delivered again; default 1. */
  retryDelaySeconds?: number;
  /** How long stop() waits for the ingest queue to empty; default 10 s. */
  drainTimeoutMs?: number;
  schedulerIntervalMs?: number;
  cacheDir?: string;
}

export interface LocalStackEndpoints extends EmulatorEndpoints {
  bus: string;
}

export interface LocalStack {
  /** The gateway, e.g. http://127.0.0.1:3000. */
  url: string;
  keys: { write: string; admin: string };
  /** Whether this start generated keys (and so should print them). */
  keysGenerated: boolean;
  endpoints: LocalStackEndpoints;
  /** The variables set on process.env for the handlers; pass them to a CLI run against this stack. */
  env: Record<string, string>;
  table: string;
  queues: QueuePair;
  sendQueues: QueuePair;
  workers: { ingest: QueueWorker; send: QueueWorker };
  /** The campaigns this stack runs. */
  catalog: Catalog;
  bus: LocalBus;
  scheduler: Scheduler;
  /** The java process id, when this stack started DynamoDB Local. */
  dynamodbPid?: number;
  /**
   * Waits until the ingest and send queues are empty and no batch is running: everything posted,
   * and every email it triggered, has been handled.
   */
  drain(options?: { timeoutMs?: number }): Promise<void>;
  /** Stops taking requests, drains the ingest queue (bounded), then stops everything. Idempotent. */
  stop(): Promise<void>;
}

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const source = options.env ?? process.env;
  const log = options.quiet ? () => {} : (line: string) => console.log(line);
  const logError = (line: string): void => console.error(line);
  const region = source.AWS_REGION || 'us-east-1';
  const credentials = {
    accessKeyId: source.AWS_ACCESS_KEY_ID || 'local',
    secretAccessKey: source.AWS_SECRET_ACCESS_KEY || 'local',
  };
  const table = source.RAPPORT_TABLE || 'rapport';
  const maxReceiveCount = parseMaxReceiveCount(source.RAPPORT_MAX_RECEIVE_COUNT);
  const dataDir = options.dataDir ?? (options.inMemory ? undefined : resolve('.rapport'));
  const engagement = source.RAPPORT_ENGAGEMENT || readEngagement(options.configFile);
  const configFile = options.configFile ?? resolve(rapportConfigFileName);
  const catalogSource = readCatalog(options.catalogRoot ?? dirname(configFile), configFile, engagement);
  const load = options.loadHandler ?? importHandler;

  // Everything started so far, stopped in reverse if a later step fails.
  const cleanups: (() => Promise<void>)[] = [];
  const undo = async (): Promise<void> => {
    for (const cleanup of cleanups.reverse())
      await cleanup().catch((error: unknown) => logError(String(error)));
  };
  try {
    // Settled rather than all: a failure must not leave the other one starting unseen by undo().
    const [startedEmulators, startedBus] = await Promise.allSettled([
      startEmulators({
        ...(options.inMemory || !dataDir ? {} : { dynamodbPath: join(dataDir, 'dynamodb') }),
        ...optional('dynamodbEndpoint', source.RAPPORT_DYNAMODB_ENDPOINT),
        ...optional('sqsEndpoint', source.RAPPORT_SQS_ENDPOINT),
        ...optional('sesEndpoint', source.RAPPORT_SES_ENDPOINT),
        ...optional('cacheDir', options.cacheDir),
      }).then((started) => {
        cleanups.push(() => started.stop());
        return started;
      }),
      startLocalBus({ region, logError }).then((started) => {
        cleanups.push(() => started.close());
        return started;
      }),
    ]);
    if (startedEmulators.status === 'rejected') throw startedEmulators.reason;
    if (startedBus.status === 'rejected') throw startedBus.reason;
    const emulators: Emulators = startedEmulators.value;
    const bus: LocalBus = startedBus.value;
    const endpoints: LocalStackEndpoints = { ...emulators.endpoints, bus: bus.endpoint };

    // Bounded, so that an endpoint given in the environment that never answers fails the start.
    const requestHandler = { requestTimeout: 10_000, throwOnRequestTimeout: true };
    const dynamodb = new DynamoDBClient({
      region,
      credentials,
      endpoint: endpoints.dynamodb,
      requestHandler,
    });
    const sqs = new SQSClient({ region, credentials, endpoint: endpoints.sqs, requestHandler });
    cleanups.push(async () => {
      dynamodb.destroy();
      sqs.destroy();
    });
    const [queues, sendQueues] = await Promise.all([
      reach('SQS', endpoints.sqs, () =>
        ensureQueueWithDlq(sqs, {
          queueName: `${table}-ingest`,
          dlqName: `${table}-ingest-dlq`,
          maxReceiveCount,
        }),
      ),
      reach('SQS', endpoints.sqs, () =>
        ensureQueueWithDlq(sqs, {
          queueName: `${table}-send`,
          dlqName: `${table}-send-dlq`,
          maxReceiveCount,
        }),
      ),
      reach('DynamoDB', endpoints.dynamodb, () => ensureTable(dynamodb, table)),
    ]);

    const env: Record<string, string> = {
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      RAPPORT_TABLE: table,
      RAPPORT_INGEST_QUEUE_URL: queues.queueUrl,
      RAPPORT_INGEST_DLQ_URL: queues.dlqUrl,
      RAPPORT_BUS_NAME: source.RAPPORT_BUS_NAME || 'rapport',
      RAPPORT_DYNAMODB_ENDPOINT: endpoints.dynamodb,
      RAPPORT_SQS_ENDPOINT: endpoints.sqs,
      RAPPORT_SES_ENDPOINT: endpoints.ses,
      RAPPORT_EVENTBRIDGE_ENDPOINT: endpoints.bus,
      RAPPORT_MAX_RECEIVE_COUNT: String(maxReceiveCount),
      RAPPORT_SEND_QUEUE_URL: sendQueues.queueUrl,
      RAPPORT_CATALOG: await writeCatalog(catalogSource.file, dataDir, cleanups),
      RAPPORT_SIGNING_SECRET: await ensureSigningSecret(dataDir, source),
      RAPPORT_SEND_PACING: source.RAPPORT_SEND_PACING === 'off' ? 'off' : 'on',
      ...(engagement ? { RAPPORT_ENGAGEMENT: engagement } : {}),
    };
    cleanups.push(applyEnv(env));

    const keys = await ensureLocalKeys({ ...(dataDir ? { dataDir } : {}), env: source });
    if (!(await indexesMatch(catalogSource.catalog))) {
      // Campaigns were added or changed since the data was indexed: bring every customer up to date once.
      const indexed = await reindexProfiles(catalogSource.catalog, catalogSource.settings);
      if (indexed.changed > 0)
        log(`indexed ${indexed.changed} of ${indexed.customers} customers for the campaigns`);
    }
    const httpHandlers = await loadHttpHandlers(load);
    const ingestHandler = await loadHandler<SqsHandler>(load, 'ingest', queueFunctions.ingest.entry);
    const sendHandler = await loadHandler<SqsHandler>(load, 'send', queueFunctions.send.entry);
    const campaignHandlers = {
      evaluate: await loadHandler<CampaignHandlers['evaluate']>(
        load,
        'evaluate',
        eventFunctions.evaluate.entry,
      ),
      sweep: await loadHandler<CampaignHandlers['sweep']>(load, 'sweep', eventFunctions.sweep.entry),
      trigger: await loadHandler<CampaignHandlers['trigger']>(load, 'trigger', eventFunctions.trigger.entry),
    };

    const gateway: Gateway = await startGateway({
      port: options.port ?? 3000,
      region,
      loadHandler: async (name) => httpHandlers[name],
      log,
      logError,
    });
    cleanups.push(() => gateway.close());

    const workerSqs = new SQSClient({ region, credentials, endpoint: endpoints.sqs });
    const ingest = startQueueWorker({
      sqs: workerSqs,
      queueUrl: queues.queueUrl,
      handler: ingestHandler,
      functionName: 'ingest',
      region,
      concurrency: options.workerConcurrency ?? 1,
      batchSize: ingestBatchSize,
      retryDelaySeconds: options.retryDelaySeconds ?? 1,
      logError,
    });
    cleanups.push(async () => {
      await ingest.stop();
      workerSqs.destroy();
    });

    const send = startQueueWorker({
      sqs: workerSqs,
      queueUrl: sendQueues.queueUrl,
      handler: sendHandler,
      functionName: 'send',
      region,
      concurrency: 2,
      batchSize: 10,
      retryDelaySeconds: options.retryDelaySeconds ?? 1,
      logError,
    });
    cleanups.push(() => send.stop());

    const scheduler = new Scheduler({ logError });
    cleanups.push(wireCampaigns(catalogSource.catalog, campaignHandlers, bus, scheduler));
    scheduler.start(options.schedulerIntervalMs ?? 1_000);
    cleanups.push(() => scheduler.stop());

    const drainTimeoutMs = options.drainTimeoutMs ?? 10_000;
    let stopping: Promise<void> | undefined;
    return {
      url: gateway.url,
      keys: { write: keys.write, admin: keys.admin },
      keysGenerated: keys.generated,
      endpoints,
      env,
      table,
      queues,
      sendQueues,
      workers: { ingest, send },
      catalog: catalogSource.catalog,
      bus,
      scheduler,
      ...(emulators.dynamodbPid === undefined ? {} : { dynamodbPid: emulators.dynamodbPid }),
      drain: async ({ timeoutMs = drainTimeoutMs } = {}) => {
        // Ingest triggers sends, and sends record their outcomes through ingest: drain until both rest.
        for (let round = 0; round < 3; round++) {
          await ingest.idle({ timeoutMs });
          await bus.settled();
          await send.idle({ timeoutMs });
        }
        await ingest.idle({ timeoutMs });
      },
      stop: () => {
        stopping ??= (async () => {
          // New requests would refill the queue, so the gateway closes before the drain.
          await gateway.close();
          await ingest.idle({ timeoutMs: drainTimeoutMs }).catch((error: unknown) => {
            // The SQS emulator keeps messages in memory only, so what is still queued now is gone.
            logError(`stopping before the ingest queue drained: ${firstLine(error)}`);
          });
          await send.idle({ timeoutMs: drainTimeoutMs }).catch((error: unknown) => {
            logError(`stopping before the send queue drained: ${firstLine(error)}`);
          });
          await bus.settled();
          await undo();
        })();
        return stopping;
      },
    };
  } catch (error) {
    await undo();
    throw error;
  }
}

/** Imports a handler entry such as `functions/collect.ts` from the repository root. */
async function importHandler(entry: string): Promise<unknown> {
  const module: Record<string, unknown> = await import(pathToFileURL(join(repoRoot, entry)).href);
  return module.handler;
}

async function loadHandler<T>(
  load: (entry: string) => Promise<unknown>,
  name: string,
  entry: string,
): Promise<T> {
  let handler: unknown;
  try {
    handler = await load(entry);
  } catch (error) {
    throw new StartupError(`cannot load the ${name} handler from ${entry}: ${firstLine(error)}`);
  }
  if (typeof handler !== 'function') throw new StartupError(`${entry} exports no handler function`);
  return handler as T;
}

/** Loaded at start, so that a broken function fails `npm start` rather than its first request. */
async function loadHttpHandlers(
  load: (entry: string) => Promise<unknown>,
): Promise<Record<FunctionName, HttpHandler>> {
  const names = Object.keys(httpFunctions) as FunctionName[];
  const handlers = await Promise.all(
    names.map((name) => loadHandler<HttpHandler>(load, name, httpFunctions[name].entry)),
  );
  return Object.fromEntries(names.map((name, i) => [name, handlers[i]])) as Record<FunctionName, HttpHandler>;
}

/** Sets the handlers' variables and returns what puts the previous ones back. */
function applyEnv(env: Record<string, string>): () => Promise<void> {
  const previous = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]));
  Object.assign(process.env, env);
  resetRuntimeConfig();
  resetClients();
  resetCatalog();
  return async () => {
    for (const [name, value] of Object.entries(previous)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    resetRuntimeConfig();
    resetClients();
    resetCatalog();
  };
}

/** The `engagement:` settings of the config file as JSON, checked now so that a bad one stops the start. */
function readEngagement(configFile: string | undefined): string | undefined {
  try {
    const settings = readEngagementSettings(configFile ?? resolve(rapportConfigFileName));
    return settings === undefined ? undefined : JSON.stringify(settings);
  } catch (error) {
    throw new StartupError(error instanceof Error ? error.message : String(error));
  }
}

function parseMaxReceiveCount(value: string | undefined): number {
  if (!value) return 5;
  const count = Number(value);
  if (!Number.isInteger(count) || count < 1) {
    throw new StartupError(`RAPPORT_MAX_RECEIVE_COUNT must be a whole number of at least 1, not "${value}"`);
  }
  return count;
}

/** Names the service and endpoint when one given in the environment cannot be reached. */
async function reach<T>(service: string, endpoint: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw new StartupError(`cannot set up ${service} at ${endpoint}: ${firstLine(error)}`);
  }
}

function optional<K extends string>(name: K, value: string | undefined): Partial<Record<K, string>> {
  return value ? ({ [name]: value } as Record<K, string>) : {};
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message || error.name : String(error);
  return text.split('\n')[0] ?? text;
}
