import { SESv2Client } from '@aws-sdk/client-sesv2';
import { runtimeConfig } from '../config.ts';
import { clientOptions, onResetClients } from './options.ts';

let client: SESv2Client | undefined;

export function sesClient(): SESv2Client {
  client ??= new SESv2Client(clientOptions(runtimeConfig().RAPPORT_SES_ENDPOINT));
  return client;
}

onResetClients(() => {
  client?.destroy();
  client = undefined;
});
