import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { dynamoClient } from '../clients/dynamodb.ts';
import { runtimeConfig } from '../config.ts';
import { batchGetItems } from './batch.ts';
import { recordCapacity } from './capacity.ts';
import { conditionalWrite } from './conditional-write.ts';
import { shardOf } from './shard.ts';
import { customerPartition, sendClaimSortKey, sendLedgerSortKey, statsPartition } from './table.ts';

/**
 * What campaigns decided for each customer. A claim item per (campaign, customer, occurrence) makes
 * a decision once: whoever writes it first decides, and a second evaluation of the same occurrence
 * finds it and does nothing. The customer's send ledger (recent sends, for the frequency cap; when
 * each campaign last entered them, for re-entry) is written in the same transaction, on its version,
 * so that two campaigns sending at once cannot both slip under the cap. Per-campaign counters of
 * each outcome are added in the same transaction, so a retry never counts twice.
 */
export interface SendLedger {
  version: number;
  /** Marketing emails sent, within the frequency cap's window. */
  recent: { campaignId: string; at: string }[];
  /** When each campaign last sent to or held out this customer. */
  entered: Record<string, string>;
}

export type ClaimStatus = 'sending' | 'sent' | 'held-out' | 'skipped' | 'deferred' | 'failed' | 'retry';

export interface Decision {
  profileId: string;
  campaignId: string;
  occurrence: string;
  status: ClaimStatus;
  /**
   * The counter to add one to: held-out, deferred or skipped:<reason>. A send is counted when it
   * settles (sent or failed).
   */
  counter?: string;
  detail?: Record<string, string>;
  /** The ledger to write, on the version it was read at. */
  ledger?: SendLedger;
}

export type DecisionResult = 'recorded' | 'duplicate' | 'ledger-changed';

const statsShards = 4;
const table = () => runtimeConfig().RAPPORT_TABLE;

export async function readLedger(profileId: string): Promise<SendLedger> {
  const result = await dynamoClient().send(
    new GetCommand({
      TableName: table(),
      Key: { pk: customerPartition(profileId), sk: sendLedgerSortKey },
      ConsistentRead: true,
      ReturnConsumedCapacity: 'TOTAL',
    }),
  );
  recordCapacity('read', result.ConsumedCapacity);
  return toLedger(result.Item);
}

/**
 * What the send function reads before deciding, in one request: the claim of the occurrence, if it
 * was decided already, and the customer's send ledger.
 */
export async function readSendState(
  profileId: string,
  campaignId: string,
  occurrence: string,
): Promise<{ claim: Claim | undefined; ledger: SendLedger }> {
  const claimKey = { pk: customerPartition(profileId), sk: sendClaimSortKey(campaignId, occurrence) };
  const ledgerKey = { pk: customerPartition(profileId), sk: sendLedgerSortKey };
  const items = await batchGetItems([claimKey, ledgerKey]);
  const itemOf = (key: { sk: string }) => items.find((item) => item.sk === key.sk);
  return { claim: toClaim(itemOf(claimKey)), ledger: toLedger(itemOf(ledgerKey)) };
}

function toLedger(item: Record<string, unknown> | undefined): SendLedger {
  return {
    version: Number(item?.version ?? 0),
    recent: (item?.recent as SendLedger['recent'] | undefined) ?? [],
    entered: (item?.entered as SendLedger['entered'] | undefined) ?? {},
  };
}

function toClaim(item: Record<string, unknown> | undefined): Claim | undefined {
  if (!item) return undefined;
  return {
    status: item.status as ClaimStatus,
    ...(item.detail ? { detail: item.detail as Record<string, string> } : {}),
  };
}

/**
 * Records a decision: the claim (only if there is none for the occurrence), the counter and, when
 * given, the ledger (only if unchanged since read).
 */
export async function recordDecision(decision: Decision): Promise<DecisionResult> {
  const claimKey = {
    pk: customerPartition(decision.profileId),
    sk: sendClaimSortKey(decision.campaignId, decision.occurrence),
  };
  const items = [
    {
      Put: {
        TableName: table(),
        Item: {
          ...claimKey,
          campaignId: decision.campaignId,
          occurrence: decision.occurrence,
          status: decision.status,
          ...(decision.detail ? { detail: decision.detail } : {}),
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    },
    ...(decision.ledger ? [ledgerPut(decision.profileId, decision.ledger)] : []),
    ...(decision.counter
      ? [counterUpdate(decision.campaignId, decision.profileId, decision.occurrence, decision.counter)]
      : []),
  ];
  try {
    const result = await dynamoClient().send(
      new TransactWriteCommand({ TransactItems: items, ReturnConsumedCapacity: 'TOTAL' }),
    );
    recordCapacity('write', result.ConsumedCapacity);
    return 'recorded';
  } catch (error) {
    if (!(error instanceof TransactionCanceledException)) throw error;
    const codes = error.CancellationReasons?.map((reason) => reason.Code) ?? [];
    if (codes[0] === 'ConditionalCheckFailed') return 'duplicate';
    if (decision.ledger && codes[1] === 'ConditionalCheckFailed') return 'ledger-changed';
    throw error;
  }
}

/** Adds one to a campaign's counter, in one of a few shards so that a big send has no hot key. */
function counterUpdate(campaignId: string, profileId: string, occurrence: string, counter: string) {
  return {
    Update: {
      TableName: table(),
      Key: {
        pk: statsPartition(campaignId),
        sk: String(shardOf(`${profileId}\n${occurrence}`, statsShards)),
      },
      UpdateExpression: 'ADD #counter :one',
      ExpressionAttributeNames: { '#counter': counter },
      ExpressionAttributeValues: { ':one': 1 },
    },
  };
}

function ledgerPut(profileId: string, ledger: SendLedger) {
  return {
    Put: {
      TableName: table(),
      Item: {
        pk: customerPartition(profileId),
        sk: sendLedgerSortKey,
        version: ledger.version + 1,
        recent: ledger.recent,
        entered: ledger.entered,
      },
      ...(ledger.version === 0
        ? { ConditionExpression: 'attribute_not_exists(pk)' }
        : {
            ConditionExpression: 'version = :version',
            ExpressionAttributeValues: { ':version': ledger.version },
          }),
    },
  };
}

/** Moves a claim on from `sending` (to sent, failed or retry), with what happened. */
export async function settleClaim(
  profileId: string,
  campaignId: string,
  occurrence: string,
  status: Exclude<ClaimStatus, 'sending'>,
  detail: Record<string, string>,
  counter?: string,
): Promise<void> {
  const result = await dynamoClient().send(
    new TransactWriteCommand({
      TransactItems: [
        {
          Update: {
            TableName: table(),
            Key: { pk: customerPartition(profileId), sk: sendClaimSortKey(campaignId, occurrence) },
            UpdateExpression: 'SET #status = :status, detail = :detail',
            ConditionExpression: '#status = :sending',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':status': status, ':detail': detail, ':sending': 'sending' },
          },
        },
        ...(counter ? [counterUpdate(campaignId, profileId, occurrence, counter)] : []),
      ],
      ReturnConsumedCapacity: 'TOTAL',
    }),
  );
  recordCapacity('write', result.ConsumedCapacity);
}

/** Takes a claim that waits for a retry back to sending. Returns whether this caller took it. */
export async function resumeClaim(
  profileId: string,
  campaignId: string,
  occurrence: string,
): Promise<boolean> {
  return conditionalWrite(() =>
    dynamoClient().send(
      new UpdateCommand({
        TableName: table(),
        Key: { pk: customerPartition(profileId), sk: sendClaimSortKey(campaignId, occurrence) },
        UpdateExpression: 'SET #status = :sending',
        ConditionExpression: '#status = :retry',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':sending': 'sending', ':retry': 'retry' },
        ReturnConsumedCapacity: 'TOTAL',
      }),
    ),
  );
}

/** Every counter of a campaign, summed over its shards. */
export async function readCampaignCounters(campaignId: string): Promise<Record<string, number>> {
  const result = await dynamoClient().send(
    new QueryCommand({
      TableName: table(),
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': statsPartition(campaignId) },
      ReturnConsumedCapacity: 'TOTAL',
    }),
  );
  recordCapacity('read', result.ConsumedCapacity);
  const totals: Record<string, number> = {};
  for (const item of result.Items ?? []) {
    for (const [name, value] of Object.entries(item)) {
      if (name === 'pk' || name === 'sk' || typeof value !== 'number') continue;
      totals[name] = (totals[name] ?? 0) + value;
    }
  }
  return Object.fromEntries(Object.entries(totals).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export interface Claim {
  status: ClaimStatus;
  detail?: Record<string, string>;
}

/** A claim's status, or undefined when the occurrence is not decided yet. */
export async function readClaimStatus(
  profileId: string,
  campaignId: string,
  occurrence: string,
): Promise<ClaimStatus | undefined> {
  return (await readClaim(profileId, campaignId, occurrence))?.status;
}

/** The decision recorded for an occurrence, with what it noted (SES message id, reason). */
export async function readClaim(
  profileId: string,
  campaignId: string,
  occurrence: string,
): Promise<Claim | undefined> {
  const result = await dynamoClient().send(
    new GetCommand({
      TableName: table(),
      Key: { pk: customerPartition(profileId), sk: sendClaimSortKey(campaignId, occurrence) },
      ConsistentRead: true,
      ReturnConsumedCapacity: 'TOTAL',
    }),
  );
  recordCapacity('read', result.ConsumedCapacity);
  return toClaim(result.Item);
}
