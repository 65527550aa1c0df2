import { resolve } from 'node:path';
import { rapportConfigFileName } from '#infra/rapport-config.ts';
import type { Campaign } from '#shared/campaigns/campaign.ts';
import { type Catalog, CatalogError, parseCatalog } from '#shared/campaigns/catalog.ts';
import { readCatalogSource } from '#shared/campaigns/catalog-files.ts';
import { catalogFromConfig } from '#shared/campaigns/runtime-catalog.ts';
import { runtimeConfig } from '#shared/config.ts';
import type { EngagementSettings } from '#shared/engagement/settings.ts';
import { CliError } from './errors.ts';

/** The catalog in the working directory's files, as a marketer edits them. */
export function catalogFromFiles(settings: EngagementSettings): Catalog {
  try {
    return parseCatalog(readCatalogSource(resolve('.'), resolve(rapportConfigFileName)), settings);
  } catch (error) {
    if (error instanceof CatalogError) {
      throw new CliError(`the campaigns are not valid:\n  ${error.problems.join('\n  ')}`);
    }
    throw error;
  }
}

/**
 * The catalog the stack runs: a local stack's, which it read at start (its send worker knows only
 * those campaigns), else the files here.
 */
export function stackCatalog(settings: EngagementSettings): Catalog {
  return runtimeConfig().RAPPORT_CATALOG ? catalogFromConfig() : catalogFromFiles(settings);
}

export function findCampaign(catalog: Catalog, id: string): Campaign {
  const campaign = catalog.campaigns.find((candidate) => candidate.id === id);
  if (!campaign) {
    const known = catalog.campaigns.map((candidate) => candidate.id).join(', ');
    throw new CliError(`no campaign "${id}" (campaigns: ${known || 'none'})`);
  }
  return campaign;
}

/** A time given on the command line, e.g. --at 2026-12-01T09:00:00Z. */
export function parseTime(text: string): Date {
  const millis = Date.parse(text);
  if (Number.isNaN(millis)) {
    throw new CliError(`"${text}" is not a time: write an ISO 8601 time like 2026-12-01T09:00:00Z`);
  }
  return new Date(millis);
}
