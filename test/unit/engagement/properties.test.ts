import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { IngestEvent } from '#events/ingest-event.ts';
import { defaultEngagementSettings } from '#shared/engagement/settings.ts';
import {
  compareEvents,
  type EngagementState,
  emptyState,
  foldEvent,
  foldEvents,
  sortsAfterWatermark,
} from '#shared/engagement/state.ts';
import { maxViewedInterests, viewCustomer } from '#shared/engagement/view.ts';
import { toMinor } from '#shared/money.ts';
import { delivered, history } from './arbitraries.ts';
import { stored } from './stored.ts';

const settings = defaultEngagementSettings;

function foldIncrementally(state: EngagementState, events: readonly IngestEvent[]): EngagementState {
  return events.reduce((current, event) => {
    expect(sortsAfterWatermark(current, event)).toBe(true);
    return stored(foldEvent(current, event, settings));
  }, state);
}

const sorted = (events: readonly IngestEvent[]) => [...events].sort(compareEvents);

describe('engagement state does not depend on delivery', () => {
  test('any order and any duplication of the same events give the same state', () => {
    fc.assert(
      fc.property(
        history.chain((events) => fc.tuple(fc.constant(events), delivered(events), delivered(events))),
        ([events, once, again]) => {
          const truth = foldEvents('u1', events, settings);
          expect(foldEvents('u1', once, settings)).toStrictEqual(truth);
          expect(foldEvents('u1', again, settings)).toStrictEqual(truth);
        },
      ),
    );
  });

  test('folding each event in order on top of the stored state equals the replay', () => {
    fc.assert(
      fc.property(history, (events) => {
        const truth = foldEvents('u1', events, settings);
        expect(foldIncrementally(emptyState('u1'), sorted(events))).toStrictEqual(truth);
      }),
    );
  });

  test('a replayed prefix, stored, then the rest folded on top, equals the replay', () => {
    const split = history.chain((events) =>
      fc.tuple(fc.constant(sorted(events)), fc.nat({ max: events.length })),
    );
    fc.assert(
      fc.property(split, ([events, at]) => {
        const prefix = stored(foldEvents('u1', events.slice(0, at), settings));
        const truth = foldEvents('u1', events, settings);
        expect(foldIncrementally(prefix, events.slice(at))).toStrictEqual(truth);
      }),
    );
  });

  test('the view agrees with the state it shows', () => {
    const moment = fc
      .integer({ min: 0, max: 200 * 86_400_000 })
      .map((offset) => new Date(Date.UTC(2025, 2, 1) + offset));
    fc.assert(
      fc.property(history, moment, (events, now) => {
        const state = foldEvents('u1', events, settings);
        const view = viewCustomer(state, now, settings);
        for (const [currency, text] of Object.entries(view.orders.revenue)) {
          const net = state.orders.ledger
            .filter(([, , entryCurrency]) => entryCurrency === currency)
            .reduce((sum, [, entryNet]) => sum + entryNet, 0);
          expect(toMinor(text, currency)).toBe(net);
        }
        const itemsValue = state.cart.items.reduce((sum, item) => sum + (item.price ?? 0) * item.quantity, 0);
        expect(state.cart.value).toBe(itemsValue);
        expect(state.cart.status === 'open').toBe(state.cart.items.length > 0);
        const scores = view.interests.map((interest) => interest.score);
        expect(scores).toEqual([...scores].sort((a, b) => b - a));
        expect(view.interests.length).toBeLessThanOrEqual(maxViewedInterests);
        expect(state.orders.count).toBe(state.orders.ledger.length);
        expect(JSON.parse(JSON.stringify(view))).toStrictEqual(view);
      }),
    );
  });
});
