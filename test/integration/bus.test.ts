import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BusEvent, type LocalBus, startLocalBus } from '#infra/local/bus.ts';

/** The local bus, driven by the real EventBridge client. */
let bus: LocalBus;
let client: EventBridgeClient;
const errors: string[] = [];

beforeAll(async () => {
  bus = await startLocalBus({ capacity: 3, logError: (line) => errors.push(line) });
  client = new EventBridgeClient({
    region: 'us-east-1',
    endpoint: bus.endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
});

afterAll(async () => {
  client.destroy();
  await bus.close();
});

describe('the local bus', () => {
  it('answers PutEvents and routes each entry to the subscribers of its source and detail-type', async () => {
    const tierChanged: BusEvent[] = [];
    const cartAbandoned: BusEvent[] = [];
    const unsubscribe = bus.subscribe({ source: 'rapport', detailType: 'Tier Changed' }, (event) => {
      tierChanged.push(event);
    });
    bus.subscribe({ source: 'rapport', detailType: 'Cart Abandoned' }, (event) => {
      cartAbandoned.push(event);
    });

    const result = await client.send(
      new PutEventsCommand({
        Entries: [
          {
            Source: 'rapport',
            DetailType: 'Tier Changed',
            Detail: JSON.stringify({ customerId: 'ada', tier: 'vip' }),
            EventBusName: 'rapport',
            Time: new Date('2026-11-02T10:00:00.000Z'),
            Resources: ['customer/ada'],
          },
          { Source: 'other', DetailType: 'Tier Changed', Detail: '{}', EventBusName: 'rapport' },
        ],
      }),
    );
    await bus.settled();

    expect(result.FailedEntryCount).toBe(0);
    expect(result.Entries).toHaveLength(2);
    expect(result.Entries?.every((entry) => typeof entry.EventId === 'string')).toBe(true);
    expect(tierChanged).toEqual([
      {
        version: '0',
        id: result.Entries?.[0]?.EventId,
        'detail-type': 'Tier Changed',
        source: 'rapport',
        account: '000000000000',
        time: '2026-11-02T10:00:00Z',
        region: 'us-east-1',
        resources: ['customer/ada'],
        detail: { customerId: 'ada', tier: 'vip' },
      },
    ]);
    expect(cartAbandoned).toEqual([]);

    unsubscribe();
    await client.send(
      new PutEventsCommand({ Entries: [{ Source: 'rapport', DetailType: 'Tier Changed', Detail: '{}' }] }),
    );
    await bus.settled();
    expect(tierChanged).toHaveLength(1);
  });

  it('reports malformed entries per entry and keeps the valid ones', async () => {
    const result = await client.send(
      new PutEventsCommand({
        Entries: [
          { Source: 'rapport', DetailType: 'Milestone Reached', Detail: 'not json' },
          { Source: 'rapport', DetailType: 'Milestone Reached', Detail: '{"n":1}' },
        ],
      }),
    );
    expect(result.FailedEntryCount).toBe(1);
    expect(result.Entries?.[0]).toMatchObject({ ErrorCode: 'MalformedDetail' });
    expect(result.Entries?.[1]?.EventId).toEqual(expect.any(String));
  });

  it('refuses more than 10 entries in one call, as EventBridge does', async () => {
    const entries = Array.from({ length: 11 }, () => ({ Source: 'rapport', DetailType: 'x', Detail: '{}' }));
    await expect(client.send(new PutEventsCommand({ Entries: entries }))).rejects.toMatchObject({
      name: 'ValidationException',
    });
  });

  it('keeps only the latest events and lists them at GET /events, filtered by source and detail type', async () => {
    for (const n of [1, 2, 3, 4]) {
      await client.send(
        new PutEventsCommand({
          Entries: [
            {
              Source: 'rapport',
              DetailType: 'Counted',
              Detail: JSON.stringify({ n }),
              EventBusName: 'rapport',
            },
          ],
        }),
      );
    }
    expect(bus.events().map((event) => event.detail)).toEqual([{ n: 2 }, { n: 3 }, { n: 4 }]);

    const listed = (await (await fetch(`${bus.endpoint}/events?detailType=Counted`)).json()) as {
      events: { eventBusName: string; detail: unknown }[];
    };
    expect(listed.events.map((event) => [event.eventBusName, event.detail])).toEqual([
      ['rapport', { n: 2 }],
      ['rapport', { n: 3 }],
      ['rapport', { n: 4 }],
    ]);
    const none = (await (await fetch(`${bus.endpoint}/events?source=nobody`)).json()) as {
      events: unknown[];
    };
    expect(none.events).toEqual([]);
  });

  it('logs a failing subscriber without failing the publisher', async () => {
    bus.subscribe({ source: 'rapport', detailType: 'Broken' }, () => {
      throw new Error('subscriber broke');
    });
    const result = await client.send(
      new PutEventsCommand({ Entries: [{ Source: 'rapport', DetailType: 'Broken', Detail: '{}' }] }),
    );
    await bus.settled();
    expect(result.FailedEntryCount).toBe(0);
    expect(errors.join('\n')).toContain('subscriber broke');
  });
});
