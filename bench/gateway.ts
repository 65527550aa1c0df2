import type { LocalStack } from '#infra/local/stack.ts';

const requestTimeoutMs = 60_000;

/** One request to the local gateway, bounded in time: its status and its body as text. */
export async function gatewayRequest(
  stack: LocalStack,
  path: string,
  init: { method?: string; headers: Record<string, string>; body?: string },
): Promise<{ status: number; text: string }> {
  const response = await fetch(`${stack.url}${path}`, {
    ...init,
    signal: AbortSignal.timeout(requestTimeoutMs),
  });
  return { status: response.status, text: await response.text() };
}
