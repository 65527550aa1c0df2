import {
  BatchGetCommand,
  type BatchGetCommandInput,
  BatchWriteCommand,
  type BatchWriteCommandInput,
  DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { batchGetItems, batchPutItems, type ItemKey } from '#shared/store/batch.ts';
import { capacityTotals, resetCapacityTotals } from '#shared/store/capacity.ts';
import { testRuntimeEnv, useTestRuntime } from '../support/runtime-env.ts';

const table = testRuntimeEnv.RAPPORT_TABLE;
const dynamo = mockClient(DynamoDBDocumentClient);
useTestRuntime([dynamo]);

beforeEach(() => {
  resetCapacityTotals();
  // Every key is found, as an item that is the key plus a marker.
  dynamo.on(BatchGetCommand).callsFake((input: BatchGetCommandInput) => ({
    Responses: { [table]: (input.RequestItems?.[table]?.Keys ?? []).map((key) => ({ ...key, found: true })) },
  }));
  dynamo.on(BatchWriteCommand).resolves({});
});

afterEach(() => {
  vi.useRealTimers();
});

function keys(count: number): ItemKey[] {
  return Array.from({ length: count }, (_, n) => ({ pk: `c#u${n}`, sk: 'state' }));
}

function items(count: number): Record<string, unknown>[] {
  return keys(count).map((key, n) => ({ ...key, n }));
}

function found(...present: ItemKey[]): Record<string, unknown>[] {
  return present.map((key) => ({ ...key, found: true }));
}

function requestedKeys(): unknown[][] {
  return dynamo
    .commandCalls(BatchGetCommand)
    .map((call) => call.args[0].input.RequestItems?.[table]?.Keys ?? []);
}

function requestedItems(): unknown[][] {
  return dynamo
    .commandCalls(BatchWriteCommand)
    .map((call) =>
      (call.args[0].input.RequestItems?.[table] ?? []).map((request) => request.PutRequest?.Item),
    );
}

/** Makes every request of this kind wait until the returned function is called. */
function holdBack(command: typeof BatchGetCommand | typeof BatchWriteCommand): () => void {
  let release = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const answer = async () => {
    await gate;
    return {};
  };
  if (command === BatchGetCommand) dynamo.on(BatchGetCommand).callsFake(answer);
  else dynamo.on(BatchWriteCommand).callsFake(answer);
  return release;
}

describe('batchGetItems', () => {
  it('reads up to 100 keys a request, strongly consistently, and returns what every request found', async () => {
    const wanted = keys(250);
    await expect(batchGetItems(wanted, 'pk, sk, atMillis')).resolves.toEqual(found(...wanted));
    expect(requestedKeys()).toEqual([wanted.slice(0, 100), wanted.slice(100, 200), wanted.slice(200)]);
    for (const call of dynamo.commandCalls(BatchGetCommand)) {
      expect(call.args[0].input).toEqual({
        RequestItems: {
          [table]: {
            Keys: expect.any(Array),
            ConsistentRead: true,
            ProjectionExpression: 'pk, sk, atMillis',
          },
        },
        ReturnConsumedCapacity: 'TOTAL',
      });
    }
  });

  it('reads whole items when given no projection, and leaves out keys that were not found', async () => {
    const [present, absent] = keys(2);
    if (!present || !absent) throw new Error('two keys expected');
    dynamo.on(BatchGetCommand).resolves({ Responses: { [table]: found(present) } });
    await expect(batchGetItems([present, absent])).resolves.toEqual(found(present));
    expect(dynamo).toHaveReceivedCommandExactlyOnceWith(BatchGetCommand, {
      RequestItems: { [table]: { Keys: [present, absent], ConsistentRead: true } },
    });
    const input = dynamo.commandCalls(BatchGetCommand)[0]?.args[0].input;
    expect(input?.RequestItems?.[table]?.ProjectionExpression).toBeUndefined();
  });

  it('sends the requests of a large read at once rather than one after another', async () => {
    const release = holdBack(BatchGetCommand);
    const reading = batchGetItems(keys(301));
    await vi.waitFor(() => expect(dynamo).toHaveReceivedCommandTimes(BatchGetCommand, 4));
    release();
    await expect(reading).resolves.toEqual([]);
  });

  it('sends nothing for no keys', async () => {
    await expect(batchGetItems([])).resolves.toEqual([]);
    expect(dynamo).not.toHaveReceivedCommand(BatchGetCommand);
  });

  it('asks again, after a pause, for the keys DynamoDB left unprocessed', async () => {
    vi.useFakeTimers();
    const [first, second, third] = keys(3);
    if (!first || !second || !third) throw new Error('three keys expected');
    dynamo
      .on(BatchGetCommand)
      .resolvesOnce({
        Responses: { [table]: found(first) },
        UnprocessedKeys: { [table]: { Keys: [second, third], ConsistentRead: true } },
        ConsumedCapacity: [{ TableName: table, CapacityUnits: 1 }],
      })
      .resolvesOnce({
        Responses: { [table]: found(second, third) },
        ConsumedCapacity: [{ TableName: table, CapacityUnits: 2 }],
      });
    const reading = batchGetItems([first, second, third], 'pk, sk, atMillis');
    await vi.advanceTimersByTimeAsync(0);
    expect(dynamo).toHaveReceivedCommandTimes(BatchGetCommand, 1);
    await vi.runAllTimersAsync();
    await expect(reading).resolves.toEqual(found(first, second, third));
    expect(requestedKeys()).toEqual([
      [first, second, third],
      [second, third],
    ]);
    expect(dynamo).toHaveReceivedNthCommandWith(BatchGetCommand, 2, {
      RequestItems: {
        [table]: { Keys: [second, third], ConsistentRead: true, ProjectionExpression: 'pk, sk, atMillis' },
      },
    });
    expect(capacityTotals()).toEqual({ readUnits: 3, writeUnits: 0 });
  });

  it('gives up after 8 rounds with unprocessed keys, naming how many were left', async () => {
    vi.useFakeTimers();
    const wanted = keys(5);
    dynamo.on(BatchGetCommand).resolves({
      Responses: { [table]: [] },
      UnprocessedKeys: { [table]: { Keys: wanted.slice(2) } },
    });
    const reading = batchGetItems(wanted);
    const failed = expect(reading).rejects.toThrow('DynamoDB left 3 reads unprocessed 8 times');
    await vi.runAllTimersAsync();
    await failed;
    expect(dynamo).toHaveReceivedCommandTimes(BatchGetCommand, 8);
  });
});

describe('batchPutItems', () => {
  it('writes up to 25 items a request', async () => {
    const written = items(60);
    await batchPutItems(written);
    expect(requestedItems()).toEqual([written.slice(0, 25), written.slice(25, 50), written.slice(50)]);
    expect(dynamo).toHaveReceivedNthCommandWith(BatchWriteCommand, 3, {
      RequestItems: { [table]: written.slice(50).map((Item) => ({ PutRequest: { Item } })) },
      ReturnConsumedCapacity: 'TOTAL',
    });
  });

  it('sends the requests of a large write at once rather than one after another', async () => {
    const release = holdBack(BatchWriteCommand);
    const writing = batchPutItems(items(60));
    await vi.waitFor(() => expect(dynamo).toHaveReceivedCommandTimes(BatchWriteCommand, 3));
    release();
    await writing;
  });

  it('sends nothing for no items', async () => {
    await batchPutItems([]);
    expect(dynamo).not.toHaveReceivedCommand(BatchWriteCommand);
  });

  it('writes again, after a pause, the items DynamoDB left unprocessed', async () => {
    vi.useFakeTimers();
    const written = items(4);
    const left = written.slice(1, 3).map((Item) => ({ PutRequest: { Item } }));
    dynamo
      .on(BatchWriteCommand)
      .resolvesOnce({
        UnprocessedItems: { [table]: left },
        ConsumedCapacity: [{ TableName: table, CapacityUnits: 2 }],
      })
      .resolvesOnce({ ConsumedCapacity: [{ TableName: table, CapacityUnits: 2 }] });
    const writing = batchPutItems(written);
    await vi.advanceTimersByTimeAsync(0);
    expect(dynamo).toHaveReceivedCommandTimes(BatchWriteCommand, 1);
    await vi.runAllTimersAsync();
    await writing;
    expect(requestedItems()).toEqual([written, written.slice(1, 3)]);
    expect(capacityTotals()).toEqual({ readUnits: 0, writeUnits: 4 });
  });

  it('gives up after 8 rounds with unprocessed items, naming how many were left', async () => {
    vi.useFakeTimers();
    const written = items(30);
    // Items 25 and 26 never get through; every other item does.
    const stuck = new Set([written[25], written[26]]);
    dynamo.on(BatchWriteCommand).callsFake((input: BatchWriteCommandInput) => ({
      UnprocessedItems: {
        [table]: (input.RequestItems?.[table] ?? []).filter((request) => stuck.has(request.PutRequest?.Item)),
      },
    }));
    const writing = batchPutItems(written);
    const failed = expect(writing).rejects.toThrow('DynamoDB left 2 writes unprocessed 8 times');
    await vi.runAllTimersAsync();
    await failed;
    expect(dynamo).toHaveReceivedCommandTimes(BatchWriteCommand, 1 + 8);
  });
});
