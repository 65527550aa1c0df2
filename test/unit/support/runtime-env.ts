import { afterAll, beforeEach } from 'vitest';
import { resetClients } from '#shared/clients/options.ts';
import { type RuntimeConfig, resetRuntimeConfig } from '#shared/config.ts';

/** The environment the unit tests run the runtime config against. No request leaves the process. */
export const testRuntimeEnv = {
  RAPPORT_TABLE: 'rapport-test',
  RAPPORT_INGEST_QUEUE_URL: 'http://sqs.test/000000000000/rapport-ingest',
  RAPPORT_INGEST_DLQ_URL: 'http://sqs.test/000000000000/rapport-ingest-dlq',
  RAPPORT_BUS_NAME: 'rapport-test-bus',
  AWS_REGION: 'us-east-1',
} as const;

/** Variables to set on top of {@link testRuntimeEnv}; `undefined` removes the variable. */
export type RuntimeEnvOverrides = { [Name in keyof RuntimeConfig]?: string | undefined };

/**
 * Points the runtime config at the test environment (with any overrides) and drops the parsed config
 * and the built clients, so that the next read sees it. Call in beforeEach.
 */
export function useTestRuntimeEnv(overrides: RuntimeEnvOverrides = {}): void {
  for (const [name, value] of Object.entries({ ...testRuntimeEnv, ...overrides })) {
    // Assigning undefined to process.env would store the string 'undefined'.
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  resetRuntimeConfig();
  resetClients();
}

/** What the file needs of a mock from aws-sdk-client-mock's mockClient. */
interface ClientMock {
  reset(): unknown;
  restore(): void;
}

/**
 * For the whole file: before each test, the test environment (see {@link useTestRuntimeEnv}) and the
 * given client mocks reset; after the last test, the mocks restored. Call it before the file's own
 * beforeEach, which then runs after this one and can set the mocks' behaviour.
 */
export function useTestRuntime(mocks: readonly ClientMock[], overrides: RuntimeEnvOverrides = {}): void {
  beforeEach(() => {
    useTestRuntimeEnv(overrides);
    for (const mock of mocks) mock.reset();
  });
  afterAll(() => {
    for (const mock of mocks) mock.restore();
  });
}
