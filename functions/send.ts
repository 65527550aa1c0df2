import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { sendRequest } from '#events/send-request.ts';
import { catalogFromConfig, signingSecret } from '#shared/campaigns/runtime-catalog.ts';
import { runtimeConfig } from '#shared/config.ts';
import { deliverSend } from '#shared/send/deliver.ts';
import { systemClock } from '#shared/send/pacing.ts';
import { engagementSettingsFromConfig } from '#shared/settings.ts';

/**
 * Send queue consumer: guards, renders and sends each request through SES. A request that cannot be
 * parsed, or whose send fails for a reason worth retrying, is reported as a batch item failure; the
 * queue redelivers it, and after its last receive it rests in the send DLQ.
 */
export const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
  const catalog = catalogFromConfig();
  const deps = {
    catalog,
    settings: engagementSettingsFromConfig(),
    secret: signingSecret(),
    maxSendRate: runtimeConfig().RAPPORT_SEND_PACING === 'off' ? undefined : catalog.sending.maxSendRate,
    clock: systemClock,
  };
  const failed: string[] = [];
  await Promise.all(
    event.Records.map(async (record) => {
      try {
        await deliverSend(sendRequest.parse(JSON.parse(record.body)), deps);
      } catch (error) {
        console.error('send request failed', { messageId: record.messageId, error: String(error) });
        failed.push(record.messageId);
      }
    }),
  );
  return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
};
