import { createHash } from 'node:crypto';
import {
  EventBridgeClient,
  PutEventsCommand,
  type PutEventsCommandInput,
  type PutEventsResultEntry,
} from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { describe, expect, it } from 'vitest';
import { type LifecycleEvent, lifecycleSource } from '#events/lifecycle.ts';
import { publishLifecycleEvents } from '#shared/bus.ts';
import { useTestRuntime } from './support/runtime-env.ts';

const eventBridge = mockClient(EventBridgeClient);
useTestRuntime([eventBridge]);

function ignored(index: number): LifecycleEvent {
  return {
    detailType: 'Newsletter Ignored',
    detail: {
      id: createHash('sha256').update(`ignored-${index}`).digest('hex'),
      customerId: `u${index}`,
      streak: 3,
      at: new Date(Date.UTC(2025, 2, 1, 10, index)).toISOString(),
    },
  };
}

const tierChanged: LifecycleEvent = {
  detailType: 'Customer Tier Changed',
  detail: {
    id: 'a'.repeat(64),
    customerId: 'u1',
    from: null,
    to: 'bronze',
    revenue: { currency: 'USD', amount: '120.50' },
    at: '2025-03-01T10:03:00.000Z',
  },
};

/** Accepts every entry, as EventBridge answers when all went well. */
function acceptAll(input: PutEventsCommandInput) {
  return {
    FailedEntryCount: 0,
    Entries: (input.Entries ?? []).map((_, index) => ({ EventId: `e-${index}` })),
  };
}

/** Refuses the entries whose customer is in `refused`, with a throttling error. */
function refuse(refused: readonly string[]) {
  return (input: PutEventsCommandInput) => {
    const entries = (input.Entries ?? []).map((entry): PutEventsResultEntry => {
      const detail: unknown = JSON.parse(entry.Detail ?? '{}');
      const customerId =
        typeof detail === 'object' && detail !== null && 'customerId' in detail ? detail.customerId : '';
      return refused.includes(String(customerId))
        ? { ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' }
        : { EventId: `e-${String(customerId)}` };
    });
    return { FailedEntryCount: entries.filter((entry) => entry.ErrorCode).length, Entries: entries };
  };
}

function sentCustomers(call: number): string[] {
  const entries = eventBridge.commandCalls(PutEventsCommand)[call]?.args[0].input.Entries ?? [];
  return entries.map((entry) => (JSON.parse(entry.Detail ?? '{}') as { customerId: string }).customerId);
}

describe('publishLifecycleEvents', () => {
  it('puts each event on the bus with its source, detail-type, JSON detail and time', async () => {
    eventBridge.on(PutEventsCommand).callsFake(acceptAll);
    await publishLifecycleEvents([tierChanged]);
    expect(eventBridge).toHaveReceivedCommandExactlyOnceWith(PutEventsCommand, {
      Entries: [
        {
          Source: lifecycleSource,
          DetailType: 'Customer Tier Changed',
          Detail: JSON.stringify(tierChanged.detail),
          EventBusName: 'rapport-test-bus',
          Time: new Date('2025-03-01T10:03:00.000Z'),
        },
      ],
    });
    expect(lifecycleSource).toBe('rapport.engagement');
  });

  it('sends nothing when there is nothing to publish', async () => {
    eventBridge.on(PutEventsCommand).callsFake(acceptAll);
    await publishLifecycleEvents([]);
    expect(eventBridge).not.toHaveReceivedCommand(PutEventsCommand);
  });

  it('puts at most 10 entries per call, in order', async () => {
    eventBridge.on(PutEventsCommand).callsFake(acceptAll);
    const events = Array.from({ length: 23 }, (_, index) => ignored(index));
    await publishLifecycleEvents(events);
    expect(eventBridge).toHaveReceivedCommandTimes(PutEventsCommand, 3);
    const calls = [0, 1, 2].map(sentCustomers);
    expect(calls.map((customers) => customers.length)).toEqual([10, 10, 3]);
    expect(calls.flat()).toEqual(events.map((event) => event.detail.customerId));
  });

  it('retries only the entries that came back with an error code', async () => {
    eventBridge
      .on(PutEventsCommand)
      .callsFakeOnce(refuse(['u1', 'u3']))
      .callsFakeOnce(refuse(['u3']))
      .callsFake(acceptAll);
    await publishLifecycleEvents([ignored(0), ignored(1), ignored(2), ignored(3)]);
    expect(eventBridge).toHaveReceivedCommandTimes(PutEventsCommand, 3);
    expect([0, 1, 2].map(sentCustomers)).toEqual([['u0', 'u1', 'u2', 'u3'], ['u1', 'u3'], ['u3']]);
  });

  it('gives up after three attempts, naming how many were refused and why', async () => {
    eventBridge.on(PutEventsCommand).callsFake(refuse(['u1', 'u2']));
    await expect(publishLifecycleEvents([ignored(0), ignored(1), ignored(2)])).rejects.toThrow(
      'the bus refused 2 lifecycle events: Rate exceeded',
    );
    expect(eventBridge).toHaveReceivedCommandTimes(PutEventsCommand, 3);
    expect([1, 2].map(sentCustomers)).toEqual([
      ['u1', 'u2'],
      ['u1', 'u2'],
    ]);
  });

  it('does not go on to the next chunk when a chunk is refused', async () => {
    eventBridge.on(PutEventsCommand).callsFake(refuse(['u4']));
    const events = Array.from({ length: 15 }, (_, index) => ignored(index));
    await expect(publishLifecycleEvents(events)).rejects.toThrow(/refused 1 lifecycle events/);
    expect(eventBridge.commandCalls(PutEventsCommand).map((_, call) => sentCustomers(call))).toEqual([
      events.slice(0, 10).map((event) => event.detail.customerId),
      ['u4'],
      ['u4'],
    ]);
  });
});
