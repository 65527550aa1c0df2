import type { IngestEvent } from '#events/ingest-event.ts';
import { inParallel } from '../in-parallel.ts';
import { type Merge, writeMerges } from '../store/profiles.ts';
import { mergeProfiles, planMerge, type ResolvedProfile } from './identity.ts';
import { idsOf, primaryId, tieEvents } from './ties.ts';

/**
 * The identity links of a queue batch: alias merges two customers, and an event that carries both a
 * userId and an anonymousId links a visitor to a customer.
 *
 * Events are tied together when they share an id or a profile (see ties.ts). Tied links are made in
 * the order of their events, so that on a shared device the first customer keeps the visitor, as one
 * by one; untied links are made at once.
 */
export interface LinkedBatch<Item> {
  /** The items whose links held or that needed none; the others went to `fail`. */
  linked: Item[];
  /** The ids whose profiles a link may have changed: read them again before folding. */
  changed: string[];
}

const linkConcurrency = 8;

export async function applyLinks<Item extends { event: IngestEvent }>(
  items: readonly Item[],
  profiles: ReadonlyMap<string, ResolvedProfile>,
  fail: (items: readonly Item[], error: unknown) => void,
): Promise<LinkedBatch<Item>> {
  const ties = tieEvents(items, profiles);
  const withLinks = new Map<string, { item: Item; link: Link }[]>();
  const linked = new Set<Item>();
  for (const item of items) {
    const link = identityLink(item.event, profiles);
    if (!link) {
      linked.add(item);
      continue;
    }
    const group = ties.groupOf(primaryId(item.event));
    withLinks.set(group, [...(withLinks.get(group) ?? []), { item, link }]);
  }
  const made = await firstLinks([...withLinks.values()], profiles);
  await inParallel([...withLinks.values()], linkConcurrency, async (links) => {
    for (const item of await linkInOrder(links, profiles, made, fail)) linked.add(item);
  });
  const changedGroups = new Set(withLinks.keys());
  const changed = [...new Set(items.flatMap(({ event }) => idsOf(event)))].filter((id) =>
    changedGroups.has(ties.groupOf(id)),
  );
  return { linked: items.filter((item) => linked.has(item)), changed };
}

/**
 * The first link of every group, planned from the batch's reads and written together in shared
 * transactions: most groups have one link (a visitor signing up), and this makes them a few requests
 * instead of one each. Returns what became of each: made (or found needless), or refused, which its
 * group then makes again from fresh reads. A link whose plan failed is not in the result.
 */
async function firstLinks<Item>(
  groups: readonly (readonly { item: Item; link: Link }[])[],
  profiles: ReadonlyMap<string, ResolvedProfile>,
): Promise<Map<Link, 'made' | 'refused'>> {
  const planned = new Map<Link, Merge | undefined>();
  await inParallel(groups, linkConcurrency, async ([first]) => {
    if (!first) return;
    const { fromId, intoId, onlyIfUnlinked } = first.link;
    const known = (id: string) => profiles.get(id) ?? { id };
    try {
      planned.set(first.link, await planMerge(fromId, known(fromId), known(intoId), { onlyIfUnlinked }));
    } catch {
      // Its group tries again, and fails its event if it fails again.
    }
  });
  const merges = [...planned.values()].filter((merge): merge is Merge => merge !== undefined);
  const landed = merges.length > 0 ? await writeMerges(merges).catch(() => new Set<Merge>()) : new Set();
  return new Map(
    [...planned].map(([link, merge]) => [link, !merge || landed.has(merge) ? 'made' : 'refused'] as const),
  );
}

/** Makes a group's links one after another; a link already made is not made again. */
async function linkInOrder<Item>(
  links: readonly { item: Item; link: Link }[],
  profiles: ReadonlyMap<string, ResolvedProfile>,
  first: ReadonlyMap<Link, 'made' | 'refused'>,
  fail: (items: readonly Item[], error: unknown) => void,
): Promise<Item[]> {
  const done = new Set<string>();
  const linked: Item[] = [];
  for (const { item, link } of links) {
    try {
      if (first.get(link) === 'made') done.add(link.key);
      if (!done.has(link.key)) {
        // The batch's reads are out of date for a link that was refused.
        const known = first.get(link) === 'refused' ? undefined : profiles;
        await mergeProfiles(link.fromId, link.intoId, known, { onlyIfUnlinked: link.onlyIfUnlinked });
        done.add(link.key);
      }
      linked.push(item);
    } catch (error) {
      fail([item], error);
    }
  }
  return linked;
}

/** A merge an event asks for: `fromId`'s profile into `intoId`'s. */
interface Link {
  key: string;
  fromId: string;
  intoId: string;
  /** Only while `fromId` belongs to no one else (a visitor joins the first customer it signs in as). */
  onlyIfUnlinked: boolean;
}

/** The link an event makes and that is not made yet, as of the profiles read. */
function identityLink(event: IngestEvent, profiles: ReadonlyMap<string, ResolvedProfile>): Link | undefined {
  const { userId, anonymousId, previousId } = event;
  const profileOf = (id: string) => profiles.get(id)?.id ?? id;
  if (event.type === 'alias' && previousId && userId) {
    if (profileOf(previousId) === profileOf(userId)) return undefined;
    return {
      key: `alias:${previousId}:${userId}`,
      fromId: previousId,
      intoId: userId,
      onlyIfUnlinked: false,
    };
  }
  if (userId && anonymousId && userId !== anonymousId) {
    if (profileOf(anonymousId) !== anonymousId || profileOf(userId) === anonymousId) return undefined;
    return {
      key: `anon:${anonymousId}:${userId}`,
      fromId: anonymousId,
      intoId: userId,
      onlyIfUnlinked: true,
    };
  }
  return undefined;
}
