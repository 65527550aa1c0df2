import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { dynamoClient } from './clients/dynamodb.ts';
import { sqsClient } from './clients/sqs.ts';
import { runtimeConfig } from './config.ts';

export interface Health {
  ok: boolean;
  checks: Record<string, 'ok' | string>;
}

/** The stack can take events when the table and the ingest queue answer. */
export async function checkHealth(): Promise<Health> {
  const config = runtimeConfig();
  const checks: Record<string, string> = {};
  const probe = async (name: string, run: () => Promise<unknown>) => {
    try {
      await run();
      checks[name] = 'ok';
    } catch (error) {
      checks[name] = `unavailable (${error instanceof Error ? error.name : 'error'})`;
    }
  };
  await Promise.all([
    probe('table', () => dynamoClient().send(new DescribeTableCommand({ TableName: config.RAPPORT_TABLE }))),
    probe('ingestQueue', () =>
      sqsClient().send(
        new GetQueueAttributesCommand({
          QueueUrl: config.RAPPORT_INGEST_QUEUE_URL,
          AttributeNames: ['ApproximateNumberOfMessages'],
        }),
      ),
    ),
  ]);
  return { ok: Object.values(checks).every((check) => check === 'ok'), checks };
}
