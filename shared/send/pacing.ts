import { setTimeout as delay } from 'node:timers/promises';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { dynamoClient } from '../clients/dynamodb.ts';
import { runtimeConfig } from '../config.ts';
import { recordCapacity } from '../store/capacity.ts';
import { pacePartition } from '../store/table.ts';

/**
 * Send pacing across every sender at once (Lambda instances, local workers): a fixed-window counter
 * in the table, one item per window, that senders add to on condition that the sum stays within the
 * window's share of `maxSendRate`. A window is one second, or, below one email a second, as many
 * whole seconds as it takes for one email (0.5/s: one every 2 s). Its item is keyed by the epoch
 * second it starts at and expires a day later (TTL only tidies; nothing depends on it).
 *
 * A fixed window lets a burst of up to twice the rate straddle a window boundary, which SES absorbs.
 */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => delay(ms),
};

/**
 * Waits until some of `count` sends may go, and says how many: at least 1, at most `count` and what
 * the current window has left. While the window is full it sleeps until the next one begins. The
 * caller sends that many now and asks again for the rest:
 *
 *     for (let left = messages.length; left > 0; ) {
 *       const slots = await acquireSendSlots(left, rate, clock);
 *       await sendNow(messages.slice(messages.length - left, messages.length - left + slots));
 *       left -= slots;
 *     }
 *
 * Returns 0 only for a `count` of 0.
 */
export async function acquireSendSlots(count: number, rate: number, clock: Clock): Promise<number> {
  if (!Number.isInteger(count) || count < 0) {
    throw new RangeError(`expected a whole count of sends, got ${count}`);
  }
  if (!Number.isFinite(rate) || rate <= 0) throw new RangeError(`expected a positive send rate, got ${rate}`);
  if (count === 0) return 0;
  const window = windowOf(rate);
  for (;;) {
    const start = Math.floor(clock.now() / 1000 / window.seconds) * window.seconds;
    let wanted = Math.min(count, window.capacity);
    while (wanted > 0) {
      const taken = await take(start, wanted, window.capacity);
      if (taken.granted) return wanted;
      wanted = Math.min(wanted, window.capacity - taken.used);
    }
    await clock.sleep(Math.max(0, (start + window.seconds) * 1000 - clock.now()));
  }
}

/** The window's length and how many sends it takes: never more than `rate` a second on average. */
export function windowOf(rate: number): { seconds: number; capacity: number } {
  const seconds = rate >= 1 ? 1 : Math.ceil(1 / rate);
  // The epsilon keeps a rate like 1/3 from rounding to a capacity of 0.
  return { seconds, capacity: Math.max(1, Math.floor(rate * seconds + 1e-9)) };
}

const expiresAfterSeconds = 86_400;

/** Adds `count` to the window's counter unless that takes it past `capacity`; else what it holds. */
async function take(
  start: number,
  count: number,
  capacity: number,
): Promise<{ granted: true } | { granted: false; used: number }> {
  try {
    const result = await dynamoClient().send(
      new UpdateCommand({
        TableName: runtimeConfig().RAPPORT_TABLE,
        Key: { pk: pacePartition, sk: String(start) },
        UpdateExpression: 'ADD n :count SET expiresAt = :expiresAt',
        ConditionExpression: 'attribute_not_exists(n) OR n <= :limit',
        ExpressionAttributeValues: {
          ':count': count,
          ':limit': capacity - count,
          ':expiresAt': start + expiresAfterSeconds,
        },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    recordCapacity('write', result.ConsumedCapacity);
    return { granted: true };
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    // The condition failed, so the window's item and its count exist; without them, take it as full.
    return { granted: false, used: Number(error.Item?.n?.N ?? capacity) };
  }
}
