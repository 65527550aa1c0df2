import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { runtimeConfig } from '../config.ts';
import { clientOptions, onResetClients } from './options.ts';

let client: EventBridgeClient | undefined;

export function eventBridgeClient(): EventBridgeClient {
  client ??= new EventBridgeClient(clientOptions(runtimeConfig().RAPPORT_EVENTBRIDGE_ENDPOINT));
  return client;
}

onResetClients(() => {
  client?.destroy();
  client = undefined;
});
