import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { parseEngagementSettings } from '#shared/engagement/settings.ts';

/** rapport.config.yaml at the repository root: the operator's settings for a deployment. */
export const rapportConfigFileName = 'rapport.config.yaml';

export class RapportConfigError extends Error {
  override name = 'RapportConfigError';
}

/**
 * The `engagement:` section of the config file, or undefined when the file or the section is absent,
 * in which case the functions use their defaults. The section is checked here so that a bad setting
 * fails the synth, naming file and field, instead of every function at start-up; it is passed on as
 * written, because the functions parse it again from RAPPORT_ENGAGEMENT.
 */
export function readEngagementSettings(configPath: string): Record<string, unknown> | undefined {
  if (!existsSync(configPath)) {
    return undefined;
  }
  let document: unknown;
  try {
    document = parse(readFileSync(configPath, 'utf8'));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new RapportConfigError(`${configPath}: not valid YAML: ${reason}`);
  }
  if (document === null || document === undefined) {
    return undefined;
  }
  if (!isMapping(document)) {
    throw new RapportConfigError(`${configPath}: expected a mapping of sections such as "engagement:"`);
  }
  const engagement = document.engagement;
  if (engagement === undefined || engagement === null) {
    return undefined;
  }
  if (!isMapping(engagement)) {
    throw new RapportConfigError(
      `${configPath}: engagement: expected a mapping of settings, not a single value`,
    );
  }
  parseEngagementSettings(engagement, `${configPath}: engagement`);
  return engagement;
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
