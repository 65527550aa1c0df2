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
  useCampaignHarness,
} from './harness.ts';

/**
 * SES throttling: the SDK tries a few times with backoff; when SES still refuses, the send goes back
 * to the queue with its claim waiting, and the redelivery sends it, once. An SES that always answers
 * 429 stands in for a throttled account; everything else is the emulators.
 */
const harness = useCampaignHarness();

let throttling: Server;
let throttled = 0;

beforeAll(async () => {
  throttling = createServer((request, response) => {
    throttled += 1;
    request.resume();
    response.writeHead(429, {
      'content-type': 'application/json',
      'x-amzn-errortype': 'TooManyRequestsException',
    });
    response.end(JSON.stringify({ message: 'Maximum sending rate exceeded.' }));
  });
  await new Promise<void>((resolve) => throttling.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  await new Promise((resolve) => throttling.close(resolve));
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
    const request = {
      campaignId,
      customerId: customer.id,
      occurrence: `o-${customer.id}`,
      firedAt: at,
      trigger: {},
    };
    const ses = harness.emulators.endpoints.ses;

    const address = throttling.address();
    if (address === null || typeof address === 'string') throw new Error('the throttling server has no port');
    useSes(`http://127.0.0.1:${address.port}`);
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
});
