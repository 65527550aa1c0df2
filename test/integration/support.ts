import { randomUUID } from 'node:crypto';
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, inject } from 'vitest';
import { type LocalBus, startLocalBus } from '#infra/local/bus.ts';
import { ensureQueueWithDlq, ensureTable } from '#infra/local/resources.ts';
import { resetClients } from '#shared/clients/options.ts';
import { resetRuntimeConfig } from '#shared/config.ts';

/**
 * Points the code under test at the shared emulators (see emulators.ts) with a table, an ingest queue
 * and a DLQ of its own, and a local bus, for one test file. Call it at the top of the file; the values
 * can be read from hooks and tests.
 */
export interface EmulatorEnvironment {
  table: string;
  ingestQueueUrl: string;
  ingestDlqUrl: string;
  sendQueueUrl: string;
  sendDlqUrl: string;
  maxReceiveCount: number;
  endpoints: { dynamodb: string; sqs: string; ses: string; bus: string };
  bus: LocalBus;
  /** Raw clients on the emulators, for arranging and asserting beside the code under test. */
  dynamodb: DynamoDBClient;
  sqs: SQSClient;
  /** The variables set on process.env. */
  env: Record<string, string>;
}

export const testRegion = 'us-east-1';
export const testCredentials = { accessKeyId: 'local', secretAccessKey: 'local' };
export const testSigningSecret = 'integration-test-signing-secret-0123456789';

export function useEmulators(options: { maxReceiveCount?: number } = {}): EmulatorEnvironment {
  const table = `rapport-test-${randomUUID().slice(0, 8)}`;
  const maxReceiveCount = options.maxReceiveCount ?? 5;
  let ready: EmulatorEnvironment | undefined;
  let previous: Record<string, string | undefined> = {};

  beforeAll(async () => {
    const dynamodbEndpoint = inject('dynamodbEndpoint');
    const sqsEndpoint = inject('sqsEndpoint');
    const sesEndpoint = inject('sesEndpoint');
    const clientConfig = { region: testRegion, credentials: testCredentials };
    const dynamodb = new DynamoDBClient({ ...clientConfig, endpoint: dynamodbEndpoint });
    const sqs = new SQSClient({ ...clientConfig, endpoint: sqsEndpoint });
    const [queues, sendQueues, bus] = await Promise.all([
      ensureQueueWithDlq(sqs, {
        queueName: `${table}-ingest`,
        dlqName: `${table}-ingest-dlq`,
        maxReceiveCount,
      }),
      ensureQueueWithDlq(sqs, {
        queueName: `${table}-send`,
        dlqName: `${table}-send-dlq`,
        maxReceiveCount,
      }),
      startLocalBus({ region: testRegion }),
      ensureTable(dynamodb, table),
    ]);
    const env: Record<string, string> = {
      AWS_REGION: testRegion,
      AWS_ACCESS_KEY_ID: testCredentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: testCredentials.secretAccessKey,
      RAPPORT_TABLE: table,
      RAPPORT_INGEST_QUEUE_URL: queues.queueUrl,
      RAPPORT_INGEST_DLQ_URL: queues.dlqUrl,
      RAPPORT_SEND_QUEUE_URL: sendQueues.queueUrl,
      RAPPORT_SIGNING_SECRET: testSigningSecret,
      RAPPORT_BUS_NAME: 'rapport',
      RAPPORT_DYNAMODB_ENDPOINT: dynamodbEndpoint,
      RAPPORT_SQS_ENDPOINT: sqsEndpoint,
      RAPPORT_SES_ENDPOINT: sesEndpoint,
      RAPPORT_EVENTBRIDGE_ENDPOINT: bus.endpoint,
      RAPPORT_MAX_RECEIVE_COUNT: String(maxReceiveCount),
    };
    previous = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]));
    Object.assign(process.env, env);
    resetRuntimeConfig();
    resetClients();
    ready = {
      table,
      ingestQueueUrl: queues.queueUrl,
      ingestDlqUrl: queues.dlqUrl,
      sendQueueUrl: sendQueues.queueUrl,
      sendDlqUrl: sendQueues.dlqUrl,
      maxReceiveCount,
      endpoints: { dynamodb: dynamodbEndpoint, sqs: sqsEndpoint, ses: sesEndpoint, bus: bus.endpoint },
      bus,
      dynamodb,
      sqs,
      env,
    };
  });

  afterAll(async () => {
    for (const [name, value] of Object.entries(previous)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    resetRuntimeConfig();
    resetClients();
    if (!ready) return;
    const { dynamodb, sqs, bus, ingestQueueUrl, ingestDlqUrl, sendQueueUrl, sendDlqUrl } = ready;
    await Promise.allSettled([
      sqs.send(new DeleteQueueCommand({ QueueUrl: sendQueueUrl })),
      sqs.send(new DeleteQueueCommand({ QueueUrl: sendDlqUrl })),
      dynamodb.send(new DeleteTableCommand({ TableName: table })),
      sqs.send(new DeleteQueueCommand({ QueueUrl: ingestQueueUrl })),
      sqs.send(new DeleteQueueCommand({ QueueUrl: ingestDlqUrl })),
      bus.close(),
    ]);
    dynamodb.destroy();
    sqs.destroy();
    ready = undefined;
  });

  // Read through getters: the values exist only once beforeAll has run.
  const current = (): EmulatorEnvironment => {
    if (!ready) throw new Error('useEmulators() values are ready inside hooks and tests, not at module load');
    return ready;
  };
  return {
    table,
    maxReceiveCount,
    get ingestQueueUrl() {
      return current().ingestQueueUrl;
    },
    get ingestDlqUrl() {
      return current().ingestDlqUrl;
    },
    get sendQueueUrl() {
      return current().sendQueueUrl;
    },
    get sendDlqUrl() {
      return current().sendDlqUrl;
    },
    get endpoints() {
      return current().endpoints;
    },
    get bus() {
      return current().bus;
    },
    get dynamodb() {
      return current().dynamodb;
    },
    get sqs() {
      return current().sqs;
    },
    get env() {
      return current().env;
    },
  };
}
