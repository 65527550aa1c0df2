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

/**
 * Most ingest invocations at once. Without a cap, Lambda's SQS poller scales up with the backlog until
 * it can hold all of the account's concurrency (1,000 by default), so that a burst of events starves
 * collect, whose throttled requests the clients then see as errors. The cap keeps the backlog in the
 * queue instead, where it waits its turn; unlike reserved concurrency it throttles nothing, so no receive
 * is spent on a throttled invocation and no message is pushed toward the DLQ by it. Ten batches of up to
 * ingestBatchSize records in flight leave collect nearly all of the account's concurrency; when they do
 * not keep up, the ingest queue's age-of-oldest-message alarm says so, and this is the number to raise.
 */
export const ingestMaxConcurrency = 10;

/**
 * How long the ingest queue keeps a message: the longest SQS allows, so that a stalled consumer leaves
 * two weeks to notice (ingestQueueAgeAlarmSeconds) and fix it before events expire unseen.
 */
export const ingestRetentionDays = 14;

/**
 * Age of the oldest ingest message at which the queue counts as stalled. A message that fails every
 * attempt is moved to the DLQ by the consumer after four visibility timeouts (about 12 minutes with the
 * numbers above), and by the SQS redrive after six (about 18). The alarm also wants the age above this in
 * three five-minute periods in a row (ingestQueueAgeAlarmPeriods), which the retries of one message alone
 * never reach.
 */
export const ingestQueueAgeAlarmSeconds = 15 * 60;

/** Consecutive five-minute periods the oldest message must stay older than ingestQueueAgeAlarmSeconds. */
export const ingestQueueAgeAlarmPeriods = 3;
