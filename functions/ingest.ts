import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { catalogFromConfig } from '#shared/campaigns/runtime-catalog.ts';
import { settleFailures } from '#shared/ingest/dead-letter.ts';
import { ingestBatch } from '#shared/ingest/ingest-batch.ts';
import { engagementSettingsFromConfig } from '#shared/settings.ts';

/**
 * Ingest queue consumer: timeline, engagement state, campaign indexes and triggers, with partial
 * batch failures.
 */
export const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
  const received = event.Records.map((record) => ({
    id: record.messageId,
    body: record.body,
    receiveCount: Number(record.attributes.ApproximateReceiveCount) || 1,
  }));
  const failures = await ingestBatch(received, engagementSettingsFromConfig(), catalogFromConfig());
  const retry = await settleFailures(failures, received);
  return { batchItemFailures: retry.map((itemIdentifier) => ({ itemIdentifier })) };
};
