import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lifecycleContracts, lifecycleSource } from '#events/lifecycle.ts';
import { sweepSchedule } from '#infra/routes.ts';
import { type Catalog, CatalogError, type CatalogSource, parseCatalog } from '#shared/campaigns/catalog.ts';
import { readCatalogSource } from '#shared/campaigns/catalog-files.ts';
import { scheduleOf } from '#shared/campaigns/run-due.ts';
import {
  defaultEngagementSettings,
  type EngagementSettings,
  parseEngagementSettings,
} from '#shared/engagement/settings.ts';
import type { BusEvent, LocalBus } from './bus.ts';
import type { Scheduler } from './scheduler.ts';
import { StartupError } from './startup-error.ts';

/**
 * The campaigns of the local stack: the catalog read and checked at start and written where the
 * handlers read it, and the same wiring as on AWS: a schedule per schedule or date campaign to the
 * evaluate function, the timer sweep every minute, and lifecycle events to the trigger function.
 */
export interface CampaignHandlers {
  evaluate: (event: { campaignId: string; scheduledTime: string }) => Promise<unknown>;
  sweep: (event: { time: string }) => Promise<unknown>;
  trigger: (event: BusEvent) => Promise<unknown>;
}

/** Registers the campaigns' jobs and bus routes; returns what removes the bus routes. */
export function wireCampaigns(
  catalog: Catalog,
  handlers: CampaignHandlers,
  bus: LocalBus,
  scheduler: Scheduler,
): () => Promise<void> {
  for (const campaign of catalog.campaigns) {
    const expression = scheduleOf(campaign);
    if (!campaign.enabled || expression === undefined) continue;
    scheduler.register({
      name: `campaign ${campaign.id}`,
      expression,
      run: (fireTime) =>
        handlers.evaluate({ campaignId: campaign.id, scheduledTime: fireTime.toISOString() }),
    });
  }
  scheduler.register({
    name: 'timer sweep',
    expression: sweepSchedule,
    run: (fireTime) => handlers.sweep({ time: fireTime.toISOString() }),
  });
  // As on AWS, through rules on source and detail-type.
  const unsubscribes = lifecycleContracts.map((contract) =>
    bus.subscribe({ source: lifecycleSource, detailType: contract.detailType }, (event) =>
      handlers.trigger(event),
    ),
  );
  return async () => {
    for (const unsubscribe of unsubscribes) unsubscribe();
  };
}

/** The campaign catalog, checked now so that a bad campaign stops the start with every problem named. */
export function readCatalog(
  root: string,
  configFile: string,
  engagement: string | undefined,
): { file: CatalogSource; catalog: Catalog; settings: EngagementSettings } {
  try {
    const file = readCatalogSource(root, configFile);
    const settings = engagement
      ? parseEngagementSettings(JSON.parse(engagement), 'RAPPORT_ENGAGEMENT')
      : defaultEngagementSettings;
    return { file, catalog: parseCatalog(file, settings), settings };
  } catch (error) {
    if (error instanceof CatalogError) {
      throw new StartupError(`the campaigns cannot run:\n  ${error.problems.join('\n  ')}`);
    }
    throw error;
  }
}

/**
 * Where the handlers read the catalog from: the data dir, or, for an in-memory stack, a directory of
 * its own that goes when it stops.
 */
export async function writeCatalog(
  source: CatalogSource,
  dataDir: string | undefined,
  cleanups: (() => Promise<void>)[],
): Promise<string> {
  let directory = dataDir;
  if (directory === undefined) {
    const temporary = await mkdtemp(join(tmpdir(), 'rapport-catalog-'));
    cleanups.push(() => rm(temporary, { recursive: true, force: true }));
    directory = temporary;
  }
  await mkdir(directory, { recursive: true });
  const file = join(directory, 'catalog.json');
  await writeFile(file, JSON.stringify(source));
  return file;
}
