/**
 * The function timeout Lambda enforces, for handlers called in-process: the gateway answers 504
 * and the queue worker fails the batch, as Lambda would.
 */
export class HandlerTimeoutError extends Error {
  override name = 'HandlerTimeoutError';
  constructor(ms: number) {
    super(`timed out after ${ms} ms`);
  }
}

export async function withHandlerTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HandlerTimeoutError(ms)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** An error as a log line, with its stack when it has one. */
export function describeError(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
