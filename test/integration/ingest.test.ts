import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type IngestEvent, ingestEvent } from '#events/ingest-event.ts';
import { readTimeline } from '#shared/customers/read-customer.ts';
import { defaultEngagementSettings } from '#shared/engagement/settings.ts';
import { foldEvents } from '#shared/engagement/state.ts';
import { ingestBatch } from '#shared/ingest/ingest-batch.ts';
import { getProfile } from '#shared/store/profiles.ts';
import { delivered, history } from '../unit/engagement/arbitraries.ts';
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

describe('ingest of a shuffled, duplicated delivery', () => {
  it('stores exactly the replayed state and each event once on the timeline', async () => {
    await fc.assert(
      fc.asyncProperty(
        history.chain((events) =>
          fc.record({
            events: fc.constant(events),
            arrival: delivered(events),
            cuts: fc.array(fc.integer({ min: 1, max: 10 }), { maxLength: 40 }),
            parallel: fc.boolean(),
          }),
        ),
        async ({ events, arrival, cuts, parallel }) => {
          runs += 1;
          const prefix = `run${runs}-`;
          const customerId = `${prefix}u1`;
          const unique = namespaced(events, prefix);
          await deliver(namespaced(arrival, prefix), cuts, parallel);

          const profile = await getProfile(customerId);
          if (unique.length === 0) {
            expect(profile).toBeUndefined();
            return;
          }
          expect(profile?.kind).toBe('live');
          if (profile?.kind !== 'live') return;
          expect(profile.state).toEqual(foldEvents(customerId, unique, settings));

          const timeline = await readTimeline(customerId, { limit: 500 });
          const byId = (a: IngestEvent, b: IngestEvent) => a.messageId.localeCompare(b.messageId);
          expect(timeline.items.sort(byId)).toEqual([...unique].sort(byId));
        },
      ),
      { numRuns: 30 },
    );
  }, 300_000);
});
