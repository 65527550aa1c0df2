import {
  BatchGetCommand,
  type BatchGetCommandInput,
  DynamoDBDocumentClient,
  GetCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { emptyState } from '#shared/engagement/state.ts';
import { resolveProfiles } from '#shared/ingest/identity.ts';
import { emptyOutbox, type LiveProfile } from '#shared/store/profiles.ts';
import { useTestRuntime } from '../support/runtime-env.ts';

const dynamo = mockClient(DynamoDBDocumentClient);
useTestRuntime([dynamo]);

/** The profile items in the table, by id. */
let stored: Map<string, Record<string, unknown>>;

beforeEach(() => {
  stored = new Map();
  dynamo.on(BatchGetCommand).callsFake((input: BatchGetCommandInput) => {
    const keys = input.RequestItems?.['rapport-test']?.Keys ?? [];
    const items = keys.flatMap((key) => {
      const item = stored.get(String(key.pk).slice('c#'.length));
      return item && key.sk === 'state' ? [{ pk: key.pk, sk: 'state', ...item }] : [];
    });
    return { Responses: { 'rapport-test': items } };
  });
});

function live(id: string, members: string[], version = 1): LiveProfile {
  stored.set(id, { version, members, state: emptyState(id), outbox: emptyOutbox });
  return { kind: 'live', id, version, members, state: emptyState(id), outbox: emptyOutbox };
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
