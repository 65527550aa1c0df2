import { z } from 'zod';

/**
 * Runtime configuration, read once from the environment. The CDK app sets these on each Lambda
 * function; the local runtime sets them for its in-process handlers. Nothing else reads process.env.
 */
const optionalUrl = z.url().optional();

const runtimeEnv = z.object({
  AWS_REGION: z.string().min(1).default('us-east-1'),
  RAPPORT_TABLE: z.string().min(1),
  RAPPORT_INGEST_QUEUE_URL: z.string().min(1).optional(),
  RAPPORT_INGEST_DLQ_URL: z.string().min(1).optional(),
  RAPPORT_BUS_NAME: z.string().min(1).default('default'),
  RAPPORT_DYNAMODB_ENDPOINT: optionalUrl,
  RAPPORT_SQS_ENDPOINT: optionalUrl,
  RAPPORT_SES_ENDPOINT: optionalUrl,
  RAPPORT_EVENTBRIDGE_ENDPOINT: optionalUrl,
  /** Engagement settings as JSON (see shared/engagement/settings.ts); defaults apply when unset. */
  RAPPORT_ENGAGEMENT: z.string().optional(),
  /** The send queue, where campaigns put the messages the send function delivers. */
  RAPPORT_SEND_QUEUE_URL: z.string().min(1).optional(),
  /** A JSON file of the campaign catalog (see shared/campaigns/runtime-catalog.ts); no campaigns when unset. */
  RAPPORT_CATALOG: z.string().min(1).optional(),
  /** Signs unsubscribe tokens and promo codes. At least 32 characters. */
  RAPPORT_SIGNING_SECRET: z.string().min(32, { error: 'must be at least 32 characters' }).optional(),
  /** The SES configuration set every campaign email is sent with. */
  RAPPORT_SES_CONFIGURATION_SET: z.string().min(1).optional(),
  /** "off" sends as fast as the send function can; anything else paces to sending.maxSendRate. */
  RAPPORT_SEND_PACING: z.enum(['on', 'off']).default('on'),
  /** Receive count at which the ingest consumer moves a failing message to the DLQ with its reason. */
  RAPPORT_MAX_RECEIVE_COUNT: z.coerce.number().int().min(1).default(5),
});

export type RuntimeConfig = z.infer<typeof runtimeEnv>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function parseRuntimeConfig(env: NodeJS.ProcessEnv): RuntimeConfig {
  const parsed = runtimeEnv.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid environment: ${problems.join('; ')}`);
  }
  return parsed.data;
}

let cached: RuntimeConfig | undefined;

/** The configuration of this process, parsed on first use. */
export function runtimeConfig(): RuntimeConfig {
  cached ??= parseRuntimeConfig(process.env);
  return cached;
}

/** Forget the parsed configuration, so that the next read sees a changed environment. */
export function resetRuntimeConfig(): void {
  cached = undefined;
}
