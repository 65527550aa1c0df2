import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type EmulatorEndpoints, startEmulators } from '#infra/local/emulators.ts';
import { ensureQueueWithDlq, ensureTable, type QueuePair, queueCounts } from '#infra/local/resources.ts';
import { resetClients } from '#shared/clients/options.ts';
import { resetRuntimeConfig } from '#shared/config.ts';

/**
 * The emulators for a bench that calls the domain code itself, without the local stack's gateway
 * and workers: DynamoDB Local, the SQS and SES emulators, and the RAPPORT_* variables on
 * process.env, set as the integration tests set them (test/integration/support.ts), so that the
 * shared clients and runtimeConfig() reach them. Tables and queues are the bench's own, named after
 * the process.
 */
export interface EmulatedAws {
  endpoints: EmulatorEndpoints;
  /** The DynamoDB Local JVM, for CPU readings. */
  dynamodbPid?: number;
  /** Clients of the bench's own, apart from the shared ones the code under test uses. */
  dynamodb: DynamoDBClient;
  document: DynamoDBDocumentClient;
  sqs: SQSClient;
  /** Creates a table and points RAPPORT_TABLE at it. */
  useTable(name: string): Promise<void>;
  dropTable(name: string): Promise<void>;
  /** Creates a queue with its DLQ; `variable` (RAPPORT_SEND_QUEUE_URL...) is set to its URL. */
  useQueue(name: string, variable: QueueVariable): Promise<QueuePair>;
  /** Messages visible, in flight and delayed. */
  queueDepth(queueUrl: string): Promise<number>;
  /** Stops the emulators and puts process.env back. Idempotent. */
  stop(): Promise<void>;
}

type QueueVariable = 'RAPPORT_SEND_QUEUE_URL' | 'RAPPORT_INGEST_QUEUE_URL';

const region = 'us-east-1';
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
/** Signs unsubscribe links and promo codes in the rendered mail; any 32 characters do. */
const benchSigningSecret = 'rapport-bench-signing-secret-0123456789';

export async function startEmulatedAws(): Promise<EmulatedAws> {
  const emulators = await startEmulators();
  const { endpoints } = emulators;
  const dynamodb = new DynamoDBClient({ region, credentials, endpoint: endpoints.dynamodb });
  const document = DynamoDBDocumentClient.from(dynamodb, {
    marshallOptions: { removeUndefinedValues: true, convertEmptyValues: false },
  });
  const sqs = new SQSClient({ region, credentials, endpoint: endpoints.sqs });
  const previous: Record<string, string | undefined> = {};
  const setEnv = (values: Record<string, string>): void => {
    for (const [name, value] of Object.entries(values)) {
      if (!(name in previous)) previous[name] = process.env[name];
      process.env[name] = value;
    }
    resetRuntimeConfig();
  };
  setEnv({
    AWS_REGION: region,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    RAPPORT_DYNAMODB_ENDPOINT: endpoints.dynamodb,
    RAPPORT_SQS_ENDPOINT: endpoints.sqs,
    RAPPORT_SES_ENDPOINT: endpoints.ses,
    RAPPORT_SIGNING_SECRET: benchSigningSecret,
  });
  resetClients();
  let stopping: Promise<void> | undefined;
  return {
    endpoints,
    ...(emulators.dynamodbPid === undefined ? {} : { dynamodbPid: emulators.dynamodbPid }),
    dynamodb,
    document,
    sqs,
    async useTable(name) {
      await ensureTable(dynamodb, name);
      setEnv({ RAPPORT_TABLE: name });
    },
    async dropTable(name) {
      await dynamodb.send(new DeleteTableCommand({ TableName: name }));
    },
    async useQueue(name, variable) {
      const queues = await ensureQueueWithDlq(sqs, {
        queueName: name,
        dlqName: `${name}-dlq`,
        maxReceiveCount: 5,
      });
      setEnv({ [variable]: queues.queueUrl });
      return queues;
    },
    async queueDepth(queueUrl) {
      const { visible, inFlight, delayed } = await queueCounts(sqs, queueUrl);
      return visible + inFlight + delayed;
    },
    stop() {
      stopping ??= (async () => {
        for (const [name, value] of Object.entries(previous)) {
          if (value === undefined) delete process.env[name];
          else process.env[name] = value;
        }
        resetRuntimeConfig();
        resetClients();
        dynamodb.destroy();
        sqs.destroy();
        await emulators.stop();
      })();
      return stopping;
    },
  };
}
