import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { dynamoClient } from '../clients/dynamodb.ts';
import { runtimeConfig } from '../config.ts';
import { recordCapacity } from './capacity.ts';
import { indexShards, membershipPartition } from './table.ts';

/**
 * Reading the campaign indexes (see shared/audience/indexes.ts): a schedule campaign's members, a
 * date campaign's day. Eventually consistent and projected to the customer id: half the read units,
 * and a member a moment late is picked up by the next run or was not due yet.
 */
export interface IndexQuery {
  pk: string;
  /** Inclusive lower bound of the sort key. */
  from?: string;
  /** Exclusive upper bound of the sort key. */
  before?: string;
  prefix?: string;
}

/** The customer ids in a schedule campaign's membership partitions, within a sort-key range. */
export function membershipQueries(campaignId: string, range?: { from?: string; to?: string }): IndexQuery[] {
  return Array.from({ length: indexShards }, (_, shard) => ({
    pk: membershipPartition(campaignId, shard),
    ...(range?.from ? { from: range.from } : {}),
    ...(range?.to ? { before: range.to } : {}),
  }));
}

/** Runs the queries page by page, handing each page's customer ids to `onPage`. */
export async function queryIndex(
  queries: readonly IndexQuery[],
  onPage: (customerIds: string[]) => Promise<void>,
): Promise<void> {
  await Promise.all(
    queries.map(async (query) => {
      let start: Record<string, unknown> | undefined;
      do {
        const page = await dynamoClient().send(
          new QueryCommand({
            TableName: runtimeConfig().RAPPORT_TABLE,
            ...keyCondition(query),
            ProjectionExpression: 'customerId',
            ExclusiveStartKey: start,
            ReturnConsumedCapacity: 'TOTAL',
          }),
        );
        recordCapacity('read', page.ConsumedCapacity);
        const ids = (page.Items ?? []).flatMap((item) =>
          typeof item.customerId === 'string' ? [item.customerId] : [],
        );
        if (ids.length > 0) await onPage(ids);
        start = page.LastEvaluatedKey;
      } while (start);
    }),
  );
}

function keyCondition(query: IndexQuery) {
  const values: Record<string, string> = { ':pk': query.pk };
  let condition = 'pk = :pk';
  if (query.prefix !== undefined) {
    values[':prefix'] = query.prefix;
    condition += ' AND begins_with(sk, :prefix)';
  } else if (query.from !== undefined && query.before !== undefined) {
    values[':from'] = query.from;
    values[':before'] = query.before;
    // BETWEEN is inclusive on both ends; the upper bound is made exclusive by the member's "#id" suffix,
    // which sorts after the bare time: every sk at the bound itself is "<before>#..." > ":before".
    condition += ' AND sk BETWEEN :from AND :before';
  } else if (query.from !== undefined) {
    values[':from'] = query.from;
    condition += ' AND sk >= :from';
  } else if (query.before !== undefined) {
    values[':before'] = query.before;
    condition += ' AND sk < :before';
  }
  return { KeyConditionExpression: condition, ExpressionAttributeValues: values };
}
