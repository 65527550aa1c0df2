import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { LifecycleEvent } from '#events/lifecycle.ts';
import type { IndexItem } from '../audience/indexes.ts';
import { dynamoClient } from '../clients/dynamodb.ts';
import { runtimeConfig } from '../config.ts';
import type { EngagementState } from '../engagement/state.ts';
import { batchGetItems } from './batch.ts';
import { recordCapacity } from './capacity.ts';
import { customerPartition, stateSortKey } from './table.ts';
import { type TransactItem, transactWrites } from './transactions.ts';

/**
 * Customer profiles. A live profile holds the engagement state and the ids whose partitions make up
 * its timeline. A redirect is what is left of a profile after it was merged into another. Every write
 * is conditional on the version read, so concurrent workers never lose each other's updates.
 */

/**
 * Lifecycle events written with the state that caused them and not yet known to be published. They
 * are cleared once published; whoever finds them still there publishes them again.
 */
export interface Outbox {
  events: LifecycleEvent[];
}

/** The key of an index item (an audience membership, a date index entry) that a profile holds. */
export type IndexKey = Pick<IndexItem, 'pk' | 'sk'>;

export interface LiveProfile {
  kind: 'live';
  id: string;
  version: number;
  members: string[];
  /**
   * The members whose events the state holds. A merge adds members before their events are folded
   * in; while the two differ, the next fold replays the timeline, even if the merging process died.
   */
  foldedMembers: string[];
  state: EngagementState;
  outbox: Outbox;
  /** The index items written for this profile's state, so that the next write knows what to change. */
  indexed: IndexItem[];
}

export interface RedirectProfile {
  kind: 'redirect';
  id: string;
  version: number;
  mergedInto: string;
}

export type StoredProfile = LiveProfile | RedirectProfile;

export class VersionConflictError extends Error {
  override name = 'VersionConflictError';
  constructor(id: string) {
    super(`profile ${id} changed while it was being updated`);
  }
}

export const emptyOutbox: Outbox = { events: [] };

export async function getProfile(id: string): Promise<StoredProfile | undefined> {
  const result = await dynamoClient().send(
    new GetCommand({
      TableName: runtimeConfig().RAPPORT_TABLE,
      Key: { pk: customerPartition(id), sk: stateSortKey },
      ConsistentRead: true,
      ReturnConsumedCapacity: 'TOTAL',
    }),
  );
  recordCapacity('read', result.ConsumedCapacity);
  return result.Item ? toProfile(id, result.Item) : undefined;
}

/**
 * The stored profiles of many ids, read in batches, strongly consistently unless `consistent` is
 * false; absent ids are left out.
 */
export async function getProfiles(
  ids: readonly string[],
  consistent = true,
): Promise<Map<string, StoredProfile>> {
  const keys = [...new Set(ids)].map((id) => ({ pk: customerPartition(id), sk: stateSortKey }));
  const items = await batchGetItems(keys, undefined, consistent);
  return new Map(
    items.map((item) => {
      const id = String(item.pk).slice(customerPartition('').length);
      return [id, toProfile(id, item)];
    }),
  );
}

/**
 * Every live profile, page by page: a scan of the whole table, for the rare job that needs every
 * customer (indexing a campaign added to a deployment), never for choosing an audience.
 */
export async function scanLiveProfiles(onPage: (profiles: LiveProfile[]) => Promise<void>): Promise<void> {
  let start: Record<string, unknown> | undefined;
  do {
    const page = await dynamoClient().send(
      new ScanCommand({
        TableName: runtimeConfig().RAPPORT_TABLE,
        FilterExpression: 'sk = :state AND attribute_exists(members)',
        ExpressionAttributeValues: { ':state': stateSortKey },
        ExclusiveStartKey: start,
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    recordCapacity('read', page.ConsumedCapacity);
    const profiles = (page.Items ?? []).flatMap((item) => {
      const profile = toProfile(String(item.pk).slice(customerPartition('').length), item);
      return profile.kind === 'live' ? [profile] : [];
    });
    if (profiles.length > 0) await onPage(profiles);
    start = page.LastEvaluatedKey;
  } while (start);
}

function toProfile(id: string, item: Record<string, unknown>): StoredProfile {
  const version = Number(item.version);
  if (typeof item.mergedInto === 'string') {
    return { kind: 'redirect', id, version, mergedInto: item.mergedInto };
  }
  return {
    kind: 'live',
    id,
    version,
    members: item.members as string[],
    foldedMembers: (item.foldedMembers as string[] | undefined) ?? [],
    state: storedState(item.state),
    outbox: { events: (item.outbox as Partial<Outbox> | undefined)?.events ?? [] },
    indexed: (item.indexed as IndexItem[] | undefined) ?? [],
  };
}

/** A live profile to write, on condition that it is still at the version it was read at. */
export interface ProfileWrite extends Omit<LiveProfile, 'kind' | 'version'> {
  /** 0 when the profile must not exist yet. */
  expectedVersion: number;
  /** Index items to write and remove with the state, in the same transaction. */
  indexChanges?: IndexChanges;
}

export interface IndexChanges {
  puts: IndexItem[];
  deletes: IndexKey[];
}

/** What became of a write that went out with others. */
export interface ProfileWrites {
  landed: Set<ProfileWrite>;
  /** Refused because the profile is not at the version the write expected: its plan is out of date. */
  stale: Set<ProfileWrite>;
}

/**
 * Writes many profiles, each on its own version condition, in shared transactions (see
 * transactions.ts). The result says which writes landed and which were found stale; the caller
 * writes the rest one by one. A lone profile is left to a plain conditional put, at half the price of
 * a transaction.
 */
export async function writeLiveProfiles(writes: readonly ProfileWrite[]): Promise<ProfileWrites> {
  const { landed, refused } = await transactWrites(
    writes,
    transactItems,
    (pending) => pending.length > 1 || pending.some((write) => itemCount(write) > 1),
  );
  const stale = [...refused].flatMap(([write, reason]) =>
    reason === 'ConditionalCheckFailed' ? [write] : [],
  );
  return { landed, stale: new Set(stale) };
}

function itemCount(write: ProfileWrite): number {
  return 1 + (write.indexChanges?.puts.length ?? 0) + (write.indexChanges?.deletes.length ?? 0);
}

/** The transaction items of a write: its state, conditionally, and its index changes. */
function transactItems(write: ProfileWrite): TransactItem[] {
  const table = runtimeConfig().RAPPORT_TABLE;
  return [
    { Put: conditionalPutInput(write.id, profileAttributes(write), write.expectedVersion) },
    ...(write.indexChanges?.puts ?? []).map((item) => ({
      Put: { TableName: table, Item: { ...item.attributes, pk: item.pk, sk: item.sk } },
    })),
    ...(write.indexChanges?.deletes ?? []).map((key) => ({
      Delete: { TableName: table, Key: { pk: key.pk, sk: key.sk } },
    })),
  ];
}

function profileAttributes(write: ProfileWrite) {
  return {
    version: write.expectedVersion + 1,
    members: write.members,
    foldedMembers: write.foldedMembers,
    state: JSON.stringify(write.state),
    outbox: write.outbox,
    indexed: write.indexed,
  };
}

/** The profile item a write puts, as a table seeded without ingest needs it. */
export function profileItem(write: ProfileWrite): Record<string, unknown> {
  return { pk: customerPartition(write.id), sk: stateSortKey, ...profileAttributes(write) };
}

/** The state as stored: JSON text (see table.ts), or a map as profiles written before that hold it. */
function storedState(stored: unknown): EngagementState {
  return (typeof stored === 'string' ? JSON.parse(stored) : stored) as EngagementState;
}

/**
 * Write a live profile, on its version (`expectedVersion` 0: it must not exist yet), with its index
 * changes in the same transaction. Returns the new version.
 */
export async function writeLiveProfile(write: ProfileWrite): Promise<number> {
  if (itemCount(write) === 1) {
    await conditionalPut(write.id, profileAttributes(write), write.expectedVersion);
  } else if (!(await transactWrites([write], transactItems)).landed.has(write)) {
    throw new VersionConflictError(write.id);
  }
  return write.expectedVersion + 1;
}

/** A published outbox to clear, on the version that was written with it. */
export interface OutboxClear {
  id: string;
  version: number;
}

/** Clears a published outbox, unless the profile has changed since (its writer then owns the outbox). */
export async function clearOutbox({ id, version }: OutboxClear): Promise<void> {
  try {
    const result = await dynamoClient().send(
      new UpdateCommand({ ...clearUpdate({ id, version }), ReturnConsumedCapacity: 'TOTAL' }),
    );
    recordCapacity('write', result.ConsumedCapacity);
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
}

/** Clears many outboxes in shared transactions; one whose profile changed since is left to its writer. */
export async function clearOutboxes(clears: readonly OutboxClear[]): Promise<void> {
  if (clears.length === 1 && clears[0]) return clearOutbox(clears[0]);
  await transactWrites(clears, (clear) => [{ Update: clearUpdate(clear) }]);
}

function clearUpdate({ id, version }: OutboxClear) {
  return {
    TableName: runtimeConfig().RAPPORT_TABLE,
    Key: { pk: customerPartition(id), sk: stateSortKey },
    UpdateExpression: 'SET outbox = :empty',
    ConditionExpression: 'version = :version',
    ExpressionAttributeValues: { ':empty': emptyOutbox, ':version': version },
  };
}

/**
 * A merge: the survivor, with the merged profile's members added, and the merged profile turned into
 * a redirect to it. Both are written in one transaction, each on the version it was read at, so that
 * a merge never acts on a profile that changed meanwhile (merged elsewhere, or merged the other way
 * round).
 */
export interface Merge {
  survivor: ProfileWrite;
  merged: { id: string; mergedInto: string; expectedVersion: number; indexed: readonly IndexKey[] };
}

export async function writeMerge(merge: Merge): Promise<void> {
  if (!(await transactWrites([merge], mergeItems)).landed.has(merge)) {
    throw new VersionConflictError(merge.survivor.id);
  }
}

/** Many merges of distinct profiles in shared transactions; the set of those that landed. */
export async function writeMerges(merges: readonly Merge[]): Promise<Set<Merge>> {
  return (await transactWrites(merges, mergeItems)).landed;
}

function mergeItems({ survivor, merged }: Merge): TransactItem[] {
  const table = runtimeConfig().RAPPORT_TABLE;
  return [
    { Put: conditionalPutInput(survivor.id, profileAttributes(survivor), survivor.expectedVersion) },
    {
      Put: conditionalPutInput(
        merged.id,
        { version: merged.expectedVersion + 1, mergedInto: merged.mergedInto },
        merged.expectedVersion,
      ),
    },
    // A redirect is in no audience (so a merged profile holds at most 22 index items): the
    // survivor's next fold indexes the merged state.
    ...merged.indexed.map((key) => ({ Delete: { TableName: table, Key: { pk: key.pk, sk: key.sk } } })),
  ];
}

async function conditionalPut(id: string, attributes: Record<string, unknown>, expectedVersion: number) {
  try {
    const result = await dynamoClient().send(
      new PutCommand({
        ...conditionalPutInput(id, attributes, expectedVersion),
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    recordCapacity('write', result.ConsumedCapacity);
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) throw new VersionConflictError(id);
    throw error;
  }
}

function conditionalPutInput(id: string, attributes: Record<string, unknown>, expectedVersion: number) {
  return {
    TableName: runtimeConfig().RAPPORT_TABLE,
    Item: { pk: customerPartition(id), sk: stateSortKey, ...attributes },
    ...(expectedVersion === 0
      ? { ConditionExpression: 'attribute_not_exists(pk)' }
      : {
          ConditionExpression: 'version = :expected',
          ExpressionAttributeValues: { ':expected': expectedVersion },
        }),
  };
}
