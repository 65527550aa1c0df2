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
