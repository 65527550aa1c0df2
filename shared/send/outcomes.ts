import type { IngestEvent } from '#events/ingest-event.ts';
import type { SendRequest } from '#events/send-request.ts';
import { enqueueEvents } from '../ingest-queue.ts';

/**
 * Every decision a campaign makes about a customer lands on their timeline as an event, through the
 * ingest queue like any other: a send, a hold-out, a skip with its reason, a deferral with its new
 * time, a failure. Ids are derived from the occurrence, so a retried decision is one event.
 */
export type OutcomeKind = 'sent' | 'held-out' | 'skipped' | 'deferred' | 'failed';

const eventNames: Record<OutcomeKind, string> = {
  sent: 'Campaign Email Sent',
  'held-out': 'Campaign Email Held Out',
  skipped: 'Campaign Email Skipped',
  deferred: 'Campaign Email Deferred',
  failed: 'Campaign Email Failed',
};

export const outcomeSource = 'rapport';

export function outcomeEvent(input: {
  kind: OutcomeKind;
  profileId: string;
  request: SendRequest;
  campaignName: string;
  /** When the decision counts as made: the request's fire time, never the wall clock. */
  at: string;
  receivedAt: string;
  properties?: Record<string, string>;
}): IngestEvent {
  const { kind, request } = input;
  return {
    messageId: `rapport:${request.campaignId}:${request.occurrence}:${input.profileId}:${kind}${
      input.properties?.until ? `:${input.properties.until}` : ''
    }`,
    type: 'track',
    userId: input.profileId,
    event: eventNames[kind],
    properties: {
      campaign_id: request.campaignId,
      campaign_name: input.campaignName,
      occurrence: request.occurrence,
      ...input.properties,
    },
    timestamp: input.at,
    receivedAt: input.receivedAt,
    source: outcomeSource,
  };
}

export async function recordOutcomes(events: readonly IngestEvent[]): Promise<void> {
  if (events.length > 0) await enqueueEvents(events);
}
