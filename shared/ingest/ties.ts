import type { IngestEvent } from '#events/ingest-event.ts';
import type { ResolvedProfile } from './identity.ts';

/**
 * Which events of a batch concern the same customers: events are tied when they name a common id,
 * or ids of a common profile as the batch read it. Identity links only ever join tied ids, so events
 * that are not tied can be ingested apart, side by side, without meeting on a profile.
 */

/** The id an event is filed under: the customer's, else the visitor's. */
export function primaryId(event: IngestEvent): string {
  return event.userId ?? event.anonymousId ?? '';
}

/** Every id an event names. */
export function idsOf(event: IngestEvent): string[] {
  return [event.userId, event.anonymousId, event.previousId].filter((id): id is string => Boolean(id));
}

export function tieEvents(
  items: readonly { event: IngestEvent }[],
  profiles: ReadonlyMap<string, ResolvedProfile>,
): Ties {
  const ties = new Ties();
  for (const { event } of items) {
    const ids = idsOf(event);
    ties.tie([...ids, ...ids.map((id) => profiles.get(id)?.id ?? id)]);
  }
  return ties;
}

/**
 * The items in at most `parts` parts of about equal size, such that tied items are always in the
 * same part. The order of the items is kept within each part.
 */
export function partsOfBatch<Item extends { event: IngestEvent }>(
  items: readonly Item[],
  profiles: ReadonlyMap<string, ResolvedProfile>,
  parts: number,
): Item[][] {
  if (parts <= 1) return items.length > 0 ? [[...items]] : [];
  const ties = tieEvents(items, profiles);
  const sizes = new Map<string, number>();
  for (const { event } of items) {
    const group = ties.groupOf(primaryId(event));
    sizes.set(group, (sizes.get(group) ?? 0) + 1);
  }
  // The largest groups first, each into the part that holds the fewest items so far.
  const loads = Array.from({ length: Math.max(1, parts) }, () => 0);
  const partOf = new Map<string, number>();
  for (const [group, size] of [...sizes].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))) {
    const part = loads.indexOf(Math.min(...loads));
    partOf.set(group, part);
    loads[part] = (loads[part] ?? 0) + size;
  }
  const result: Item[][] = loads.map(() => []);
  for (const item of items) result[partOf.get(ties.groupOf(primaryId(item.event))) ?? 0]?.push(item);
  return result.filter((part) => part.length > 0);
}

/** Groups of ids tied together, directly or through others (a disjoint-set forest). */
export class Ties {
  private readonly parent = new Map<string, string>();

  tie(ids: readonly string[]): void {
    const [first, ...rest] = ids;
    if (first === undefined) return;
    const root = this.groupOf(first);
    for (const id of rest) {
      const other = this.groupOf(id);
      if (other !== root) this.parent.set(other, root);
    }
  }

  /** The group's representative id. */
  groupOf(id: string): string {
    let root = id;
    for (let up = this.parent.get(root); up !== undefined && up !== root; up = this.parent.get(root)) {
      root = up;
    }
    // Point the path at the root, so that later lookups are short.
    for (let at = id, up = this.parent.get(at); up !== undefined && up !== root; up = this.parent.get(at)) {
      this.parent.set(at, root);
      at = up;
    }
    return root;
  }
}
