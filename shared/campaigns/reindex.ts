import { createHash } from 'node:crypto';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { indexChanges, indexItemsOf } from '../audience/indexes.ts';
import { dynamoClient } from '../clients/dynamodb.ts';
import { runtimeConfig } from '../config.ts';
import type { EngagementSettings } from '../engagement/settings.ts';
import { scanLiveProfiles, VersionConflictError, writeLiveProfile } from '../store/profiles.ts';
import type { Catalog } from './catalog.ts';

/**
 * Indexes kept on write cover the campaigns that existed when each customer last changed. When the
 * catalog's indexed campaigns change (a schedule campaign added, an audience edited, a date
 * campaign on a new field), every customer's index items are brought up to date once, here: the
 * one job that reads the whole table, run at deploy time, never on a schedule.
 */
export interface ReindexSummary {
  customers: number;
  changed: number;
  /** Changed meanwhile by ingest, whose write carried a fresh index anyway. */
  skipped: number;
}

export async function reindexProfiles(
  catalog: Catalog,
  settings: EngagementSettings,
  onProgress?: (summary: ReindexSummary) => void,
): Promise<ReindexSummary> {
  const summary: ReindexSummary = { customers: 0, changed: 0, skipped: 0 };
  await scanLiveProfiles(async (profiles) => {
    await Promise.all(
      profiles.map(async (profile) => {
        const index = indexItemsOf(profile.id, profile.state, catalog, settings);
        const changes = indexChanges(profile.indexed, index);
        if (changes.puts.length === 0 && changes.deletes.length === 0) return;
        try {
          const { kind: _kind, version, ...live } = profile;
          await writeLiveProfile({
            ...live,
            indexed: index,
            indexChanges: changes,
            expectedVersion: version,
          });
          summary.changed += 1;
        } catch (error) {
          if (!(error instanceof VersionConflictError)) throw error;
          summary.skipped += 1;
        }
      }),
    );
    summary.customers += profiles.length;
    onProgress?.({ ...summary });
  });
  await recordIndexedCatalog(catalog);
  return summary;
}

/** What the indexes depend on: the enabled schedule campaigns' audiences and the date campaigns' fields. */
export function indexFingerprint(catalog: Catalog): string {
  const indexed = catalog.campaigns
    .filter(
      (campaign) =>
        campaign.enabled && (campaign.trigger.kind === 'schedule' || campaign.trigger.kind === 'date'),
    )
    .map((campaign) => ({
      id: campaign.id,
      audience: campaign.trigger.kind === 'schedule' ? (campaign.audience ?? null) : null,
      field: campaign.trigger.kind === 'date' ? campaign.trigger.field : null,
    }))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return createHash('sha256').update(JSON.stringify(indexed)).digest('hex');
}

const indexedKey = { pk: 'catalog', sk: 'indexed' };

/** Whether the table's indexes were last built for this catalog. */
export async function indexesMatch(catalog: Catalog): Promise<boolean> {
  const result = await dynamoClient().send(
    new GetCommand({ TableName: runtimeConfig().RAPPORT_TABLE, Key: indexedKey, ConsistentRead: true }),
  );
  return result.Item?.fingerprint === indexFingerprint(catalog);
}

async function recordIndexedCatalog(catalog: Catalog): Promise<void> {
  await dynamoClient().send(
    new PutCommand({
      TableName: runtimeConfig().RAPPORT_TABLE,
      Item: { ...indexedKey, fingerprint: indexFingerprint(catalog) },
    }),
  );
}
