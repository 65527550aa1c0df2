import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { runtimeConfig } from './config.ts';

/**
 * The one place that builds AWS clients. Each takes its endpoint from config, so the same code talks
 * to AWS or to the local emulators; nothing below the wiring knows which.
 */
interface Clients {
  dynamo: DynamoDBDocumentClient;
  sqs: SQSClient;
  ses: SESv2Client;
  eventBridge: EventBridgeClient;
}

let built: Clients | undefined;

/** Without throwOnRequestTimeout the SDK only logs a slow request and keeps waiting. */
const requestTimeout = { requestTimeout: 10_000, throwOnRequestTimeout: true };

function build(): Clients {
  const config = runtimeConfig();
  const region = config.AWS_REGION;
  const dynamo = new DynamoDBClient({
    region,
    endpoint: config.RAPPORT_DYNAMODB_ENDPOINT,
    requestHandler: requestTimeout,
  });
  return {
    dynamo: DynamoDBDocumentClient.from(dynamo, {
      marshallOptions: { removeUndefinedValues: true, convertEmptyValues: false },
    }),
    sqs: new SQSClient({ region, endpoint: config.RAPPORT_SQS_ENDPOINT, requestHandler: requestTimeout }),
    ses: new SESv2Client({ region, endpoint: config.RAPPORT_SES_ENDPOINT, requestHandler: requestTimeout }),
    eventBridge: new EventBridgeClient({
      region,
      endpoint: config.RAPPORT_EVENTBRIDGE_ENDPOINT,
      requestHandler: requestTimeout,
    }),
  };
}

export function clients(): Clients {
  built ??= build();
  return built;
}

/** Drop the built clients (the local runtime and tests call this after changing the environment). */
export function resetClients(): void {
  if (built) {
    built.dynamo.destroy();
    built.sqs.destroy();
    built.ses.destroy();
    built.eventBridge.destroy();
  }
  built = undefined;
}
