/**
 * Timing of the send queue and its consumer, read by both stacks (see ingest-settings.ts for why).
 */

/**
 * The send function's timeout. A batch waits for pacing slots (sending.maxSendRate across every sender)
 * before SES takes it, so it gets more time than one SES call needs.
 */
export const sendFunctionTimeoutSeconds = 60;

/** Send requests per invocation: each is one email, sent concurrently within the batch. */
export const sendBatchSize = 10;

/** Six times the function timeout, as AWS asks, so that a request is not sent twice while its first try runs. */
export const sendVisibilityTimeoutSeconds = 6 * sendFunctionTimeoutSeconds;

/**
 * Receives of a send request before SQS moves it to the send DLQ. A request SES throttled is retried
 * after each visibility timeout, so five receives give SES about half an hour to recover.
 */
export const sendMaxReceiveCount = 5;

/** How long both send queues keep a message: the longest SQS allows. */
export const sendRetentionDays = 14;

/**
 * Send functions running at once, by default. Pacing keeps the rate within sending.maxSendRate anyway;
 * the cap keeps a large campaign from holding the account's concurrency, and from spending receives on
 * invocations that only wait for their pacing slot.
 */
export const defaultSendConcurrency = 2;
