import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import { startFauxqs } from 'fauxqs';
import { startDynamoDbLocal } from './dynamodb-local.ts';

/**
 * The AWS services the handlers talk to, emulated on free loopback ports: DynamoDB Local (Java), the
 * SQS emulator fauxqs and the SES v2 emulator, the last two in this process. An endpoint given in the
 * options is used as it is and its emulator is not started.
 */
export interface EmulatorOptions {
  /** Where DynamoDB Local keeps its tables; in memory when absent. */
  dynamodbPath?: string;
  dynamodbEndpoint?: string;
  sqsEndpoint?: string;
  sesEndpoint?: string;
  cacheDir?: string;
  javaCommand?: string;
}

export interface EmulatorEndpoints {
  dynamodb: string;
  sqs: string;
  ses: string;
  /** The SES emulator's web viewer of sent mail. */
  sesOutbox: string;
}

export interface Emulators {
  endpoints: EmulatorEndpoints;
  /** The java process id, when this process started DynamoDB Local. */
  dynamodbPid?: number;
  /** Stops what this call started. Idempotent. */
  stop(): Promise<void>;
}

interface Started {
  endpoint: string;
  pid?: number;
  stop(): Promise<void>;
}

export async function startEmulators(options: EmulatorOptions = {}): Promise<Emulators> {
  const results = await Promise.allSettled([
    options.dynamodbEndpoint ? external(options.dynamodbEndpoint) : startDynamoDb(options),
    options.sqsEndpoint ? external(options.sqsEndpoint) : startSqs(),
    options.sesEndpoint ? external(options.sesEndpoint) : startSes(),
  ]);
  const started = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const stopAll = async (): Promise<void> => {
    await Promise.allSettled(started.map((service) => service.stop()));
  };
  const failure = results.find((result) => result.status === 'rejected');
  if (failure) {
    await stopAll();
    throw failure.reason;
  }
  const [dynamodb, sqs, ses] = started;
  if (!dynamodb || !sqs || !ses) throw new Error('an emulator did not report its endpoint');
  let stopping: Promise<void> | undefined;
  return {
    endpoints: {
      dynamodb: dynamodb.endpoint,
      sqs: sqs.endpoint,
      ses: ses.endpoint,
      sesOutbox: `${ses.endpoint}/`,
    },
    ...(dynamodb.pid === undefined ? {} : { dynamodbPid: dynamodb.pid }),
    stop: () => {
      stopping ??= stopAll();
      return stopping;
    },
  };
}

async function external(endpoint: string): Promise<Started> {
  return { endpoint: endpoint.replace(/\/+$/, ''), stop: async () => {} };
}

async function startDynamoDb(options: EmulatorOptions): Promise<Started> {
  const dynamodb = await startDynamoDbLocal({
    storage: options.dynamodbPath ? { dbPath: options.dynamodbPath } : { inMemory: true },
    ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
    ...(options.javaCommand ? { javaCommand: options.javaCommand } : {}),
  });
  return { endpoint: dynamodb.endpoint, pid: dynamodb.pid, stop: dynamodb.stop };
}

async function startSqs(): Promise<Started> {
  // fauxqs always binds 0.0.0.0; its queue URLs name 127.0.0.1, so clients use that.
  const server = await startFauxqs({ port: 0, logger: false });
  return { endpoint: `http://127.0.0.1:${server.port}`, stop: () => server.stop() };
}

type StartSesServer = (config: { port: number; host: string }) => Promise<Server>;

async function startSes(): Promise<Started> {
  // aws-ses-v2-local is CommonJS with an `exports.default`; require() reaches that function the same
  // way under node, tsx and vitest, where a default import would not.
  const sesModule: { default: StartSesServer } = createRequire(import.meta.url)('aws-ses-v2-local');
  const server = await sesModule.default({ port: 0, host: '127.0.0.1' });
  const address = server.address();
  if (!address || typeof address !== 'object') {
    server.close();
    throw new Error('the SES emulator did not start listening');
  }
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
