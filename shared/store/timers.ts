import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { SendRequest } from '#events/send-request.ts';
import type { TimerArms } from '../campaigns/triggers.ts';
import { dynamoClient } from '../clients/dynamodb.ts';
import { runtimeConfig } from '../config.ts';
import { recordCapacity } from './capacity.ts';
import { conditionalWrite } from './conditional-write.ts';
import { shardOf } from './shard.ts';
import { customerPartition, deferralSortKey, duePartition, indexShards, timerSortKey } from './table.ts';

/**
 * Timers: what is to happen to a customer later. A delay-unless campaign's timer waits for its
 * delay after the latest start event; a deferred send waits for quiet hours to end. Each timer
 * lives in the customer's partition, and a pointer to it in a due partition sorted by due time, so
 * that the sweeper reads only what is due (`due#<shard>`, sharded against a hot key). Pointers are
 * deleted once acted on; a pointer whose timer has moved on is stale and just deleted.
 */
export interface DuePointer {
  pk: string;
  sk: string;
  profileId: string;
  timerSk: string;
  dueAt: string;
}

export interface CampaignTimer {
  kind: 'delay';
  profileId: string;
  timerSk: string;
  campaignId: string;
  key: string;
  dueAt: string;
  /** Distinct start events (messageIds). */
  starts: string[];
  trigger: Record<string, unknown>;
}

export interface DeferredSend {
  kind: 'deferred';
  profileId: string;
  timerSk: string;
  dueAt: string;
  request: SendRequest;
}

const table = () => runtimeConfig().RAPPORT_TABLE;

/**
 * Starts a delay-unless timer or pushes it back: the due time is the latest start's plus the delay,
 * whatever order the starts arrive in, and every start is counted once.
 */
export async function armTimer(arm: TimerArms): Promise<void> {
  const timerSk = timerSortKey(arm.campaignId, arm.key);
  await putPointer(arm.profileId, timerSk, arm.dueAt);
  const key = { pk: customerPartition(arm.profileId), sk: timerSk };
  try {
    const result = await dynamoClient().send(
      new UpdateCommand({
        TableName: table(),
        Key: key,
        UpdateExpression:
          'SET dueAt = :due, campaignId = :campaign, timerKey = :key, profileId = :profile, #trigger = :trigger ADD starts :start',
        ConditionExpression: 'attribute_not_exists(dueAt) OR dueAt < :due',
        ExpressionAttributeNames: { '#trigger': 'trigger' },
        ExpressionAttributeValues: {
          ':due': arm.dueAt,
          ':campaign': arm.campaignId,
          ':key': arm.key,
          ':profile': arm.profileId,
          ':trigger': arm.trigger,
          ':start': new Set(arm.messageIds),
        },
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    recordCapacity('write', result.ConsumedCapacity);
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    // A later start set a later due time already: this start still counts.
    const result = await dynamoClient().send(
      new UpdateCommand({
        TableName: table(),
        Key: key,
        UpdateExpression: 'ADD starts :start',
        ExpressionAttributeValues: { ':start': new Set(arm.messageIds) },
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    recordCapacity('write', result.ConsumedCapacity);
  }
}

/** Keeps a send for later (quiet hours), once per occurrence. */
export async function deferSend(profileId: string, request: SendRequest, until: Date): Promise<void> {
  const timerSk = deferralSortKey(request.campaignId, request.occurrence);
  const dueAt = until.toISOString();
  await putPointer(profileId, timerSk, dueAt);
  const result = await dynamoClient().send(
    new PutCommand({
      TableName: table(),
      Item: { pk: customerPartition(profileId), sk: timerSk, profileId, dueAt, request },
      ReturnConsumedCapacity: 'TOTAL',
    }),
  );
  recordCapacity('write', result.ConsumedCapacity);
}

async function putPointer(profileId: string, timerSk: string, dueAt: string): Promise<void> {
  const result = await dynamoClient().send(
    new PutCommand({
      TableName: table(),
      Item: {
        pk: duePartition(shardOf(profileId, indexShards)),
        sk: `${dueAt}#${profileId}#${timerSk}`,
        profileId,
        timerSk,
        dueAt,
      },
      ReturnConsumedCapacity: 'TOTAL',
    }),
  );
  recordCapacity('write', result.ConsumedCapacity);
}

/** Every pointer due at or before `at`, from all shards. */
export async function duePointers(at: Date): Promise<DuePointer[]> {
  const bound = `${at.toISOString()}~`;
  const shards = await Promise.all(
    Array.from({ length: indexShards }, async (_, shard) => {
      const found: DuePointer[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const page = await dynamoClient().send(
          new QueryCommand({
            TableName: table(),
            KeyConditionExpression: 'pk = :pk AND sk < :bound',
            ExpressionAttributeValues: { ':pk': duePartition(shard), ':bound': bound },
            ExclusiveStartKey: start,
            ReturnConsumedCapacity: 'TOTAL',
          }),
        );
        recordCapacity('read', page.ConsumedCapacity);
        for (const item of page.Items ?? []) {
          found.push({
            pk: String(item.pk),
            sk: String(item.sk),
            profileId: String(item.profileId),
            timerSk: String(item.timerSk),
            dueAt: String(item.dueAt),
          });
        }
        start = page.LastEvaluatedKey;
      } while (start);
      return found;
    }),
  );
  return shards.flat().sort((a, b) => (a.sk < b.sk ? -1 : a.sk > b.sk ? 1 : 0));
}

/** The timer a pointer points at, or undefined when it is gone. */
export async function readTimer(pointer: DuePointer): Promise<CampaignTimer | DeferredSend | undefined> {
  const page = await dynamoClient().send(
    new QueryCommand({
      TableName: table(),
      KeyConditionExpression: 'pk = :pk AND sk = :sk',
      ExpressionAttributeValues: { ':pk': customerPartition(pointer.profileId), ':sk': pointer.timerSk },
      ConsistentRead: true,
      ReturnConsumedCapacity: 'TOTAL',
    }),
  );
  recordCapacity('read', page.ConsumedCapacity);
  const item = page.Items?.[0];
  if (!item) return undefined;
  if (item.request) {
    return {
      kind: 'deferred',
      profileId: pointer.profileId,
      timerSk: pointer.timerSk,
      dueAt: String(item.dueAt),
      request: item.request as SendRequest,
    };
  }
  return {
    kind: 'delay',
    profileId: pointer.profileId,
    timerSk: pointer.timerSk,
    campaignId: String(item.campaignId),
    key: String(item.timerKey),
    dueAt: String(item.dueAt),
    starts: [...((item.starts as Set<string> | undefined) ?? [])].sort(),
    trigger: (item.trigger as Record<string, unknown> | undefined) ?? {},
  };
}

/** Removes a timer, unless it has been pushed back since it was read. Returns whether it was removed. */
export async function removeTimer(profileId: string, timerSk: string, dueAt: string): Promise<boolean> {
  return conditionalWrite(() =>
    dynamoClient().send(
      new DeleteCommand({
        TableName: table(),
        Key: { pk: customerPartition(profileId), sk: timerSk },
        ConditionExpression: 'dueAt = :due',
        ExpressionAttributeValues: { ':due': dueAt },
        ReturnConsumedCapacity: 'TOTAL',
      }),
    ),
  );
}

export async function removePointer(pointer: DuePointer): Promise<void> {
  const result = await dynamoClient().send(
    new DeleteCommand({
      TableName: table(),
      Key: { pk: pointer.pk, sk: pointer.sk },
      ReturnConsumedCapacity: 'TOTAL',
    }),
  );
  recordCapacity('write', result.ConsumedCapacity);
}
