import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { LifecycleEvent } from '#events/lifecycle.ts';
import { clients } from '../clients.ts';
import { runtimeConfig } from '../config.ts';
import type { EngagementState } from '../engagement/state.ts';
import { recordCapacity } from './capacity.ts';
import { customerPartition, stateSortKey } from './table.ts';

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

export interface LiveProfile {
  kind: 'live';
  id: string;
  version: number;
  members: string[];
  state: EngagementState;
  outbox: Outbox;
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
  const result = await clients().dynamo.send(
    new GetCommand({
      TableName: runtimeConfig().RAPPORT_TABLE,
      Key: { pk: customerPartition(id), sk: stateSortKey },
      ConsistentRead: true,
      ReturnConsumedCapacity: 'TOTAL',
    }),
  );
  recordCapacity('read', result.ConsumedCapacity);
  const item = result.Item;
  if (!item) return undefined;
  const version = Number(item.version);
  if (typeof item.mergedInto === 'string') {
    return { kind: 'redirect', id, version, mergedInto: item.mergedInto };
  }
  return {
    kind: 'live',
    id,
    version,
    members: item.members as string[],
    state: item.state as EngagementState,
    outbox: { events: (item.outbox as Partial<Outbox> | undefined)?.events ?? [] },
  };
}

/** Write a live profile; `expectedVersion` 0 means it must not exist yet. Returns the new version. */
export async function writeLiveProfile(
  profile: Omit<LiveProfile, 'kind' | 'version'>,
  expectedVersion: number,
): Promise<number> {
  const version = expectedVersion + 1;
  await conditionalPut(
    profile.id,
    { version, members: profile.members, state: profile.state, outbox: profile.outbox },
    expectedVersion,
  );
  return version;
}

/** Clears a published outbox, unless the profile has changed since (its writer then owns the outbox). */
export async function clearOutbox(id: string, version: number): Promise<void> {
  try {
    const result = await clients().dynamo.send(
      new UpdateCommand({
        TableName: runtimeConfig().RAPPORT_TABLE,
        Key: { pk: customerPartition(id), sk: stateSortKey },
        UpdateExpression: 'SET outbox = :empty',
        ConditionExpression: 'version = :version',
        ExpressionAttributeValues: { ':empty': emptyOutbox, ':version': version },
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    recordCapacity('write', result.ConsumedCapacity);
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
}

export async function writeRedirect(id: string, mergedInto: string, expectedVersion: number): Promise<void> {
  await conditionalPut(id, { version: expectedVersion + 1, mergedInto }, expectedVersion);
}

async function conditionalPut(id: string, attributes: Record<string, unknown>, expectedVersion: number) {
  try {
    const result = await clients().dynamo.send(
      new PutCommand({
        TableName: runtimeConfig().RAPPORT_TABLE,
        Item: { pk: customerPartition(id), sk: stateSortKey, ...attributes },
        ...(expectedVersion === 0
          ? { ConditionExpression: 'attribute_not_exists(pk)' }
          : {
              ConditionExpression: 'version = :expected',
              ExpressionAttributeValues: { ':expected': expectedVersion },
            }),
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    recordCapacity('write', result.ConsumedCapacity);
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) throw new VersionConflictError(id);
    throw error;
  }
}
