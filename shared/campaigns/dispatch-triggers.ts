import type { SendRequest } from '#events/send-request.ts';
import { runtimeConfig } from '../config.ts';
import { queueBody, sendToQueue } from '../queue.ts';
import { armTimer } from '../store/timers.ts';
import type { CampaignTrigger, TimerArm, TimerArms } from './triggers.ts';

/** Acts on campaign triggers: sends go on the send queue, timers are armed. Safe to repeat. */
export async function dispatchTriggers(triggers: readonly CampaignTrigger[]): Promise<void> {
  if (triggers.length === 0) return;
  const sends = triggers.flatMap((trigger) => (trigger.kind === 'send' ? [trigger.request] : []));
  const arms = triggers.flatMap((trigger) => (trigger.kind === 'arm' ? [trigger] : []));
  await Promise.all([enqueueSends(sends), ...coalesceArms(arms).map(armTimer)]);
}

/**
 * One arm per timer: several starts of the same timer in a batch (a visitor viewing three products
 * of a category) make one write, carrying every start and the latest due time.
 */
export function coalesceArms(arms: readonly TimerArm[]): TimerArms[] {
  const timers = new Map<string, TimerArms>();
  for (const arm of arms) {
    const key = `${arm.campaignId}\u0000${arm.profileId}\u0000${arm.key}`;
    const held = timers.get(key);
    if (!held) {
      const { messageId, ...rest } = arm;
      timers.set(key, { ...rest, messageIds: [messageId] });
      continue;
    }
    if (!held.messageIds.includes(arm.messageId)) held.messageIds.push(arm.messageId);
    if (arm.dueAt > held.dueAt)
      Object.assign(held, { dueAt: arm.dueAt, startAt: arm.startAt, trigger: arm.trigger });
  }
  return [...timers.values()];
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
