import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type LocalStack, startLocalStack } from '#infra/local/stack.ts';
import { StartupError } from '#infra/local/startup-error.ts';
import { dynamoClient } from '#shared/clients/dynamodb.ts';
import { eventBridgeClient } from '#shared/clients/eventbridge.ts';
import { sqsClient } from '#shared/clients/sqs.ts';
import { runtimeConfig } from '#shared/config.ts';
import { findKey } from '#shared/keys.ts';

/**
 * The local stack end to end, with small fake handlers in place of functions/*.ts: they use the real
 * shared clients and config, so the test shows the stack wires the handlers to its emulators.
 */
const ingestDeliveries: string[] = [];

const fakeHandlers: Record<string, unknown> = {
  'functions/collect.ts': async (event: APIGatewayProxyEventV2) => {
    await sqsClient().send(
      new SendMessageCommand({
        QueueUrl: runtimeConfig().RAPPORT_INGEST_QUEUE_URL,
        MessageBody: event.body ?? '',
      }),
    );
    return { statusCode: 200, body: JSON.stringify({ success: true }) };
  },
  'functions/customers.ts': async (event: APIGatewayProxyEventV2) => {
    const { Item } = await dynamoClient().send(
      new GetCommand({
        TableName: runtimeConfig().RAPPORT_TABLE,
        Key: { pk: `c#${event.pathParameters?.id}`, sk: 'state' },
      }),
    );
    return Item ? { statusCode: 200, body: JSON.stringify(Item) } : { statusCode: 404, body: '{}' };
  },
  'functions/health.ts': async () => ({ statusCode: 200, body: '{"ok":true}' }),
  'functions/ingest.ts': async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const failures: string[] = [];
    for (const record of event.Records) {
      const { userId, event: name } = JSON.parse(record.body) as { userId: string; event: string };
      ingestDeliveries.push(`${name}#${record.attributes.ApproximateReceiveCount}`);
      if (name === 'Flaky' && record.attributes.ApproximateReceiveCount === '1') {
        failures.push(record.messageId);
        continue;
      }
      await dynamoClient().send(
        new PutCommand({
          TableName: runtimeConfig().RAPPORT_TABLE,
          Item: { pk: `c#${userId}`, sk: 'state', last: name },
        }),
      );
      await eventBridgeClient().send(
        new PutEventsCommand({
          Entries: [
            {
              Source: 'rapport',
              DetailType: 'Event Ingested',
              Detail: JSON.stringify({ userId, name }),
              EventBusName: runtimeConfig().RAPPORT_BUS_NAME,
            },
          ],
        }),
      );
    }
    return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) };
  },
};

/** The campaign functions have nothing to do in these tests: they answer and do nothing. */
const idle = async () => ({ batchItemFailures: [] });
const loadFake = async (entry: string): Promise<unknown> => fakeHandlers[entry] ?? idle;

function sharedEmulators(table: string): NodeJS.ProcessEnv {
  return {
    RAPPORT_TABLE: table,
    RAPPORT_DYNAMODB_ENDPOINT: inject('dynamodbEndpoint'),
    RAPPORT_SQS_ENDPOINT: inject('sqsEndpoint'),
    RAPPORT_SES_ENDPOINT: inject('sesEndpoint'),
  };
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('the local stack on the shared emulators', () => {
  let stack: LocalStack;
  let configDir: string;
  const table = `rapport-stack-${randomUUID().slice(0, 8)}`;
  const tableBefore = process.env.RAPPORT_TABLE;

  beforeAll(async () => {
    configDir = await mkdtemp(join(tmpdir(), 'rapport-config-'));
    const configFile = join(configDir, 'rapport.config.yaml');
    await writeFile(configFile, 'engagement:\n  lapsedAfterDays: 60\n  mainCurrency: EUR\n');
    stack = await startLocalStack({
      inMemory: true,
      port: 0,
      quiet: true,
      env: sharedEmulators(table),
      configFile,
      loadHandler: loadFake,
    });
  });

  afterAll(async () => {
    await stack?.stop();
    await rm(configDir, { recursive: true, force: true });
  });

  it('sets the environment the handlers read, with the emulator endpoints', () => {
    expect(stack.dynamodbPid).toBeUndefined();
    expect(stack.endpoints.dynamodb).toBe(inject('dynamodbEndpoint'));
    expect(stack.endpoints.sesOutbox).toBe(`${inject('sesEndpoint')}/`);
    expect(runtimeConfig()).toMatchObject({
      RAPPORT_TABLE: table,
      RAPPORT_INGEST_QUEUE_URL: stack.queues.queueUrl,
      RAPPORT_INGEST_DLQ_URL: stack.queues.dlqUrl,
      RAPPORT_EVENTBRIDGE_ENDPOINT: stack.endpoints.bus,
      RAPPORT_MAX_RECEIVE_COUNT: 5,
    });
    expect(JSON.parse(stack.env.RAPPORT_ENGAGEMENT ?? '')).toEqual({
      lapsedAfterDays: 60,
      mainCurrency: 'EUR',
    });
    expect(process.env.AWS_ACCESS_KEY_ID).toBeTruthy();
  });

  it('stores its keys hashed in its table', async () => {
    expect(await findKey(stack.keys.write, 0)).toMatchObject({ kind: 'write', source: 'local' });
    expect(await findKey(stack.keys.admin, 0)).toMatchObject({ kind: 'admin', source: 'local' });
  });

  it('carries an event from the gateway through the queue, the ingest worker and the bus to the read route', async () => {
    const post = (body: unknown) =>
      fetch(`${stack.url}/v1/track`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await post({ userId: 'ada', event: 'Product Viewed' })).status).toBe(200);
    expect((await post({ userId: 'bob', event: 'Flaky' })).status).toBe(200);
    await stack.drain();
    await stack.bus.settled();

    const ada = await fetch(`${stack.url}/v1/customers/ada`);
    expect(await ada.json()).toMatchObject({ last: 'Product Viewed' });
    const bob = await fetch(`${stack.url}/v1/customers/bob`);
    expect(await bob.json()).toMatchObject({ last: 'Flaky' });
    expect(ingestDeliveries.filter((delivery) => delivery.startsWith('Flaky'))).toEqual([
      'Flaky#1',
      'Flaky#2',
    ]);
    expect(stack.workers.ingest.counters()).toMatchObject({ succeeded: 2, failed: 1 });
    expect(stack.bus.events().map((event) => event.detail)).toEqual(
      expect.arrayContaining([
        { userId: 'ada', name: 'Product Viewed' },
        { userId: 'bob', name: 'Flaky' },
      ]),
    );
    expect((await fetch(`${stack.url}/health`)).status).toBe(200);
  });

  it('stops once, closes the gateway and puts the environment back', async () => {
    await Promise.all([stack.stop(), stack.stop()]);
    await expect(fetch(`${stack.url}/health`)).rejects.toThrow();
    expect(process.env.RAPPORT_TABLE).toBe(tableBefore);
  });
});

describe('the local stack with its own emulators', () => {
  it('starts DynamoDB Local, the SQS and SES emulators, and stops them all', async () => {
    const stack = await startLocalStack({
      inMemory: true,
      port: 0,
      quiet: true,
      env: { RAPPORT_TABLE: 'rapport' },
      loadHandler: loadFake,
    });
    let pid: number | undefined;
    try {
      pid = stack.dynamodbPid;
      expect(pid).toEqual(expect.any(Number));
      expect((await fetch(stack.endpoints.sesOutbox)).status).toBe(200);
      expect((await fetch(`${stack.url}/health`)).status).toBe(200);
    } finally {
      await stack.stop();
    }
    expect(pid !== undefined && isRunning(pid)).toBe(false);
    await expect(fetch(stack.endpoints.sesOutbox)).rejects.toThrow();
    await expect(fetch(`${stack.endpoints.sqs}/`)).rejects.toThrow();
  });
});

describe('a start that fails', () => {
  it('names the handler it cannot load, and stops what it started', async () => {
    const table = `rapport-broken-${randomUUID().slice(0, 8)}`;
    const tableBefore = process.env.RAPPORT_TABLE;
    const error = await startLocalStack({
      inMemory: true,
      port: 0,
      quiet: true,
      env: sharedEmulators(table),
      loadHandler: async (entry) => {
        if (entry === 'functions/customers.ts') throw new Error('SyntaxError: Unexpected token');
        return fakeHandlers[entry];
      },
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StartupError);
    expect(String(error)).toContain('cannot load the customers handler from functions/customers.ts');
    expect(process.env.RAPPORT_TABLE).toBe(tableBefore);
  });

  it('refuses a bad RAPPORT_MAX_RECEIVE_COUNT before starting anything', async () => {
    await expect(
      startLocalStack({ inMemory: true, port: 0, quiet: true, env: { RAPPORT_MAX_RECEIVE_COUNT: 'often' } }),
    ).rejects.toThrow(/RAPPORT_MAX_RECEIVE_COUNT must be a whole number/);
  });
});
