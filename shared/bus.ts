import { PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { LifecycleEvent } from '#events/lifecycle.ts';
import { lifecycleSource } from '#events/lifecycle.ts';
import { eventBridgeClient } from './clients/eventbridge.ts';
import { runtimeConfig } from './config.ts';

/**
 * Publishes lifecycle events on the bus (EventBridge on AWS, the local bus locally). Delivery is at
 * least once: each event carries a deterministic `id` in its detail for subscribers to de-duplicate.
 */
const entriesPerCall = 10;
const attempts = 3;

export async function publishLifecycleEvents(events: readonly LifecycleEvent[]): Promise<void> {
  const entries = events.map(
    (event): PutEventsRequestEntry => ({
      Source: lifecycleSource,
      DetailType: event.detailType,
      Detail: JSON.stringify(event.detail),
      EventBusName: runtimeConfig().RAPPORT_BUS_NAME,
      Time: new Date(event.detail.at),
    }),
  );
  for (let start = 0; start < entries.length; start += entriesPerCall) {
    await putWithRetry(entries.slice(start, start + entriesPerCall));
  }
}

async function putWithRetry(entries: PutEventsRequestEntry[]): Promise<void> {
  let pending = entries;
  for (let attempt = 1; pending.length > 0; attempt++) {
    const result = await eventBridgeClient().send(new PutEventsCommand({ Entries: pending }));
    const failed = pending.filter((_, index) => result.Entries?.[index]?.ErrorCode);
    if (failed.length > 0 && attempt >= attempts) {
      const reason = result.Entries?.find((entry) => entry.ErrorCode)?.ErrorMessage ?? 'unknown error';
      throw new Error(`the bus refused ${failed.length} lifecycle events: ${reason}`);
    }
    pending = failed;
    if (pending.length > 0) await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
  }
}
