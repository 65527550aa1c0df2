import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DeleteMessageBatchCommand, type Message, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { expect } from 'vitest';
import { type IngestEvent, ingestEvent } from '#events/ingest-event.ts';
import { type SendRequest, sendRequest } from '#events/send-request.ts';
import { type Catalog, parseCatalog } from '#shared/campaigns/catalog.ts';
import { readCatalogSource } from '#shared/campaigns/catalog-files.ts';
import { defaultEngagementSettings } from '#shared/engagement/settings.ts';
import { ingestBatch } from '#shared/ingest/ingest-batch.ts';
import { ingestMessageEvents } from '#shared/ingest-queue.ts';
import { type DeliveryDeps, type DeliveryResult, deliverSend } from '#shared/send/deliver.ts';
import type { Clock } from '#shared/send/pacing.ts';
import { type EmulatorEnvironment, testSigningSecret, useEmulators } from '../support.ts';

/**
 * The campaign pipeline driven by hand against the emulators: a catalog built in memory, events
 * ingested as the ingest function would, the send queue drained through deliverSend as the send
 * function would, and the SES emulator's outbox read back for one recipient. Business time comes
 * from the events and from the `at` a test passes; deliverSend gets a clock that never waits.
 */
export const settings = defaultEngagementSettings;

/** The `sending:` section of every test catalog; a test overrides what it is about. */
export const testSending = {
  from: 'Test Shop <shop@shop.example>',
  linkBaseUrl: 'https://api.shop.example',
  unsubscribeMailbox: 'unsubscribe@shop.example',
  linkDomains: ['shop.example'],
} as const;

/**
 * A template that prints what the tests look for: the cart's product names, the recommended
 * products, the trigger's order id and the unsubscribe link.
 */
const testTemplates: Record<string, string> = {
  'test-mail.html.liquid': [
    '<h1>{{ campaign.name }}</h1>',
    '<ul>{% for item in customer.cart.items %}<li>cart: {{ item.name }}</li>{% endfor %}</ul>',
    '<ul>{% for product in recommendations.products %}<li>recommended: [{{ product.id }}] {{ product.name }}</li>{% endfor %}</ul>',
    '<p>order: {{ trigger.order_id }}</p>',
    '<p><a href="{{ links.unsubscribe }}">Unsubscribe</a></p>',
  ].join('\n'),
  'test-mail.txt.liquid': [
    '{{ campaign.name }}',
    '{% for item in customer.cart.items %}cart: {{ item.name }}\n{% endfor %}',
    '{% for product in recommendations.products %}recommended: [{{ product.id }}] {{ product.name }}\n{% endfor %}',
    'order: {{ trigger.order_id }}',
    'Unsubscribe: {{ links.unsubscribe }}',
  ].join('\n'),
};

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
let repository: ReturnType<typeof readCatalogSource> | undefined;

function repositorySource() {
  repository ??= readCatalogSource(repoRoot);
  return repository;
}

/** An example campaign from campaigns/<id>.yaml, as a marketer wrote it, with some fields changed. */
export function exampleCampaign(id: string, changes: Record<string, unknown> = {}): Record<string, unknown> {
  const found = repositorySource().campaigns.find((candidate) => candidate.file === `campaigns/${id}.yaml`);
  if (!found || typeof found.document !== 'object' || found.document === null) {
    throw new Error(`no example campaign campaigns/${id}.yaml`);
  }
  return { ...(found.document as Record<string, unknown>), ...changes };
}

/** An event campaign on `event`, mailing the test template. */
export function eventCampaign(id: string, event: string, changes: Record<string, unknown> = {}) {
  return {
    id,
    name: `Test ${id}`,
    trigger: { kind: 'event', event },
    message: {
      subject: `{{ campaign.name }} for {{ traits.firstName | default: 'you' }}`,
      template: 'test-mail',
    },
    ...changes,
  };
}

/**
 * A checked catalog of the given campaign documents, with the example templates, the test
 * template and the test sending settings (plus `sending` changes).
 */
export function buildCatalog(
  campaigns: readonly Record<string, unknown>[],
  sending: Record<string, unknown> = {},
): Catalog {
  return parseCatalog(
    {
      campaigns: campaigns.map((document) => ({ file: `campaigns/${String(document.id)}.yaml`, document })),
      segments: repositorySource().segments,
      templates: { ...repositorySource().templates, ...testTemplates },
      sending: { ...testSending, ...sending },
      sendingFile: 'rapport.config.yaml',
    },
    settings,
  );
}

export interface TestCustomer {
  id: string;
  email: string;
}

/** A customer of this run only: the SES outbox is shared by every test file, so addresses must be unique. */
export function newCustomer(label: string): TestCustomer {
  const id = `${label}-${randomUUID().slice(0, 8)}`;
  return { id, email: `${id}@example.com` };
}

export function minutesAfter(at: string, minutes: number): string {
  return new Date(Date.parse(at) + minutes * 60_000).toISOString();
}

/** An identify call that gives the customer's address and newsletter consent (and any other traits). */
export function identify(
  customer: TestCustomer,
  at: string,
  traits: Record<string, unknown> = {},
): IngestEvent {
  return ingestEvent.parse({
    messageId: `identify-${randomUUID()}`,
    type: 'identify',
    userId: customer.id,
    traits: { email: customer.email, firstName: 'Robin', subscribed: true, ...traits },
    timestamp: at,
    receivedAt: at,
    source: 'test-shop',
  });
}

export function track(
  customer: TestCustomer,
  event: string,
  at: string,
  properties: Record<string, unknown> = {},
  messageId = `track-${randomUUID()}`,
): IngestEvent {
  return ingestEvent.parse({
    messageId,
    type: 'track',
    userId: customer.id,
    event,
    properties,
    timestamp: at,
    receivedAt: at,
    source: 'test-shop',
  });
}

/** A send request of `campaignId` for the customer, fired at `at`, as a trigger would make it. */
export function sendRequestFor(customer: TestCustomer, campaignId: string, at: string): SendRequest {
  return { campaignId, customerId: customer.id, occurrence: `o-${customer.id}`, firedAt: at, trigger: {} };
}

/** A clock that never waits: deliverSend reads it only for when outcomes are received. */
export function fixedClock(at: string): Clock {
  let now = Date.parse(at);
  return {
    now: () => now,
    sleep: async (ms) => {
      now += ms;
    },
  };
}

export function deliveryDeps(catalog: Catalog, at: string): DeliveryDeps {
  return { catalog, settings, secret: testSigningSecret, maxSendRate: undefined, clock: fixedClock(at) };
}

export interface Delivery {
  request: SendRequest;
  result: DeliveryResult;
}

/** An email as the SES emulator keeps it (GET /store). */
export interface StoredEmail {
  messageId: string;
  from: string;
  destination: { to: string[]; cc: string[]; bcc: string[] };
  subject: string;
  body: { html?: string; text?: string };
  headers?: { name: string; value: string }[];
}

export function headerOf(email: StoredEmail, name: string): string | undefined {
  return email.headers?.find((header) => header.name.toLowerCase() === name.toLowerCase())?.value;
}

export interface CampaignHarness {
  emulators: EmulatorEnvironment;
  /** Ingests the events in one batch, as the ingest function gets them from its queue. */
  ingest(catalog: Catalog, events: readonly IngestEvent[]): Promise<void>;
  /** Takes every message off the send queue, parsed as the send function parses them. */
  takeSendRequests(): Promise<SendRequest[]>;
  /**
   * Takes every message off the send queue and delivers each with deliverSend, one after the other
   * or all at once, until the queue is empty.
   */
  drainSends(catalog: Catalog, at: string, options?: { concurrent?: boolean }): Promise<Delivery[]>;
  /** Takes every message off the ingest queue (where campaign outcomes go). */
  takeIngestEvents(): Promise<IngestEvent[]>;
  /** The emails the SES emulator holds for `address`. */
  outbox(address: string): Promise<StoredEmail[]>;
}

/** Emulators for this test file plus the campaign pipeline's moving parts. Call it at the top of the file. */
export function useCampaignHarness(): CampaignHarness {
  const emulators = useEmulators();

  async function takeAll(queueUrl: string): Promise<Message[]> {
    const taken: Message[] = [];
    for (;;) {
      const received = await emulators.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
          VisibilityTimeout: 300,
        }),
      );
      const messages = received.Messages ?? [];
      if (messages.length === 0) return taken;
      taken.push(...messages);
      const deleted = await emulators.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: messages.map((message, index) => ({
            Id: String(index),
            ReceiptHandle: message.ReceiptHandle,
          })),
        }),
      );
      expect(deleted.Failed ?? []).toEqual([]);
    }
  }

  const takeSendRequests = async () =>
    (await takeAll(emulators.sendQueueUrl)).map((message) =>
      sendRequest.parse(JSON.parse(message.Body ?? '')),
    );

  return {
    emulators,
    async ingest(catalog, events) {
      const records = events.map((event, index) => ({
        id: `${index}:${event.messageId}`,
        body: JSON.stringify(event),
      }));
      expect(await ingestBatch(records, settings, catalog)).toEqual([]);
    },
    takeSendRequests,
    async drainSends(catalog, at, options = {}) {
      const deps = deliveryDeps(catalog, at);
      const deliveries: Delivery[] = [];
      for (
        let requests = await takeSendRequests();
        requests.length > 0;
        requests = await takeSendRequests()
      ) {
        if (options.concurrent) {
          const results = await Promise.all(requests.map((request) => deliverSend(request, deps)));
          deliveries.push(
            ...requests.map((request, index) => ({ request, result: resultAt(results, index) })),
          );
        } else {
          for (const request of requests)
            deliveries.push({ request, result: await deliverSend(request, deps) });
        }
      }
      return deliveries;
    },
    async takeIngestEvents() {
      return (await takeAll(emulators.ingestQueueUrl)).flatMap((message) =>
        ingestMessageEvents(message.Body ?? '').map((event) => ingestEvent.parse(event)),
      );
    },
    async outbox(address) {
      const response = await fetch(`${emulators.endpoints.ses}/store`);
      expect(response.ok).toBe(true);
      const store = (await response.json()) as { emails: StoredEmail[] };
      return store.emails.filter((email) =>
        [...email.destination.to, ...email.destination.cc, ...email.destination.bcc].includes(address),
      );
    },
  };
}

function resultAt(results: readonly DeliveryResult[], index: number): DeliveryResult {
  const result = results[index];
  if (result === undefined) throw new Error(`no delivery result at ${index}`);
  return result;
}
