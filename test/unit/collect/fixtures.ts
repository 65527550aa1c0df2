import { SendMessageBatchCommand, type SendMessageBatchCommandInput, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { ingestMessageEvents } from '#shared/ingest-queue.ts';
import { clearKeyCache, describeKey } from '#shared/keys.ts';
import { testRuntimeEnv, useTestRuntimeEnv } from '../support/runtime-env.ts';

export const writeKey = 'wk_test_write_key';
export const adminKey = 'ak_test_admin_key';
export const revokedKey = 'wk_test_revoked_key';
export const queueUrl = testRuntimeEnv.RAPPORT_INGEST_QUEUE_URL;

/** 2024-05-01T12:00:00.000Z */
export const receivedAtMillis = Date.UTC(2024, 4, 1, 12, 0, 0);
export const receipt = { receivedAtMillis, source: 'shop' };

export function basicAuth(key: string, password = ''): string {
  return `Basic ${Buffer.from(`${key}:${password}`).toString('base64')}`;
}

const storedKeys = [
  describeKey(writeKey, 'write', 'shop', '2024-01-01T00:00:00.000Z'),
  describeKey(adminKey, 'admin', 'backoffice', '2024-01-01T00:00:00.000Z'),
  {
    ...describeKey(revokedKey, 'write', 'old-site', '2024-01-01T00:00:00.000Z'),
    revokedAt: '2024-02-01T00:00:00.000Z',
  },
];

/**
 * DynamoDB answers key lookups from the keys above, and SQS takes every entry unless a test says
 * otherwise. Call in beforeEach (and `restore` in afterEach): it also points the runtime config at the test
 * environment (see useTestRuntimeEnv), with fresh clients, and clears the key cache.
 */
export function mockAws() {
  useTestRuntimeEnv();
  clearKeyCache();
  const dynamo = mockClient(DynamoDBDocumentClient);
  dynamo.on(GetCommand).callsFake((input: { Key?: Record<string, unknown> }) => {
    const item = storedKeys.find((key) => key.hash === input.Key?.sk);
    return { Item: item ? { pk: 'key', sk: item.hash, ...item } : undefined };
  });
  const sqs = mockClient(SQSClient);
  sqs.on(SendMessageBatchCommand).callsFake(acceptAll);
  return {
    dynamo,
    sqs,
    restore: () => {
      dynamo.restore();
      sqs.restore();
    },
  };
}

export function acceptAll(input: SendMessageBatchCommandInput) {
  return {
    Successful: (input.Entries ?? []).map((entry) => ({ Id: entry.Id, MessageId: `m-${entry.Id}` })),
    Failed: [],
  };
}

/**
 * The events queued by every SendMessageBatch call so far, in the order they were sent: each entry's
 * body is read back as the ingest consumer reads it, so a message packing several events gives them all.
 */
export function queuedBodies(sqs: ReturnType<typeof mockAws>['sqs']): Record<string, unknown>[] {
  return sqs
    .commandCalls(SendMessageBatchCommand)
    .flatMap((call) => call.args[0].input.Entries ?? [])
    .flatMap((entry) => ingestMessageEvents(entry.MessageBody ?? 'null') as Record<string, unknown>[]);
}

export interface HttpRequest {
  path?: string;
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** Raw body bytes, sent base64-encoded as API Gateway does for binary content. */
  rawBody?: Buffer;
}

/** The payload format 2.0 event API Gateway's HTTP API sends for a request. */
export function httpEvent(request: HttpRequest): APIGatewayProxyEventV2 {
  const path = request.path ?? '/v1/batch';
  const method = request.method ?? 'POST';
  const body =
    request.rawBody !== undefined
      ? request.rawBody.toString('base64')
      : typeof request.body === 'string'
        ? request.body
        : request.body === undefined
          ? undefined
          : JSON.stringify(request.body);
  return {
    version: '2.0',
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: '',
    headers: { 'content-type': 'application/json', ...request.headers },
    requestContext: {
      accountId: '000000000000',
      apiId: 'test',
      domainName: 'collect.test',
      domainPrefix: 'collect',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: 'request-1',
      routeKey: `${method} ${path}`,
      stage: '$default',
      time: '01/May/2024:12:00:00 +0000',
      timeEpoch: receivedAtMillis,
    },
    ...(body === undefined ? {} : { body }),
    isBase64Encoded: request.rawBody !== undefined,
  };
}

export const lambdaContext: Context = {
  callbackWaitsForEmptyEventLoop: false,
  functionName: 'collect',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:collect',
  memoryLimitInMB: '256',
  awsRequestId: 'request-1',
  logGroupName: '/aws/lambda/collect',
  logStreamName: 'test',
  getRemainingTimeInMillis: () => 10_000,
  done: () => {},
  fail: () => {},
  succeed: () => {},
};
