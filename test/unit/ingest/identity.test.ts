import {
  BatchGetCommand,
  type BatchGetCommandInput,
  DynamoDBDocumentClient,
  GetCommand,
  type GetCommandInput,
  PutCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { TransactionConflictException } from '@aws-sdk/client-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import type { LifecycleEvent } from '#events/lifecycle.ts';
import { defaultEngagementSettings as settings } from '#shared/engagement/settings.ts';
import { emptyState, foldEvents } from '#shared/engagement/state.ts';
import { lifecycleTransitions } from '#shared/engagement/transitions.ts';
import { mergeProfiles, type ResolvedProfile, resolveProfiles } from '#shared/ingest/identity.ts';
import { emptyOutbox, type LiveProfile } from '#shared/store/profiles.ts';
import { minutesAfterStart as at, track } from '../engagement/events.ts';
import { useTestRuntime } from '../support/runtime-env.ts';
import { transactPuts } from './fake-conditions.ts';

const dynamo = mockClient(DynamoDBDocumentClient);
useTestRuntime([dynamo]);

/** The profile items in the table, by id. */
let stored: Map<string, Record<string, unknown>>;
/** What became of each TransactWriteItems request, in order: landed, or the cancellation reasons. */
let transactions: string[][];

function idOf(pk: unknown): string {
  return String(pk).slice('c#'.length);
}

function itemOf(key: Record<string, unknown>): Record<string, unknown> | undefined {
  const item = stored.get(idOf(key.pk));
  return item && key.sk === 'state' ? { pk: key.pk, sk: 'state', ...item } : undefined;
}

beforeEach(() => {
  stored = new Map();
  transactions = [];
  dynamo.on(BatchGetCommand).callsFake((input: BatchGetCommandInput) => {
    const keys = input.RequestItems?.['rapport-test']?.Keys ?? [];
    const items = keys.flatMap((key) => itemOf(key) ?? []);
    return { Responses: { 'rapport-test': items } };
  });
  dynamo.on(GetCommand).callsFake((input: GetCommandInput) => ({ Item: itemOf(input.Key ?? {}) }));
  dynamo.on(TransactWriteCommand).callsFake((input: TransactWriteCommandInput) => {
    try {
      const result = transactPuts(input, {
        get: (item) => itemOf(item),
        set: ({ pk, sk: _sk, ...attributes }) => stored.set(idOf(pk), attributes),
      });
      transactions.push(['landed']);
      return result;
    } catch (error) {
      const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons;
      transactions.push((reasons ?? []).map((reason) => String(reason.Code)));
      throw error;
    }
  });
});

function live(id: string, members: string[], version = 1): LiveProfile {
  stored.set(id, {
    version,
    members,
    foldedMembers: members,
    state: emptyState(id),
    outbox: emptyOutbox,
    indexed: [],
  });
  return {
    kind: 'live',
    id,
    version,
    members,
    foldedMembers: members,
    state: emptyState(id),
    outbox: emptyOutbox,
    indexed: [],
  };
}

function redirect(id: string, mergedInto: string): void {
  stored.set(id, { version: 2, mergedInto });
}

/** The ids read by each BatchGetItem request, in order. */
function hops(): string[][] {
  return dynamo
    .commandCalls(BatchGetCommand)
    .map((call) =>
      (call.args[0].input.RequestItems?.['rapport-test']?.Keys ?? []).map((key) => String(key.pk).slice(2)),
    );
}

describe('resolveProfiles', () => {
  it('follows redirect chains with one batch read per hop, reading no id twice', async () => {
    const u1 = live('u1', ['a1', 'a2', 'u1'], 4);
    const u2 = live('u2', ['u2']);
    redirect('a1', 'a2');
    redirect('a2', 'u1');
    redirect('a3', 'u2');
    const resolved = await resolveProfiles(['a1', 'u1', 'a3', 'a1']);
    expect(Object.fromEntries(resolved)).toEqual({
      a1: { id: 'u1', profile: u1 },
      u1: { id: 'u1', profile: u1 },
      a3: { id: 'u2', profile: u2 },
    });
    expect(hops()).toEqual([
      ['a1', 'u1', 'a3'],
      ['a2', 'u2'],
    ]);
    expect(dynamo).not.toHaveReceivedCommand(GetCommand);
  });

  it('resolves an id without a profile to itself, and a redirect to a missing profile to its target', async () => {
    redirect('a1', 'u9');
    const resolved = await resolveProfiles(['new', 'a1']);
    expect(Object.fromEntries(resolved)).toEqual({ new: { id: 'new' }, a1: { id: 'u9' } });
    expect(hops()).toEqual([['new', 'a1'], ['u9']]);
  });

  it('reads nothing for no ids', async () => {
    await expect(resolveProfiles([])).resolves.toEqual(new Map());
    expect(dynamo).not.toHaveReceivedCommand(BatchGetCommand);
  });

  it('stops at a redirect loop instead of reading for ever', async () => {
    redirect('a1', 'a2');
    redirect('a2', 'a1');
    await expect(resolveProfiles(['a1'])).rejects.toThrow('profile a1 redirects more than 10 times');
    expect(hops()).toEqual([['a1'], ['a2']]);
  });

  it('gives up on a redirect chain longer than ten hops', async () => {
    const chain = Array.from({ length: 12 }, (_, n) => `a${n}`);
    chain.forEach((id, n) => {
      redirect(id, chain[n + 1] ?? 'u1');
    });
    live('u1', ['u1']);
    await expect(resolveProfiles(['a0'])).rejects.toThrow('profiles redirect more than 10 times');
    expect(dynamo).toHaveReceivedCommandTimes(BatchGetCommand, 10);
  });
});

/** The items each TransactWriteItems request would have written, as [id, item] pairs. */
function transactionItems(): [string, Record<string, unknown>][][] {
  return dynamo
    .commandCalls(TransactWriteCommand)
    .map((call) =>
      (call.args[0].input.TransactItems ?? []).map((entry): [string, Record<string, unknown>] => [
        idOf(entry.Put?.Item?.pk),
        entry.Put?.Item ?? {},
      ]),
    );
}

/** The lifecycle events a first order of `id` causes, as an outbox left over would hold them. */
function lifecycle(id: string): LifecycleEvent[] {
  const order = track(
    'Order Completed',
    at(1),
    { order_id: `o-${id}`, revenue: '20', currency: 'USD' },
    { userId: id, messageId: `m-order-${id}` },
  );
  return lifecycleTransitions(emptyState(id), foldEvents(id, [order], settings), settings);
}

describe('mergeProfiles', () => {
  it('writes the survivor with both members and the redirect in one transaction, on the versions read', async () => {
    expect(lifecycle('u1')).not.toHaveLength(0);
    const u1 = live('u1', ['u1'], 4);
    stored.set('u1', { ...stored.get('u1'), outbox: { events: lifecycle('u1') } });
    live('u2', ['a2', 'u2'], 2);
    stored.set('u2', { ...stored.get('u2'), outbox: { events: lifecycle('u2') } });
    await expect(mergeProfiles('u2', 'u1')).resolves.toBe('u1');
    expect(dynamo).toHaveReceivedCommandExactlyOnceWith(TransactWriteCommand, {
      TransactItems: [
        {
          Put: {
            TableName: 'rapport-test',
            Item: {
              pk: 'c#u1',
              sk: 'state',
              version: 5,
              members: ['a2', 'u1', 'u2'],
              foldedMembers: ['u1'],
              state: JSON.stringify(u1.state),
              outbox: { events: [...lifecycle('u1'), ...lifecycle('u2')] },
              indexed: [],
            },
            ConditionExpression: 'version = :expected',
            ExpressionAttributeValues: { ':expected': 4 },
          },
        },
        {
          Put: {
            TableName: 'rapport-test',
            Item: { pk: 'c#u2', sk: 'state', version: 3, mergedInto: 'u1' },
            ConditionExpression: 'version = :expected',
            ExpressionAttributeValues: { ':expected': 2 },
          },
        },
      ],
    });
    expect(dynamo).not.toHaveReceivedCommand(PutCommand);
    expect(stored.get('u2')).toEqual({ version: 3, mergedInto: 'u1' });
  });

  it('creates a survivor, empty and with both folded, on condition that neither profile exists', async () => {
    await expect(mergeProfiles('a1', 'u1', undefined, { onlyIfUnlinked: true })).resolves.toBe('u1');
    expect(transactions).toEqual([['landed']]);
    expect(stored.get('u1')).toEqual({
      version: 1,
      members: ['a1', 'u1'],
      foldedMembers: ['a1', 'u1'],
      state: JSON.stringify(emptyState('u1')),
      outbox: emptyOutbox,
      indexed: [],
    });
    expect(stored.get('a1')).toEqual({ version: 1, mergedInto: 'u1' });
    expect(
      dynamo
        .commandCalls(TransactWriteCommand)[0]
        ?.args[0].input.TransactItems?.map((entry) => entry.Put?.ConditionExpression),
    ).toEqual(['attribute_not_exists(pk)', 'attribute_not_exists(pk)']);
  });

  it('writes nothing when both ids already resolve to one profile', async () => {
    live('u1', ['a1', 'u1'], 3);
    redirect('a1', 'u1');
    await expect(mergeProfiles('a1', 'u1')).resolves.toBeUndefined();
    await expect(mergeProfiles('a1', 'u1', undefined, { onlyIfUnlinked: true })).resolves.toBeUndefined();
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('reads both profiles again after a conflict and merges the fresh ones', async () => {
    const known = await resolveProfiles(['u2', 'u1']);
    // Meanwhile a3 was merged into u2.
    live('u2', ['a3', 'u2'], 2);
    redirect('a3', 'u2');
    live('u1', ['u1'], 1);
    await expect(mergeProfiles('u2', 'u1', known)).resolves.toBe('u1');
    expect(transactions).toEqual([['ConditionalCheckFailed', 'ConditionalCheckFailed'], ['landed']]);
    expect(stored.get('u1')).toMatchObject({
      version: 2,
      members: ['a3', 'u1', 'u2'],
      foldedMembers: ['u1'],
    });
    expect(stored.get('u2')).toEqual({ version: 3, mergedInto: 'u1' });
  });

  it('gives up after eight conflicts, so that the batch is retried', async () => {
    live('u1', ['u1'], 1);
    dynamo
      .on(TransactWriteCommand)
      .rejects(
        new TransactionConflictException({ message: 'Transaction is ongoing for the item', $metadata: {} }),
      );
    await expect(mergeProfiles('a1', 'u1')).rejects.toThrow(
      'could not merge profile a1 into u1: too many concurrent updates',
    );
    expect(dynamo).toHaveReceivedCommandTimes(TransactWriteCommand, 8);
  });
});

describe('linking a visitor on a shared device', () => {
  it('gives up when, on the retry after a conflict, the device belongs to another customer', async () => {
    // Both sign-ins read the device as a visitor of its own; alice's link lands first.
    const known = await resolveProfiles(['dev', 'alice', 'bob']);
    await expect(mergeProfiles('dev', 'alice', known, { onlyIfUnlinked: true })).resolves.toBe('alice');
    await expect(mergeProfiles('dev', 'bob', known, { onlyIfUnlinked: true })).resolves.toBeUndefined();

    // bob's transaction fails on the device alone: it is no longer absent.
    expect(transactions).toEqual([['landed'], ['None', 'ConditionalCheckFailed']]);
    // The retry read the device again, found it redirected and wrote nothing more.
    expect(dynamo).toHaveReceivedCommandWith(GetCommand, { Key: { pk: 'c#dev', sk: 'state' } });
    expect(dynamo).toHaveReceivedCommandTimes(TransactWriteCommand, 2);
    expect(stored.get('bob')).toBeUndefined();
    expect(stored.get('dev')).toEqual({ version: 1, mergedInto: 'alice' });
    expect(stored.get('alice')).toMatchObject({ version: 1, members: ['alice', 'dev'] });
    const resolved = await resolveProfiles(['dev', 'alice', 'bob']);
    expect(Object.fromEntries([...resolved].map(([id, profile]) => [id, profile.id]))).toEqual({
      dev: 'alice',
      alice: 'alice',
      bob: 'bob',
    });
  });

  it('never gives bob the device or alice, whichever of two concurrent sign-ins lands first', async () => {
    live('dev', ['dev'], 3);
    live('alice', ['alice'], 1);
    live('bob', ['bob'], 1);
    const known = await resolveProfiles(['dev', 'alice', 'bob']);
    const [forAlice, forBob] = await Promise.all([
      mergeProfiles('dev', 'alice', known, { onlyIfUnlinked: true }),
      mergeProfiles('dev', 'bob', known, { onlyIfUnlinked: true }),
    ]);
    expect([forAlice, forBob].filter(Boolean)).toHaveLength(1);
    const owner = forAlice ?? forBob;
    const other = owner === 'alice' ? 'bob' : 'alice';
    expect(transactions).toEqual([['landed'], ['None', 'ConditionalCheckFailed']]);
    expect(stored.get('dev')).toEqual({ version: 4, mergedInto: owner });
    expect(stored.get(owner ?? '')).toMatchObject({ version: 2, members: [owner, 'dev'].sort() });
    expect(stored.get(other)).toMatchObject({ version: 1, members: [other] });
    // No transaction after the first one put the device, or the customer it joined, into the other.
    for (const items of transactionItems().slice(1)) {
      expect(items.map(([id]) => id)).not.toContain(owner);
    }
  });

  it('does not link a device that already redirects to another customer, without writing', async () => {
    live('alice', ['alice', 'dev'], 2);
    redirect('dev', 'alice');
    await expect(mergeProfiles('dev', 'bob', undefined, { onlyIfUnlinked: true })).resolves.toBeUndefined();
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
    expect(stored.get('bob')).toBeUndefined();
  });
});

describe('mergeProfiles: opposite aliases racing', () => {
  it('lands only one of A into B and B into A, and leaves no redirect loop', async () => {
    live('A', ['A'], 1);
    live('B', ['B'], 1);
    const known = await resolveProfiles(['A', 'B']);
    const results = await Promise.all([mergeProfiles('A', 'B', known), mergeProfiles('B', 'A', known)]);
    // The second transaction was written on the same versions as the first: both conditions fail.
    expect(transactions).toEqual([['landed'], ['ConditionalCheckFailed', 'ConditionalCheckFailed']]);
    expect(dynamo).toHaveReceivedCommandTimes(TransactWriteCommand, 2);
    expect(results.filter(Boolean)).toHaveLength(1);
    const survivor = results.find(Boolean) ?? '';
    const merged = survivor === 'A' ? 'B' : 'A';
    expect(stored.get(merged)).toEqual({ version: 2, mergedInto: survivor });
    expect(stored.get(survivor)).toMatchObject({ version: 2, members: ['A', 'B'] });
    const resolved = await resolveProfiles(['A', 'B']);
    expect(resolved.get('A')?.id).toBe(survivor);
    expect(resolved.get('B')?.id).toBe(survivor);
  });

  it('refuses the reverse merge written on what was read before the first landed', async () => {
    live('A', ['A'], 1);
    live('B', ['B'], 1);
    const known: ReadonlyMap<string, ResolvedProfile> = await resolveProfiles(['A', 'B']);
    await expect(mergeProfiles('A', 'B', known)).resolves.toBe('B');
    // The reverse alias was read before: its transaction fails on both profiles, and on the retry
    // both ids resolve to B, so there is nothing left to merge.
    await expect(mergeProfiles('B', 'A', known)).resolves.toBeUndefined();
    expect(transactions).toEqual([['landed'], ['ConditionalCheckFailed', 'ConditionalCheckFailed']]);
    expect(stored.get('A')).toEqual({ version: 2, mergedInto: 'B' });
    expect(stored.get('B')).toMatchObject({ version: 2, members: ['A', 'B'] });
  });
});
