/**
 * Timing of the ingest queue and its consumer. The queue lives in the stateful stack and the consumer in
 * the stateless one; both read these numbers so that the queue's visibility timeout and redrive can never
 * drift from the function they feed.
 */

/** The ingest function's timeout. */
export const ingestFunctionTimeoutSeconds = 30;

/**
 * How long the event source waits to fill a batch; short, because ingest feeds live engagement state.
 * It must be at least 1 s for a standard queue to take batches larger than 10.
 */
export const ingestMaxBatchingWindowSeconds = 1;

/**
 * Most records in one ingest invocation. Ingest costs far less per event in large batches, and Lambda
 * takes up to 10,000 from a standard queue when a batching window is set. The local queue worker gathers
 * batches of the same size (with a shorter window of its own).
 */
export const ingestBatchSize = 100;

/**
 * AWS asks for a visibility timeout of at least six times the function timeout plus the batching window,
 * so that a message is not handed to a second consumer while throttled retries of the first still run.
 */
export const ingestVisibilityTimeoutSeconds =
  6 * ingestFunctionTimeoutSeconds + ingestMaxBatchingWindowSeconds;

/**
 * Receive count at which the ingest consumer itself moves a failing message to the DLQ, with its failure
 * reason attached (RAPPORT_MAX_RECEIVE_COUNT).
 */
export const ingestConsumerMaxReceiveCount = 5;

/**
 * SQS redrive one receive later: a backstop for messages the consumer never got to judge, for example
 * when the function timed out or crashed before it could forward them.
 */
export const ingestRedriveMaxReceiveCount = ingestConsumerMaxReceiveCount + 1;
