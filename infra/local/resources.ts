import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  QueueNameExists,
  SetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { tableDefinition } from '#shared/store/schema.ts';

/**
 * The table and queues the handlers expect, created on the emulators the way the CDK stack creates
 * them on AWS. Creating what already exists is harmless, so every start and every test file can call
 * these.
 */
export async function ensureTable(dynamodb: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await dynamodb.send(new CreateTableCommand({ TableName: tableName, ...tableDefinition }));
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  // DynamoDB Local creates tables ACTIVE at once; a real endpoint takes a few seconds.
  for (let waited = 0; ; waited += 500) {
    try {
      const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: tableName }));
      if (Table?.TableStatus === 'ACTIVE') return;
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
    if (waited > 60_000) throw new Error(`table ${tableName} did not become active within a minute`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

export interface QueuePair {
  queueUrl: string;
  queueArn: string;
  dlqUrl: string;
  dlqArn: string;
}

/**
 * The ingest queue and its dead-letter queue. The ingest handler itself parks a record that keeps
 * failing at `maxReceiveCount`; SQS redrive one receive later is the backstop for a record the handler
 * never got to report (a crash, a timeout), as in the CDK stack.
 */
export async function ensureQueueWithDlq(
  sqs: SQSClient,
  options: { queueName: string; dlqName: string; maxReceiveCount: number; visibilityTimeoutSeconds?: number },
): Promise<QueuePair> {
  const dlqUrl = await ensureQueue(sqs, options.dlqName, { MessageRetentionPeriod: String(14 * 24 * 3600) });
  const dlqArn = await queueArn(sqs, dlqUrl);
  const queueUrl = await ensureQueue(sqs, options.queueName, {
    VisibilityTimeout: String(options.visibilityTimeoutSeconds ?? 30),
    RedrivePolicy: JSON.stringify({
      deadLetterTargetArn: dlqArn,
      maxReceiveCount: String(options.maxReceiveCount + 1),
    }),
  });
  return { queueUrl, queueArn: await queueArn(sqs, queueUrl), dlqUrl, dlqArn };
}

async function ensureQueue(
  sqs: SQSClient,
  name: string,
  attributes: Record<string, string>,
): Promise<string> {
  try {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    if (!QueueUrl) throw new Error(`CreateQueue ${name} returned no URL`);
    return QueueUrl;
  } catch (error) {
    // A queue left from an earlier start with other attributes: adopt it and bring its attributes up to date.
    if (!(error instanceof QueueNameExists)) throw error;
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
    if (!QueueUrl) throw new Error(`GetQueueUrl ${name} returned no URL`);
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: attributes }));
    return QueueUrl;
  }
}

export async function queueArn(sqs: SQSClient, queueUrl: string): Promise<string> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
  );
  const arn = Attributes?.QueueArn;
  if (!arn) throw new Error(`queue ${queueUrl} has no ARN`);
  return arn;
}

/** How many messages a queue holds: visible, in flight and delayed, as SQS counts them. */
export async function queueCounts(
  sqs: SQSClient,
  queueUrl: string,
): Promise<{ visible: number; inFlight: number; delayed: number }> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  return {
    visible: Number(Attributes.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
    delayed: Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0),
  };
}
