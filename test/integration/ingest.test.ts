import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type IngestEvent, ingestEvent } from '#events/ingest-event.ts';
import { readTimeline } from '#shared/customers/read-customer.ts';
import { defaultEngagementSettings } from '#shared/engagement/settings.ts';
import { foldEvents } from '#shared/engagement/state.ts';
import { ingestBatch } from '#shared/ingest/ingest-batch.ts';
import { getProfile } from '#shared/store/profiles.ts';
import { delivered, history } from '../unit/engagement/arbitraries.ts';
import { identify, minutesAfterStart, page, track } from '../unit/engagement/events.ts';
import { useEmulators } from './support.ts';

/**
 * Ingest against DynamoDB Local: whatever order the queue delivers events in, however often, and in
 * whatever batches (some processed at the same time), the stored state is exactly the replay of the
 * customer's unique events and the timeline holds each event once.
 */
useEmulators();

const settings = defaultEngagementSettings;
let runs = 0;

/**
 * The events as the queue carries them (JSON), with the history's ids under a prefix of this run's
 * own, so that runs share the table but no data.
 */
function namespaced(events: IngestEvent[], prefix: string): IngestEvent[] {
  return events.map((event) =>
    ingestEvent.parse(
      JSON.parse(
        JSON.stringify({
          ...event,
          ...(event.userId ? { userId: `${prefix}${event.userId}` } : {}),
          ...(event.anonymousId ? { anonymousId: `${prefix}${event.anonymousId}` } : {}),
        }),
      ),
    ),
  );
}

async function deliver(events: IngestEvent[], cuts: number[], parallel: boolean): Promise<void> {
  const batches: IngestEvent[][] = [];
  let rest = events;
  for (const cut of cuts) {
    if (rest.length === 0) break;
    batches.push(rest.slice(0, cut));
    rest = rest.slice(cut);
  }
  if (rest.length > 0) batches.push(rest);
  const toRecords = (batch: IngestEvent[]) =>
    batch.map((event, index) => ({ id: `${event.messageId}#${index}`, body: JSON.stringify(event) }));
  for (let index = 0; index < batches.length; index += parallel ? 2 : 1) {
    const round = batches.slice(index, index + (parallel ? 2 : 1));
    const failures = await Promise.all(round.map((batch) => ingestBatch(toRecords(batch), settings)));
    expect(failures.flat()).toEqual([]);
  }
}

/** The events in any order, some of them delivered more than once, exactly as they were. */
function redelivered(events: IngestEvent[]): fc.Arbitrary<IngestEvent[]> {
  if (events.length === 0) return fc.constant([]);
  return fc.array(fc.nat({ max: events.length - 1 }), { maxLength: events.length }).chain((again) => {
    const all = [...events, ...again.flatMap((index) => events.slice(index, index + 1))];
    return fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length });
  });
}

const byMessageId = (a: IngestEvent, b: IngestEvent) => a.messageId.localeCompare(b.messageId);

interface Delivery {
  events: IngestEvent[];
  arrival: IngestEvent[];
  cuts: number[];
  parallel: boolean;
}

function delivery(arrival: (events: IngestEvent[]) => fc.Arbitrary<IngestEvent[]>): fc.Arbitrary<Delivery> {
  return history.chain((events) =>
    fc.record({
      events: fc.constant(events),
      arrival: arrival(events),
      cuts: fc.array(fc.integer({ min: 1, max: 10 }), { maxLength: 40 }),
      parallel: fc.boolean(),
    }),
  );
}

/** Delivers a generated history under ids of its own; returns the customer's id and unique events. */
async function ingestDelivery({ events, arrival, cuts, parallel }: Delivery) {
  runs += 1;
  const prefix = `run${runs}-`;
  await deliver(namespaced(arrival, prefix), cuts, parallel);
  return { customerId: `${prefix}u1`, unique: namespaced(events, prefix), prefix };
}

describe('ingest of a shuffled, duplicated delivery', () => {
  it('stores exactly the replayed state and each event once, whatever the order, batches and concurrency', async () => {
    await fc.assert(
      fc.asyncProperty(delivery(redelivered), async (generated) => {
        const { customerId, unique } = await ingestDelivery(generated);
        const profile = await getProfile(customerId);
        if (unique.length === 0) {
          expect(profile).toBeUndefined();
          return;
        }
        expect(profile?.kind === 'live' && profile.state).toEqual(foldEvents(customerId, unique, settings));
        const timeline = await readTimeline(customerId, { limit: 500 });
        expect(timeline.items.sort(byMessageId)).toEqual([...unique].sort(byMessageId));
      }),
      { numRuns: 30 },
    );
  }, 300_000);

  it('counts a client retry stamped later exactly once, keeping the earlier copy unless both race', async () => {
    await fc.assert(
      fc.asyncProperty(delivery(delivered), async (generated) => {
        const { customerId, unique, prefix } = await ingestDelivery(generated);
        if (unique.length === 0) return;
        const timeline = (await readTimeline(customerId, { limit: 500 })).items.sort(byMessageId);
        const copies = namespaced(generated.arrival, prefix);
        expect(timeline.map((event) => event.messageId)).toEqual(
          unique.map((event) => event.messageId).sort(),
        );
        for (const item of timeline) expect(copies).toContainEqual(item);
        const profile = await getProfile(customerId);
        expect(profile?.kind === 'live' && profile.state).toEqual(foldEvents(customerId, timeline, settings));
        if (!generated.parallel) {
          expect(timeline).toEqual([...unique].sort(byMessageId));
        }
      }),
      { numRuns: 30 },
    );
  }, 300_000);
});

describe('ingest of a large batch', () => {
  it('gives every customer the replayed state when the batch goes in parts side by side', async () => {
    // 200 visitors who sign up, 11 events each: more than one part's worth of events in one batch.
    const journeys = Array.from({ length: 200 }, (_, customer) => {
      const userId = `large-u${customer}`;
      const anonymousId = `large-a${customer}`;
      return {
        userId,
        events: [
          page(
            minutesAfterStart(customer),
            {},
            { userId: undefined, anonymousId, messageId: `large-${customer}-0` },
          ),
          identify(
            minutesAfterStart(customer + 1),
            { email: `${userId}@shop.example` },
            { userId, anonymousId, messageId: `large-${customer}-1` },
          ),
          ...Array.from({ length: 9 }, (_, step) =>
            track(
              'Product Viewed',
              minutesAfterStart(customer + 2 + step),
              { product_id: `p${step}`, category: 'Paint' },
              { userId, anonymousId, messageId: `large-${customer}-${step + 2}` },
            ),
          ),
        ],
      };
    });
    // Interleaved, as a queue batch holds them.
    const events = journeys
      .flatMap(({ events }) => events)
      .sort((a, b) => a.timestamp.localeCompare(b.timestamp) || a.messageId.localeCompare(b.messageId));
    const failures = await ingestBatch(
      events.map((event) => ({ id: event.messageId, body: JSON.stringify(event) })),
      settings,
    );
    expect(failures).toEqual([]);
    for (const { userId, events: own } of journeys) {
      const profile = await getProfile(userId);
      expect(profile?.kind === 'live' && profile.state).toEqual(foldEvents(userId, own, settings));
    }
  }, 120_000);
});
