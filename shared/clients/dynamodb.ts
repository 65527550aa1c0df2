import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { runtimeConfig } from '../config.ts';
import { clientOptions, onResetClients } from './options.ts';

let client: DynamoDBDocumentClient | undefined;

export function dynamoClient(): DynamoDBDocumentClient {
  client ??= DynamoDBDocumentClient.from(
    new DynamoDBClient(clientOptions(runtimeConfig().RAPPORT_DYNAMODB_ENDPOINT)),
    {
      marshallOptions: { removeUndefinedValues: true, convertEmptyValues: false },
    },
  );
  return client;
}

onResetClients(() => {
  client?.destroy();
  client = undefined;
});
