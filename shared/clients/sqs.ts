import { SQSClient } from '@aws-sdk/client-sqs';
import { runtimeConfig } from '../config.ts';
import { clientOptions, onResetClients } from './options.ts';

let client: SQSClient | undefined;

export function sqsClient(): SQSClient {
  client ??= new SQSClient(clientOptions(runtimeConfig().RAPPORT_SQS_ENDPOINT));
  return client;
}

onResetClients(() => {
  client?.destroy();
  client = undefined;
});
