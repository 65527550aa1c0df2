import { ConditionalCheckFailedException, TransactionConflictException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { emptyState } from '#shared/engagement/state.ts';
import {
  emptyOutbox,
  getProfile,
  getProfiles,
  VersionConflictError,
  writeLiveProfile,
  writeMerge,
} from '#shared/store/profiles.ts';
import { useTestRuntime } from '../support/runtime-env.ts';
import { transactionCancelled } from './fake-conditions.ts';

const dynamo = mockClient(DynamoDBDocumentClient);
useTestRuntime([dynamo]);

beforeEach(() => {
  dynamo.on(PutCommand).resolves({});
});

const profile = {
  id: 'u1',
  members: ['a1', 'u1'],
  foldedMembers: ['a1', 'u1'],
  state: emptyState('u1'),
  outbox: emptyOutbox,
  indexed: [],
};

function conditionFailed() {
  return new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
}

describe('writeLiveProfile', () => {
  it('creates a profile only if none exists when the expected version is 0', async () => {
    await expect(writeLiveProfile({ ...profile, expectedVersion: 0 })).resolves.toBe(1);
    expect(dynamo).toHaveReceivedCommandExactlyOnceWith(PutCommand, {
      TableName: 'rapport-test',
      Item: {
        pk: 'c#u1',
        sk: 'state',
        version: 1,
        members: ['a1', 'u1'],
        foldedMembers: ['a1', 'u1'],
        state: JSON.stringify(profile.state),
        outbox: emptyOutbox,
        indexed: [],
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    const input = dynamo.commandCalls(PutCommand)[0]?.args[0].input;
    expect(input?.ExpressionAttributeValues).toBeUndefined();
  });

  it('updates a profile only at the version it read, and returns the next version', async () => {
    await expect(writeLiveProfile({ ...profile, expectedVersion: 3 })).resolves.toBe(4);
    expect(dynamo).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({ pk: 'c#u1', sk: 'state', version: 4 }),
      ConditionExpression: 'version = :expected',
      ExpressionAttributeValues: { ':expected': 3 },
    });
  });

  it('turns a failed condition into a VersionConflictError naming the profile', async () => {
    dynamo.on(PutCommand).rejects(conditionFailed());
    for (const expectedVersion of [0, 3]) {
      const attempt = writeLiveProfile({ ...profile, expectedVersion: expectedVersion });
      await expect(attempt).rejects.toBeInstanceOf(VersionConflictError);
      await expect(attempt).rejects.toThrow('profile u1 changed while it was being updated');
    }
  });

  it('lets any other error through as it is', async () => {
    const throttled = Object.assign(new Error('Rate of requests exceeds the allowed throughput'), {
      name: 'ProvisionedThroughputExceededException',
    });
    dynamo.on(PutCommand).rejects(throttled);
    await expect(writeLiveProfile({ ...profile, expectedVersion: 2, indexed: [] })).rejects.toBe(throttled);
  });
});

describe('writeMerge', () => {
  const survivor = { ...profile, foldedMembers: ['u1'], expectedVersion: 3 };

  it('writes the survivor and the redirect in one transaction, each on the version it read', async () => {
    dynamo.on(TransactWriteCommand).resolves({});
    await writeMerge({ survivor, merged: { id: 'a1', mergedInto: 'u1', expectedVersion: 2, indexed: [] } });
    expect(dynamo).toHaveReceivedCommandExactlyOnceWith(TransactWriteCommand, {
      TransactItems: [
        {
          Put: {
            TableName: 'rapport-test',
            Item: {
              pk: 'c#u1',
              sk: 'state',
              version: 4,
              members: ['a1', 'u1'],
              foldedMembers: ['u1'],
              state: JSON.stringify(profile.state),
              outbox: emptyOutbox,
              indexed: [],
            },
            ConditionExpression: 'version = :expected',
            ExpressionAttributeValues: { ':expected': 3 },
          },
        },
        {
          Put: {
            TableName: 'rapport-test',
            Item: { pk: 'c#a1', sk: 'state', version: 3, mergedInto: 'u1' },
            ConditionExpression: 'version = :expected',
            ExpressionAttributeValues: { ':expected': 2 },
          },
        },
      ],
    });
    expect(dynamo).not.toHaveReceivedCommand(PutCommand);
  });

  it('requires profiles read as absent to be absent still', async () => {
    dynamo.on(TransactWriteCommand).resolves({});
    await writeMerge({
      survivor: { ...survivor, members: ['a1', 'u1'], foldedMembers: [], expectedVersion: 0 },
      merged: { id: 'a1', mergedInto: 'u1', expectedVersion: 0, indexed: [] },
    });
    const items = dynamo.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems ?? [];
    expect(items.map((item) => item.Put?.ConditionExpression)).toEqual([
      'attribute_not_exists(pk)',
      'attribute_not_exists(pk)',
    ]);
    expect(items.map((item) => item.Put?.Item?.version)).toEqual([1, 1]);
    expect(items.map((item) => item.Put?.ExpressionAttributeValues)).toEqual([undefined, undefined]);
  });

  it('is a VersionConflictError when either condition fails or the transaction conflicts', async () => {
    const failures = [
      transactionCancelled(['None', 'ConditionalCheckFailed']),
      transactionCancelled(['ConditionalCheckFailed', 'None']),
      new TransactionConflictException({ message: 'Transaction is ongoing for the item', $metadata: {} }),
    ];
    for (const failure of failures) {
      dynamo.on(TransactWriteCommand).rejects(failure);
      const attempt = writeMerge({
        survivor,
        merged: { id: 'a1', mergedInto: 'u1', expectedVersion: 2, indexed: [] },
      });
      await expect(attempt).rejects.toBeInstanceOf(VersionConflictError);
      await expect(attempt).rejects.toThrow('profile u1 changed while it was being updated');
    }
    expect(dynamo).toHaveReceivedCommandTimes(TransactWriteCommand, failures.length);
    expect(dynamo).not.toHaveReceivedCommand(PutCommand);
  });

  it('lets any other error through as it is', async () => {
    const throttled = Object.assign(new Error('Rate of requests exceeds the allowed throughput'), {
      name: 'ProvisionedThroughputExceededException',
    });
    dynamo.on(TransactWriteCommand).rejects(throttled);
    await expect(
      writeMerge({ survivor, merged: { id: 'a1', mergedInto: 'u1', expectedVersion: 2, indexed: [] } }),
    ).rejects.toBe(throttled);
  });
});

describe('getProfile', () => {
  it('reads a live profile strongly consistently, with an empty outbox and no folded members when none were stored', async () => {
    dynamo.on(GetCommand).resolves({
      Item: { pk: 'c#u1', sk: 'state', version: 2, members: ['u1'], state: emptyState('u1') },
    });
    await expect(getProfile('u1')).resolves.toEqual({
      kind: 'live',
      id: 'u1',
      version: 2,
      members: ['u1'],
      foldedMembers: [],
      state: emptyState('u1'),
      outbox: emptyOutbox,
      indexed: [],
    });
    expect(dynamo).toHaveReceivedCommandWith(GetCommand, {
      Key: { pk: 'c#u1', sk: 'state' },
      ConsistentRead: true,
    });
  });

  it('reads the state whether it is stored as JSON text or, as older profiles hold it, as a map', async () => {
    const state = { ...emptyState('u1'), traits: { email: 'ada@shop.example' } };
    dynamo
      .on(GetCommand)
      .resolvesOnce({
        Item: { pk: 'c#u1', sk: 'state', version: 2, members: ['u1'], state: JSON.stringify(state) },
      })
      .resolvesOnce({ Item: { pk: 'c#u1', sk: 'state', version: 2, members: ['u1'], state } });
    for (let read = 0; read < 2; read++) {
      const profile = await getProfile('u1');
      expect(profile?.kind === 'live' && profile.state).toEqual(state);
    }
  });

  it('reads a redirect, and nothing for an unknown id', async () => {
    dynamo
      .on(GetCommand)
      .resolvesOnce({ Item: { pk: 'c#a1', sk: 'state', version: 3, mergedInto: 'u1' } })
      .resolves({});
    await expect(getProfile('a1')).resolves.toEqual({
      kind: 'redirect',
      id: 'a1',
      version: 3,
      mergedInto: 'u1',
    });
    await expect(getProfile('nobody')).resolves.toBeUndefined();
  });
});

describe('getProfiles', () => {
  it('reads each id once, strongly consistently, and keys the profiles found by id', async () => {
    dynamo.on(BatchGetCommand).resolves({
      Responses: {
        'rapport-test': [
          { pk: 'c#a1', sk: 'state', version: 3, mergedInto: 'u1' },
          {
            pk: 'c#u1',
            sk: 'state',
            version: 2,
            members: ['a1', 'u1'],
            foldedMembers: ['u1'],
            state: emptyState('u1'),
          },
        ],
      },
    });
    const profiles = await getProfiles(['u1', 'a1', 'u1', 'nobody']);
    expect(dynamo).toHaveReceivedCommandExactlyOnceWith(BatchGetCommand, {
      RequestItems: {
        'rapport-test': {
          Keys: [
            { pk: 'c#u1', sk: 'state' },
            { pk: 'c#a1', sk: 'state' },
            { pk: 'c#nobody', sk: 'state' },
          ],
          ConsistentRead: true,
        },
      },
    });
    expect(Object.fromEntries(profiles)).toEqual({
      a1: { kind: 'redirect', id: 'a1', version: 3, mergedInto: 'u1' },
      u1: {
        kind: 'live',
        id: 'u1',
        version: 2,
        members: ['a1', 'u1'],
        foldedMembers: ['u1'],
        state: emptyState('u1'),
        outbox: emptyOutbox,
        indexed: [],
      },
    });
  });

  it('keeps an id that contains the partition prefix whole', async () => {
    dynamo.on(BatchGetCommand).resolves({
      Responses: { 'rapport-test': [{ pk: 'c#c#x', sk: 'state', version: 1, mergedInto: 'u1' }] },
    });
    const profiles = await getProfiles(['c#x']);
    expect([...profiles.keys()]).toEqual(['c#x']);
  });
});
