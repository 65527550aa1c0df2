import { type IndexItem, indexItemsOf } from '#shared/audience/indexes.ts';
import type { Catalog } from '#shared/campaigns/catalog.ts';
import type { EngagementSettings } from '#shared/engagement/settings.ts';
import { batchPutItems } from '#shared/store/batch.ts';
import {
  emptyOutbox,
  type ProfileWrite,
  profileItem,
  writeLiveProfile,
  writeLiveProfiles,
} from '#shared/store/profiles.ts';
import { inPool } from './pool.ts';
import type { SyntheticCustomer } from './profiles.ts';

/**
 * Stored profiles for a bench, each with the campaign index items its state puts in the table
 * (indexItemsOf, as ingest computes them), written one of two ways:
 *
 * - `transactions`: through the store's own writeLiveProfiles, as ingest writes a new profile: the
 *   state on condition that it does not exist yet, with its index items, up to 25 items a transaction;
 * - `batch`: the same items with BatchWriteItem, 25 a request, unconditionally: half the write units
 *   of a transaction, and two to three times faster on DynamoDB Local, for seeding large tables.
 */
export type SeedMethod = 'transactions' | 'batch';

export const seedMethods: readonly SeedMethod[] = ['transactions', 'batch'];

/** Writes per writeLiveProfiles call or BatchWriteItem group; `concurrency` of them at a time. */
const groupSize = 25;

export async function seedProfiles(
  writes: readonly ProfileWrite[],
  options: { method: SeedMethod; concurrency: number },
): Promise<void> {
  const groups: ProfileWrite[][] = [];
  for (let start = 0; start < writes.length; start += groupSize) {
    groups.push(writes.slice(start, start + groupSize));
  }
  await inPool(groups, options.concurrency, async (group) => {
    if (options.method === 'batch') {
      await batchPutItems(group.flatMap(storedItems));
      return;
    }
    const { landed } = await writeLiveProfiles(group);
    // A fresh table refuses none; a write the transaction left out goes alone, as ingest does it.
    for (const write of group) if (!landed.has(write)) await writeLiveProfile(write);
  });
}

/** A new profile (version 0 expected) of one member, with its index items. */
export function profileWrite(
  customer: SyntheticCustomer,
  catalog: Catalog,
  settings: EngagementSettings,
): ProfileWrite {
  const indexed = indexItemsOf(customer.id, customer.state, catalog, settings);
  return {
    id: customer.id,
    members: [customer.id],
    foldedMembers: [customer.id],
    state: customer.state,
    outbox: emptyOutbox,
    indexed,
    indexChanges: { puts: indexed, deletes: [] },
    expectedVersion: 0,
  };
}

/**
 * The items writeLiveProfiles puts for a new profile (shared/store/profiles.ts): the profile at
 * version 1, and each index item with its attributes.
 */
export function storedItems(write: ProfileWrite): Record<string, unknown>[] {
  return [
    profileItem(write),
    ...write.indexed.map((item: IndexItem) => ({ ...item.attributes, pk: item.pk, sk: item.sk })),
  ];
}
