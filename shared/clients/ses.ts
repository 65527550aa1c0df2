import { SESv2Client } from '@aws-sdk/client-sesv2';
import { runtimeConfig } from '../config.ts';
import { clientOptions, onResetClients } from './options.ts';

let client: SESv2Client | undefined;

export function sesClient(): SESv2Client {
  // SES throttles by the second: a few more tries, with the SDK's exponential backoff, ride it out
  // before the send goes back to the queue for a later retry.
  client ??= new SESv2Client({ ...clientOptions(runtimeConfig().RAPPORT_SES_ENDPOINT), maxAttempts: 5 });
  return client;
}

onResetClients(() => {
  client?.destroy();
  client = undefined;
});
