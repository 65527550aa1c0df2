import type { SendRequest } from '#events/send-request.ts';
import { runtimeConfig } from '../config.ts';
import { queueBody, sendToQueue } from '../queue.ts';
import { armTimer } from '../store/timers.ts';
import type { CampaignTrigger } from './triggers.ts';

/** Acts on campaign triggers: sends go on the send queue, timers are armed. Safe to repeat. */
export async function dispatchTriggers(triggers: readonly CampaignTrigger[]): Promise<void> {
  if (triggers.length === 0) return;
  const sends = triggers.flatMap((trigger) => (trigger.kind === 'send' ? [trigger.request] : []));
  await Promise.all([
    enqueueSends(sends),
    ...triggers.flatMap((trigger) => (trigger.kind === 'arm' ? [armTimer(trigger)] : [])),
  ]);
}

/** Puts send requests on the send queue; throws unless every one is there. */
export async function enqueueSends(requests: readonly SendRequest[]): Promise<void> {
  if (requests.length === 0) return;
  const queueUrl = runtimeConfig().RAPPORT_SEND_QUEUE_URL;
  if (queueUrl === undefined) throw new Error('RAPPORT_SEND_QUEUE_URL is not set for this function');
  const unsent = await sendToQueue(
    queueUrl,
    requests.map((request) => ({
      body: queueBody(request),
      messageId: `${request.campaignId}:${request.customerId}:${request.occurrence}`,
    })),
  );
  if (unsent > 0) throw new Error(`the send queue did not take ${unsent} of ${requests.length} sends`);
}
