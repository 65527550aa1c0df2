import {
  BatchGetCommand,
  type BatchGetCommandInput,
  DynamoDBDocumentClient,
  GetCommand,
  type GetCommandInput,
  QueryCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import type { IngestEvent } from '#events/ingest-event.ts';
import { applyLinks } from '#shared/ingest/batch-links.ts';
import { resolveProfiles } from '#shared/ingest/identity.ts';
import { minutesAfterStart as at, identify, page } from '../engagement/events.ts';
import { useTestRuntime } from '../support/runtime-env.ts';
import { transactPuts } from './fake-conditions.ts';

const dynamo = mockClient(DynamoDBDocumentClient);
useTestRuntime([dynamo]);

/** The profile items in the table, by "pk sk". */
let items: Map<string, Record<string, unknown>>;
/** The ids each merge transaction that landed wrote, in order. */
let merges: string[][];

const keyOf = (item: Record<string, unknown>) => `${String(item.pk)} ${String(item.sk)}`;

beforeEach(() => {
  items = new Map();
  merges = [];
  dynamo.on(BatchGetCommand).callsFake((input: BatchGetCommandInput) => {
    const keys = input.RequestItems?.['rapport-test']?.Keys ?? [];
    return { Responses: { 'rapport-test': keys.flatMap((key) => items.get(keyOf(key)) ?? []) } };
  });
  // No partition holds events.
  dynamo.on(QueryCommand).resolves({ Items: [] });
  dynamo.on(GetCommand).callsFake((input: GetCommandInput) => ({ Item: items.get(keyOf(input.Key ?? {})) }));
  dynamo.on(TransactWriteCommand).callsFake((input: TransactWriteCommandInput) => {
    const ids = (input.TransactItems ?? []).map((entry) => String(entry.Put?.Item?.pk).slice('c#'.length));
    if (ids.includes('u-broken')) throw new Error('InternalServerError: the table is not well');
    const result = transactPuts(input, {
      get: (item) => items.get(keyOf(item)),
      set: (item) => items.set(keyOf(item), item),
    });
    merges.push(ids);
    return result;
  });
});

function signUp(userId: string, anonymousId: string): { event: IngestEvent } {
  return { event: identify(at(1), {}, { userId, anonymousId, messageId: `m-${userId}-${anonymousId}` }) };
}

function visit(userId: string): { event: IngestEvent } {
  return { event: page(at(2), {}, { userId, messageId: `m-visit-${userId}` }) };
}

async function link(batch: readonly { event: IngestEvent }[]) {
  const failed: { event: IngestEvent }[] = [];
  const ids = batch.flatMap(({ event }) =>
    [event.userId, event.anonymousId].filter((id) => id !== undefined),
  );
  const result = await applyLinks(batch, await resolveProfiles(ids), (items) => failed.push(...items));
  return { ...result, failed };
}

function mergedInto(id: string): unknown {
  return items.get(`c#${id} state`)?.mergedInto;
}

describe('applyLinks', () => {
  it('makes the links of events that share nothing, and names the ids whose profiles they changed', async () => {
    const batch = [signUp('u1', 'a1'), visit('u3'), signUp('u2', 'a2')];
    const { linked, changed, failed } = await link(batch);
    expect(linked).toEqual(batch);
    expect(failed).toEqual([]);
    expect(mergedInto('a1')).toBe('u1');
    expect(mergedInto('a2')).toBe('u2');
    // Both merges go in one transaction.
    expect(merges).toEqual([['u1', 'a1', 'u2', 'a2']]);
    expect(changed.sort()).toEqual(['a1', 'a2', 'u1', 'u2']);
  });

  it('leaves a shared device with the customer whose event comes first in the batch', async () => {
    const { linked, failed } = await link([signUp('u1', 'a1'), signUp('u2', 'a1'), signUp('u1', 'a1')]);
    expect(failed).toEqual([]);
    expect(linked).toHaveLength(3);
    expect(mergedInto('a1')).toBe('u1');
    expect(items.get('c#u2 state')).toBeUndefined();
    // The repeated link is made once.
    expect(merges).toEqual([['u1', 'a1']]);
  });

  it('names the ids tied to a link through the profile they resolve to', async () => {
    items.set('c#a5 state', { pk: 'c#a5', sk: 'state', version: 1, mergedInto: 'u5' });
    items.set('c#u5 state', {
      pk: 'c#u5',
      sk: 'state',
      version: 1,
      members: ['a5', 'u5'],
      foldedMembers: ['a5', 'u5'],
      indexed: [],
    });
    const alias = {
      ...identify(at(1), {}, { userId: 'u6', messageId: 'm-alias' }),
      type: 'alias' as const,
      previousId: 'u5',
    };
    const visitor = page(at(3), {}, { userId: undefined, anonymousId: 'a5', messageId: 'm-a5' });
    const { changed } = await link([{ event: alias }, { event: visitor }, visit('u7')]);
    expect(mergedInto('u5')).toBe('u6');
    // a5 names u5's profile, which the alias merged: it is read again; u7 is not.
    expect(changed.sort()).toEqual(['a5', 'u5', 'u6']);
  });

  it('makes a link whose shared write was refused again from fresh reads', async () => {
    const batch = [signUp('u1', 'a1')];
    const profiles = await resolveProfiles(['u1', 'a1']);
    // a1 gets a profile of its own after the batch read it.
    items.set('c#a1 state', {
      pk: 'c#a1',
      sk: 'state',
      version: 1,
      members: ['a1'],
      foldedMembers: ['a1'],
      indexed: [],
    });
    const failed: unknown[] = [];
    const { linked } = await applyLinks(batch, profiles, (items) => failed.push(...items));
    expect(failed).toEqual([]);
    expect(linked).toEqual(batch);
    expect(dynamo).toHaveReceivedCommandTimes(TransactWriteCommand, 2);
    expect(merges).toEqual([['u1', 'a1']]);
    expect(items.get('c#a1 state')).toMatchObject({ version: 2, mergedInto: 'u1' });
  });

  it('fails only the events whose link could not be made', async () => {
    const batch = [signUp('u-broken', 'a9'), signUp('u1', 'a1'), visit('u-broken')];
    const { linked, failed } = await link(batch);
    expect(failed).toEqual([batch[0]]);
    expect(linked).toEqual([batch[1], batch[2]]);
    expect(mergedInto('a1')).toBe('u1');
  });
});
