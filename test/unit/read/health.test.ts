import { DescribeTableCommand, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, QueueDoesNotExist, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handler } from '#functions/health.ts';
import { corsHeaders } from '#shared/http.ts';
import { lambdaContext, queueUrl } from '../collect/fixtures.ts';
import { apiEvent, parsed } from '../support/api-event.ts';
import { useTestRuntime } from '../support/runtime-env.ts';

const dynamo = mockClient(DynamoDBDocumentClient);
const sqs = mockClient(SQSClient);
useTestRuntime([dynamo, sqs]);

beforeEach(() => {
  dynamo.on(DescribeTableCommand).resolves({ Table: { TableName: 'rapport-test', TableStatus: 'ACTIVE' } });
  sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '0' } });
});

afterEach(() => {
  dynamo.reset();
  sqs.reset();
});

async function health() {
  const answer = parsed(await handler(apiEvent({ route: '/health' }), lambdaContext));
  expect(answer.headers).toMatchObject(corsHeaders);
  return answer;
}

describe('GET /health', () => {
  it('is 200 when the table and the ingest queue answer', async () => {
    const { status, body } = await health();
    expect(status).toBe(200);
    expect(body).toEqual({ ok: true, checks: { table: 'ok', ingestQueue: 'ok' } });
    expect(dynamo).toHaveReceivedCommandWith(DescribeTableCommand, { TableName: 'rapport-test' });
    expect(sqs).toHaveReceivedCommandWith(GetQueueAttributesCommand, { QueueUrl: queueUrl });
  });

  it('is 503 naming the table when it does not answer', async () => {
    dynamo
      .on(DescribeTableCommand)
      .rejects(new ResourceNotFoundException({ message: 'Requested resource not found', $metadata: {} }));
    const { status, body } = await health();
    expect(status).toBe(503);
    expect(body).toEqual({
      ok: false,
      checks: { table: 'unavailable (ResourceNotFoundException)', ingestQueue: 'ok' },
    });
  });

  it('is 503 naming the ingest queue when it does not answer', async () => {
    sqs
      .on(GetQueueAttributesCommand)
      .rejects(new QueueDoesNotExist({ message: 'The specified queue does not exist.', $metadata: {} }));
    const { status, body } = await health();
    expect(status).toBe(503);
    expect(body).toEqual({
      ok: false,
      checks: { table: 'ok', ingestQueue: 'unavailable (QueueDoesNotExist)' },
    });
    expect(JSON.stringify(body)).not.toContain('does not exist');
  });

  it('is 503 naming both when neither answers', async () => {
    dynamo.on(DescribeTableCommand).rejects(new Error('connect ECONNREFUSED 127.0.0.1:8000'));
    sqs.on(GetQueueAttributesCommand).rejects(new Error('connect ECONNREFUSED 127.0.0.1:9324'));
    const { status, body } = await health();
    expect(status).toBe(503);
    expect(body).toEqual({
      ok: false,
      checks: { table: 'unavailable (Error)', ingestQueue: 'unavailable (Error)' },
    });
  });
});
