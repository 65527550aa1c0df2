import { runtimeConfig } from '../config.ts';

/**
 * How every AWS client is built: region and endpoint from config, so the same code talks to AWS or
 * to the local emulators, and a request timeout that really aborts. Each client lives in its own
 * module, so that a function's bundle carries only the SDK clients it uses.
 */
export function clientOptions(endpoint: string | undefined) {
  return {
    region: runtimeConfig().AWS_REGION,
    endpoint,
    // Without throwOnRequestTimeout the SDK only logs a slow request and keeps waiting.
    requestHandler: { requestTimeout: 10_000, throwOnRequestTimeout: true },
  };
}

const resets = new Set<() => void>();

/** Called by each client module with how to drop its client. */
export function onResetClients(reset: () => void): void {
  resets.add(reset);
}

/** Drop the built clients (the local runtime and tests call this after changing the environment). */
export function resetClients(): void {
  for (const reset of resets) reset();
}
