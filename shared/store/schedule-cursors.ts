import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { dynamoClient } from '../clients/dynamodb.ts';
import { runtimeConfig } from '../config.ts';
import { recordCapacity } from './capacity.ts';
import { conditionalWrite } from './conditional-write.ts';
import { scheduleCursorPartition } from './table.ts';

/** The latest fire time a campaign has completely fired for, if any. */
export async function lastFired(campaignId: string): Promise<string | undefined> {
  const result = await dynamoClient().send(
    new GetCommand({
      TableName: runtimeConfig().RAPPORT_TABLE,
      Key: { pk: scheduleCursorPartition(campaignId), sk: 'cursor' },
      ConsistentRead: true,
      ReturnConsumedCapacity: 'TOTAL',
    }),
  );
  recordCapacity('read', result.ConsumedCapacity);
  return typeof result.Item?.lastFire === 'string' ? result.Item.lastFire : undefined;
}

/** Moves a campaign's schedule cursor to `fireTime` if it is behind it. Returns whether it moved. */
export async function advanceScheduleCursor(campaignId: string, fireTime: Date): Promise<boolean> {
  const fired = fireTime.toISOString();
  return conditionalWrite(() =>
    dynamoClient().send(
      new UpdateCommand({
        TableName: runtimeConfig().RAPPORT_TABLE,
        Key: { pk: scheduleCursorPartition(campaignId), sk: 'cursor' },
        UpdateExpression: 'SET lastFire = :fired',
        ConditionExpression: 'attribute_not_exists(lastFire) OR lastFire < :fired',
        ExpressionAttributeValues: { ':fired': fired },
        ReturnConsumedCapacity: 'TOTAL',
      }),
    ),
  );
}
