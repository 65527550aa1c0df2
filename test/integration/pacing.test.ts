import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, test } from 'vitest';
import { dynamoClient } from '#shared/clients/dynamodb.ts';
import { acquireSendSlots, type Clock, windowOf } from '#shared/send/pacing.ts';
import { pacePartition } from '#shared/store/table.ts';
import { useEmulators } from './support.ts';

/**
 * Pacing against DynamoDB Local: senders acquiring at the same time on a virtual clock never take
 * more than the rate in a window between them, and each gets every slot it asked for.
 */
const emulators = useEmulators();

/**
 * A clock shared by `senders` that moves only when every sender still at work is asleep, to the
 * earliest wake-up: until then it stands still, however long DynamoDB takes. So a grant is made in
 * the window the clock is in, and the whole run takes no wall-clock time to wait.
 */
function virtualClock(startMillis: number, senders: number) {
  let now = startMillis;
  let finished = 0;
  const sleepers: { until: number; wake: () => void }[] = [];
  const advance = () => {
    if (sleepers.length === 0 || sleepers.length + finished < senders) return;
    now = Math.max(now, Math.min(...sleepers.map((sleeper) => sleeper.until)));
    for (const sleeper of sleepers.filter((waiting) => waiting.until <= now)) {
      sleepers.splice(sleepers.indexOf(sleeper), 1);
      sleeper.wake();
    }
  };
  const clock: Clock = {
    now: () => now,
    sleep: (ms) =>
      new Promise((wake) => {
        sleepers.push({ until: now + ms, wake });
        advance();
      }),
  };
  return {
    clock,
    finished() {
      finished++;
      advance();
    },
  };
}

interface Grant {
  sender: number;
  second: number;
  slots: number;
}

/** Each sender asks for its sends the way a send function does: what it may send now, then the rest. */
async function sendConcurrently(wants: number[], rate: number, startMillis: number): Promise<Grant[]> {
  const { clock, finished } = virtualClock(startMillis, wants.length);
  const grants: Grant[] = [];
  await Promise.all(
    wants.map(async (want, sender) => {
      for (let left = want; left > 0; ) {
        const slots = await acquireSendSlots(left, rate, clock);
        expect(slots).toBeGreaterThan(0);
        expect(slots).toBeLessThanOrEqual(left);
        grants.push({ sender, second: Math.floor(clock.now() / 1000), slots });
        left -= slots;
      }
      finished();
    }),
  );
  return grants;
}

function sumBy<T>(items: T[], key: (item: T) => number, value: (item: T) => number): Map<number, number> {
  const sums = new Map<number, number>();
  for (const item of items) sums.set(key(item), (sums.get(key(item)) ?? 0) + value(item));
  return sums;
}

async function storedWindows(fromSecond: number, toSecond: number): Promise<Map<number, number>> {
  const result = await dynamoClient().send(
    new QueryCommand({
      TableName: emulators.table,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': pacePartition },
      ConsistentRead: true,
    }),
  );
  const windows = new Map<number, number>();
  for (const item of result.Items ?? []) {
    const second = Number(item.sk);
    if (second < fromSecond || second > toSecond) continue;
    expect(item.expiresAt).toBe(second + 86_400);
    windows.set(second, Number(item.n));
  }
  return windows;
}

// Each test runs in its own stretch of time, so that they share the table but no windows.
const startOf = (hour: number) => Date.UTC(2026, 4, 10, hour, 0, 0, 250);

describe('send pacing', () => {
  test('concurrent senders never take more than the rate in a second, and all get their slots', async () => {
    const rate = 14;
    const wants = [30, 25, 9, 14, 1, 40];
    const start = startOf(1);
    const grants = await sendConcurrently(wants, rate, start);

    const bySender = sumBy(
      grants,
      (grant) => grant.sender,
      (grant) => grant.slots,
    );
    expect(wants.map((_, sender) => bySender.get(sender))).toEqual(wants);
    const bySecond = sumBy(
      grants,
      (grant) => grant.second,
      (grant) => grant.slots,
    );
    for (const slots of bySecond.values()) expect(slots).toBeLessThanOrEqual(rate);

    // The table agrees, and no window was left part-empty while a sender waited: 119 sends take 9 s.
    const total = wants.reduce((sum, want) => sum + want, 0);
    const firstSecond = Math.floor(start / 1000);
    const seconds = Math.ceil(total / rate);
    const windows = await storedWindows(firstSecond, firstSecond + 3_600);
    expect(windows).toEqual(bySecond);
    expect([...windows.keys()].sort((a, b) => a - b)).toEqual(
      Array.from({ length: seconds }, (_, index) => firstSecond + index),
    );
  });

  test('below one a second, a window spans whole seconds: 0.5/s is one send every 2 s', async () => {
    const rate = 0.5;
    expect(windowOf(rate)).toEqual({ seconds: 2, capacity: 1 });
    const wants = [3, 2, 2];
    const start = startOf(2);
    const grants = await sendConcurrently(wants, rate, start);

    const bySender = sumBy(
      grants,
      (grant) => grant.sender,
      (grant) => grant.slots,
    );
    expect(wants.map((_, sender) => bySender.get(sender))).toEqual(wants);
    const seconds = grants.map((grant) => grant.second).sort((a, b) => a - b);
    expect(grants.every((grant) => grant.slots === 1)).toBe(true);
    for (let index = 1; index < seconds.length; index++) {
      expect((seconds[index] ?? 0) - (seconds[index - 1] ?? 0)).toBeGreaterThanOrEqual(2);
    }
    const windows = await storedWindows(Math.floor(start / 1000) - 2, Math.floor(start / 1000) + 3_600);
    expect([...windows.values()].every((n) => n === 1)).toBe(true);
    expect([...windows.keys()].every((second) => second % 2 === 0)).toBe(true);
    expect(windows.size).toBe(7);
  });

  test('a fractional rate above one rounds the window down', async () => {
    expect(windowOf(2.5)).toEqual({ seconds: 1, capacity: 2 });
    expect(windowOf(1 / 3)).toEqual({ seconds: 3, capacity: 1 });
    const grants = await sendConcurrently([4, 3], 2.5, startOf(3));
    const bySecond = sumBy(
      grants,
      (grant) => grant.second,
      (grant) => grant.slots,
    );
    expect([...bySecond.values()].sort((a, b) => a - b)).toEqual([1, 2, 2, 2]);
  });

  test('a request larger than a window is granted a window at a time', async () => {
    const { clock } = virtualClock(startOf(4), 1);
    expect(await acquireSendSlots(50, 10, clock)).toBe(10);
    expect(await acquireSendSlots(5, 10, clock)).toBe(5);
    // The second request waited for the next second.
    expect(clock.now()).toBe(startOf(4) + 750);
    expect(await acquireSendSlots(50, 10, clock)).toBe(5);
    expect(await acquireSendSlots(0, 10, clock)).toBe(0);
    await expect(acquireSendSlots(1, 0, clock)).rejects.toThrow(RangeError);
  });
});
