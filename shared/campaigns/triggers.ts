import type { IngestEvent } from '#events/ingest-event.ts';
import type { LifecycleEvent } from '#events/lifecycle.ts';
import type { SendRequest } from '#events/send-request.ts';
import { millisOf } from '../engagement/instant.ts';
import type { Campaign, Where } from './campaign.ts';
import type { Catalog } from './catalog.ts';

/**
 * What an event sets off in the campaigns: a send now (an `event` campaign), or a timer (a
 * `delay-unless` campaign). Matching is pure; the ingest path keeps the result in the profile's
 * outbox with the state it came with, so that a trigger is acted on at least once, and sends are
 * idempotent on (campaign, customer, occurrence).
 */
export type CampaignTrigger = { kind: 'send'; request: SendRequest } | TimerArm;

/** Starts or pushes back a delay-unless campaign's timer for one customer (and one `per` value). */
export interface TimerArm {
  kind: 'arm';
  campaignId: string;
  profileId: string;
  /** The `per` field's value, or "-". */
  key: string;
  /** The start event's id: a timer counts distinct starts towards `times`. */
  messageId: string;
  startAt: string;
  dueAt: string;
  trigger: Record<string, unknown>;
}

/** The starts of one timer, as armed together (see dispatch-triggers.ts). */
export interface TimerArms extends Omit<TimerArm, 'messageId'> {
  messageIds: string[];
}

/**
 * The triggers a customer's events set off, for the campaigns `admits` (the customer is in the
 * campaign's audience at the event's time; everyone when not given).
 */
export function eventTriggers(
  catalog: Catalog,
  profileId: string,
  events: readonly IngestEvent[],
  admits: (campaign: Campaign, at: Date) => boolean = () => true,
): CampaignTrigger[] {
  const triggers: CampaignTrigger[] = [];
  for (const event of events) {
    if (event.type !== 'track' || !event.event) continue;
    for (const campaign of catalog.campaigns) {
      const found = matchEvent(campaign, profileId, event);
      if (found && admits(campaign, new Date(event.timestamp))) triggers.push(found);
    }
  }
  return triggers;
}

function matchEvent(campaign: Campaign, profileId: string, event: IngestEvent): CampaignTrigger | undefined {
  if (!campaign.enabled) return undefined;
  const { trigger } = campaign;
  const properties = event.properties ?? {};
  if (trigger.kind === 'event') {
    if (trigger.event !== event.event || !whereMatches(trigger.where, event)) return undefined;
    return {
      kind: 'send',
      request: {
        campaignId: campaign.id,
        customerId: profileId,
        occurrence: event.messageId,
        firedAt: event.timestamp,
        trigger: properties,
      },
    };
  }
  if (trigger.kind === 'delay-unless') {
    if (!trigger.on.includes(event.event ?? '') || !whereMatches(trigger.where, event)) return undefined;
    const key = trigger.per === undefined ? '-' : fieldValue(event, trigger.per);
    if (key === undefined || key === null || typeof key === 'object') return undefined;
    return {
      kind: 'arm',
      campaignId: campaign.id,
      profileId,
      key: String(key),
      messageId: event.messageId,
      startAt: event.timestamp,
      dueAt: new Date(millisOf(event.timestamp) + trigger.after.millis).toISOString(),
      trigger: properties,
    };
  }
  return undefined;
}

/** The sends a lifecycle event sets off: `event` campaigns on its detail-type. */
export function lifecycleTriggers(catalog: Catalog, event: LifecycleEvent): SendRequest[] {
  return catalog.campaigns.flatMap((campaign) => {
    const { trigger } = campaign;
    if (!campaign.enabled || trigger.kind !== 'event' || trigger.event !== event.detailType) return [];
    const detail: Record<string, unknown> = event.detail;
    if (!whereMatches(trigger.where, { ...detail, detail })) return [];
    return [
      {
        campaignId: campaign.id,
        customerId: event.detail.customerId,
        occurrence: event.detail.id,
        firedAt: event.detail.at,
        trigger: detail,
      },
    ];
  });
}

function whereMatches(where: Where | undefined, subject: object): boolean {
  if (!where) return true;
  return Object.entries(where).every(([path, expected]) => {
    const value = fieldValue(subject, path);
    if (typeof expected === 'object') return expected.in.some((option) => option === value);
    return value === expected;
  });
}

/** The value at a dotted path such as properties.category. */
function fieldValue(subject: object, path: string): unknown {
  let value: unknown = subject;
  for (const part of path.split('.')) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}
