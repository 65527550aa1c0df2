import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resetClients } from '#shared/clients/options.ts';
import { resetRuntimeConfig } from '#shared/config.ts';
import { deliverSend } from '#shared/send/deliver.ts';
import { TransientSendError } from '#shared/send/ses-email.ts';
import { readCampaignCounters, readClaimStatus } from '#shared/store/sends.ts';
import {
  buildCatalog,
  deliveryDeps,
  eventCampaign,
  identify,
  minutesAfter,
  newCustomer,
  sendRequestFor,
  useCampaignHarness,
} from './harness.ts';

/**
 * SES refusing a send. Throttled: the SDK tries a few times with backoff; when SES still refuses, the
 * send goes back to the queue with its claim waiting, and the redelivery sends it, once. Refused for
 * good: recorded as failed. Small servers that answer every request with one error stand in for SES;
 * everything else is the emulators.
 */
const harness = useCampaignHarness();

let throttling: Server;
let rejecting: Server;
let throttled = 0;

/** An SES that answers every request with one error. */
async function failingSes(status: number, type: string, message: string, count: () => void): Promise<Server> {
  const server = createServer((request, response) => {
    count();
    request.resume();
    response.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': type });
    response.end(JSON.stringify({ message }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

function endpointOf(server: Server): string {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the server has no port');
  return `http://127.0.0.1:${address.port}`;
}

beforeAll(async () => {
  throttling = await failingSes(429, 'TooManyRequestsException', 'Maximum sending rate exceeded.', () => {
    throttled += 1;
  });
  rejecting = await failingSes(400, 'MessageRejected', 'Email address is not verified.', () => {});
});

afterAll(async () => {
  await Promise.all([throttling, rejecting].map((server) => new Promise((resolve) => server.close(resolve))));
});

function useSes(endpoint: string): void {
  process.env.RAPPORT_SES_ENDPOINT = endpoint;
  resetRuntimeConfig();
  resetClients();
}

describe('a throttled send', () => {
  it('is retried by the queue and sent once, counted once', async () => {
    const campaignId = 'throttled';
    const catalog = buildCatalog([eventCampaign(campaignId, 'Order Completed')]);
    const customer = newCustomer('throttled');
    const at = '2027-06-01T11:00:00.000Z';
    await harness.ingest(catalog, [identify(customer, minutesAfter(at, -5))]);
    const request = sendRequestFor(customer, campaignId, at);
    const ses = harness.emulators.endpoints.ses;

    useSes(endpointOf(throttling));
    try {
      await expect(deliverSend(request, deliveryDeps(catalog, at))).rejects.toBeInstanceOf(
        TransientSendError,
      );
    } finally {
      useSes(ses);
    }
    expect(throttled).toBeGreaterThan(1);
    expect(await readClaimStatus(customer.id, campaignId, request.occurrence)).toBe('retry');
    expect(await harness.outbox(customer.email)).toEqual([]);

    // The queue delivers it again (twice, even): one email.
    const again = await Promise.all([1, 2].map(() => deliverSend(request, deliveryDeps(catalog, at))));
    expect(again.map((result) => result.kind).sort()).toEqual(['duplicate', 'sent']);
    expect(await harness.outbox(customer.email)).toHaveLength(1);
    expect(await readClaimStatus(customer.id, campaignId, request.occurrence)).toBe('sent');
    expect(await readCampaignCounters(campaignId)).toEqual({ sent: 1 });
  });

  it('is recorded as failed, counted, and put on the timeline when SES refuses it for good', async () => {
    const campaignId = 'rejected';
    const catalog = buildCatalog([eventCampaign(campaignId, 'Order Completed')]);
    const customer = newCustomer('rejected');
    const at = '2027-06-02T11:00:00.000Z';
    await harness.ingest(catalog, [identify(customer, minutesAfter(at, -5))]);
    await harness.takeIngestEvents();
    const request = sendRequestFor(customer, campaignId, at);
    const ses = harness.emulators.endpoints.ses;

    useSes(endpointOf(rejecting));
    try {
      expect(await deliverSend(request, deliveryDeps(catalog, at))).toEqual({
        kind: 'failed',
        reason: 'PermanentSendError: SES refused the email: MessageRejected: Email address is not verified.',
      });
    } finally {
      useSes(ses);
    }
    expect(await readClaimStatus(customer.id, campaignId, request.occurrence)).toBe('failed');
    expect(await readCampaignCounters(campaignId)).toEqual({ failed: 1 });
    const outcomes = (await harness.takeIngestEvents()).filter((event) => event.userId === customer.id);
    expect(outcomes.map((event) => [event.event, event.properties?.reason])).toEqual([
      [
        'Campaign Email Failed',
        'PermanentSendError: SES refused the email: MessageRejected: Email address is not verified.',
      ],
    ]);
    // A redelivery changes nothing.
    expect(await deliverSend(request, deliveryDeps(catalog, at))).toEqual({ kind: 'duplicate' });
    expect(await readCampaignCounters(campaignId)).toEqual({ failed: 1 });
  });
});
