import type { EventBridgeEvent } from 'aws-lambda';
import { type LifecycleEvent, lifecycleContracts } from '#events/lifecycle.ts';
import { enqueueSends } from '#shared/campaigns/dispatch-triggers.ts';
import { catalogFromConfig } from '#shared/campaigns/runtime-catalog.ts';
import { lifecycleTriggers } from '#shared/campaigns/triggers.ts';

/**
 * A lifecycle event from the bus (tier changed, threshold crossed ...): the `event` campaigns it
 * triggers go on the send queue, under the event's id as occurrence, so a redelivery sends nothing twice.
 */
export const handler = async (event: EventBridgeEvent<string, unknown>) => {
  const contract = lifecycleContracts.find((candidate) => candidate.detailType === event['detail-type']);
  if (!contract) throw new Error(`not a lifecycle event rapport publishes: ${event['detail-type']}`);
  const lifecycle = {
    detailType: contract.detailType,
    detail: contract.schema.parse(event.detail),
  } as LifecycleEvent;
  const requests = lifecycleTriggers(catalogFromConfig(), lifecycle);
  await enqueueSends(requests);
  return { sends: requests.length };
};
