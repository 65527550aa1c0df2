import { runtimeConfig } from './config.ts';
import {
  defaultEngagementSettings,
  type EngagementSettings,
  parseEngagementSettings,
} from './engagement/settings.ts';

let cached: { source: string | undefined; settings: EngagementSettings } | undefined;

/** The engagement settings of this process: RAPPORT_ENGAGEMENT (JSON) over the defaults. */
export function engagementSettingsFromConfig(): EngagementSettings {
  const source = runtimeConfig().RAPPORT_ENGAGEMENT;
  if (cached?.source !== source || !cached) {
    cached = {
      source,
      settings: source
        ? parseEngagementSettings(JSON.parse(source), 'RAPPORT_ENGAGEMENT')
        : defaultEngagementSettings,
    };
  }
  return cached.settings;
}
