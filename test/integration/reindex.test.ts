import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import type { IngestEvent } from '#events/ingest-event.ts';
import { type Catalog, noCampaigns, parseCatalog } from '#shared/campaigns/catalog.ts';
import { indexesMatch, reindexProfiles } from '#shared/campaigns/reindex.ts';
import { dynamoClient } from '#shared/clients/dynamodb.ts';
import { runtimeConfig } from '#shared/config.ts';
import { defaultEngagementSettings } from '#shared/engagement/settings.ts';
import { ingestBatch } from '#shared/ingest/ingest-batch.ts';
import { getProfile } from '#shared/store/profiles.ts';
import { shardOf } from '#shared/store/shard.ts';
import { indexShards, membershipPartition } from '#shared/store/table.ts';
import { useEmulators } from './support.ts';

/**
 * A schedule campaign added to a deployment with customers: indexing them once puts every member
 * in its index, and nothing else, and a second run has nothing to do.
 */
useEmulators();

const settings = defaultEngagementSettings;

function identify(userId: string, subscribed: boolean): IngestEvent {
  return {
    messageId: `identify-${userId}`,
    type: 'identify',
    userId,
    traits: { email: `${userId}@example.com`, subscribed },
    timestamp: '2026-11-02T10:00:00.000Z',
    receivedAt: '2026-11-02T10:00:01.000Z',
    source: 'test',
  };
}

function newsletterCatalog(): Catalog {
  return parseCatalog(
    {
      campaigns: [
        {
          file: 'campaigns/newsletter.yaml',
          document: {
            id: 'newsletter',
            name: 'Newsletter',
            trigger: { kind: 'schedule', expression: 'cron(0 9 ? * MON *)' },
            audience: { subscribed: true },
            message: { subject: 'News', template: 'news' },
          },
        },
      ],
      segments: [],
      templates: { 'news.html.liquid': '<p>news</p>', 'news.txt.liquid': 'news' },
      sending: {
        from: 'Shop <shop@shop.example>',
        linkBaseUrl: 'https://api.shop.example',
        unsubscribeMailbox: 'unsubscribe@shop.example',
      },
      sendingFile: 'rapport.config.yaml',
    },
    settings,
  );
}

async function members(campaignId: string): Promise<string[]> {
  const ids: string[] = [];
  for (let shard = 0; shard < indexShards; shard++) {
    const page = await dynamoClient().send(
      new QueryCommand({
        TableName: runtimeConfig().RAPPORT_TABLE,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': membershipPartition(campaignId, shard) },
      }),
    );
    ids.push(...(page.Items ?? []).map((item) => String(item.customerId)));
  }
  return ids.sort();
}

describe('reindexProfiles', () => {
  it('indexes the customers stored before the campaign existed, once', async () => {
    const records = [identify('reader', true), identify('lurker', false)].map((event) => ({
      id: event.messageId,
      body: JSON.stringify(event),
    }));
    expect(await ingestBatch(records, settings, noCampaigns)).toEqual([]);
    const catalog = newsletterCatalog();
    expect(await members('newsletter')).toEqual([]);
    expect(await indexesMatch(catalog)).toBe(false);

    const first = await reindexProfiles(catalog, settings);
    expect(first).toEqual({ customers: 2, changed: 1, skipped: 0 });
    expect(await members('newsletter')).toEqual(['reader']);
    expect((await getProfile('reader'))?.kind === 'live' && (await getProfile('reader'))).toMatchObject({
      version: 2,
      indexed: [{ pk: membershipPartition('newsletter', shardOf('reader', indexShards)), sk: 'reader' }],
    });
    expect(await indexesMatch(catalog)).toBe(true);

    expect(await reindexProfiles(catalog, settings)).toEqual({ customers: 2, changed: 0, skipped: 0 });
  });

  it('takes a customer out of the index when the campaign goes', async () => {
    expect(await reindexProfiles(noCampaigns, settings)).toMatchObject({ changed: 1 });
    expect(await members('newsletter')).toEqual([]);
  });
});
