import type { TestProject } from 'vitest/node';
import { startEmulators } from '#infra/local/emulators.ts';

/**
 * vitest globalSetup for the integration project: DynamoDB Local (in memory), the SQS emulator and the
 * SES emulator, started once per run and shared by every test file. Files make their own uniquely
 * named tables and queues on them (see support.ts), so only the endpoints are provided.
 */
declare module 'vitest' {
  export interface ProvidedContext {
    dynamodbEndpoint: string;
    sqsEndpoint: string;
    sesEndpoint: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const emulators = await startEmulators();
  project.provide('dynamodbEndpoint', emulators.endpoints.dynamodb);
  project.provide('sqsEndpoint', emulators.endpoints.sqs);
  project.provide('sesEndpoint', emulators.endpoints.ses);
  return () => emulators.stop();
}
