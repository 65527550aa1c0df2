import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { IngestEvent } from '#events/ingest-event.ts';
import type { ResolvedProfile } from '#shared/ingest/identity.ts';
import { partsOfBatch } from '#shared/ingest/ties.ts';
import { minutesAfterStart as at, page } from '../engagement/events.ts';

function visit(
  userId: string | undefined,
  anonymousId: string | undefined,
  index: number,
): { event: IngestEvent } {
  return { event: page(at(index), {}, { userId, anonymousId, messageId: `m-${index}` }) };
}

/** The ids each part names, as sets. */
function idsOfParts(parts: { event: IngestEvent }[][]): Set<string>[] {
  return parts.map(
    (part) =>
      new Set(
        part.flatMap(({ event }) => [event.userId, event.anonymousId].filter((id) => id !== undefined)),
      ),
  );
}

describe('partsOfBatch', () => {
  it('keeps events that share an id, or a profile as read, in one part', () => {
    const profiles = new Map<string, ResolvedProfile>([['a2', { id: 'u2' }]]);
    const batch = [
      visit('u1', undefined, 0),
      visit(undefined, 'a2', 1),
      visit('u1', 'a1', 2),
      visit('u2', undefined, 3),
      visit(undefined, 'a1', 4),
      visit('u3', undefined, 5),
    ];
    const parts = partsOfBatch(batch, profiles, 3);
    const together = (...indexes: number[]) =>
      new Set(indexes.map((index) => parts.findIndex((part) => part.includes(batch[index] as never))));
    expect(together(0, 2, 4).size).toBe(1);
    // a2 belongs to u2 as the batch read it.
    expect(together(1, 3).size).toBe(1);
    expect(parts).toHaveLength(3);
  });

  it('keeps every event once, in its order, and no id in two parts, whatever the batch', () => {
    const ids = fc.constantFrom('u1', 'u2', 'u3', 'u4', 'a1', 'a2', 'a3', 'a4', undefined);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(ids, ids), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 1, max: 6 }),
        (pairs, count) => {
          const batch = pairs
            .map(([userId, anonymousId], index) =>
              visit(userId, anonymousId ?? (userId ? undefined : 'a0'), index),
            )
            .filter(({ event }) => event.userId !== undefined || event.anonymousId !== undefined);
          const parts = partsOfBatch(batch, new Map(), count);
          expect(parts.length).toBeLessThanOrEqual(count);
          expect(parts.flat().sort((a, b) => a.event.messageId.localeCompare(b.event.messageId))).toEqual(
            [...batch].sort((a, b) => a.event.messageId.localeCompare(b.event.messageId)),
          );
          for (const part of parts) expect(part).toEqual(batch.filter((item) => part.includes(item)));
          const seen = idsOfParts(parts);
          for (const [index, part] of seen.entries()) {
            for (const other of seen.slice(index + 1))
              for (const id of part) expect(other.has(id)).toBe(false);
          }
        },
      ),
    );
  });
});
