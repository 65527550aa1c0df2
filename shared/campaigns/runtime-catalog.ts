import { readFileSync } from 'node:fs';
import { runtimeConfig } from '../config.ts';
import { engagementSettingsFromConfig } from '../settings.ts';
import { type Catalog, type CatalogSource, parseCatalog } from './catalog.ts';

let cached: { path: string | undefined; catalog: Catalog } | undefined;

const emptySource: CatalogSource = {
  campaigns: [],
  segments: [],
  templates: {},
  sending: undefined,
  sendingFile: 'rapport.config.yaml',
};

/**
 * The campaign catalog of this process: the JSON file RAPPORT_CATALOG names (the CDK app bundles it
 * into each function that needs it; the local runtime writes it at start), checked on first use. No
 * file, no campaigns.
 */
export function catalogFromConfig(): Catalog {
  const path = runtimeConfig().RAPPORT_CATALOG;
  if (!cached || cached.path !== path) {
    const source = path ? (JSON.parse(readFileSync(path, 'utf8')) as CatalogSource) : emptySource;
    cached = { path, catalog: parseCatalog(source, engagementSettingsFromConfig()) };
  }
  return cached.catalog;
}

/** Forget the loaded catalog (the local runtime and tests call this after changing it). */
export function resetCatalog(): void {
  cached = undefined;
}

/** The signing secret for links and promo codes; a function that sends cannot run without one. */
export function signingSecret(): string {
  const secret = runtimeConfig().RAPPORT_SIGNING_SECRET;
  if (!secret) throw new Error('RAPPORT_SIGNING_SECRET is not set for this function');
  return secret;
}
