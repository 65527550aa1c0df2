import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Catalog, CatalogError, type CatalogSource, parseCatalog } from '#shared/campaigns/catalog.ts';
import { readCatalogSource } from '#shared/campaigns/catalog-files.ts';
import { parseEngagementSettings } from '#shared/engagement/settings.ts';
import { rapportConfigFileName } from './rapport-config.ts';

/** Where a function finds the catalog bundled next to its code (RAPPORT_CATALOG). */
export const bundledCatalogPath = '/var/task/catalog.json';

/** A catalog that failed its checks at synth: nothing is deployed, and the message lists every problem. */
export class InvalidCatalogError extends Error {
  override name = 'InvalidCatalogError';
  constructor(readonly problems: readonly string[]) {
    super(
      `The campaign catalog is invalid, so nothing was synthesized. Fix these and synth again:\n${problems
        .map((problem) => `  ${problem}`)
        .join('\n')}`,
    );
  }
}

/**
 * The catalog's files in a repository: campaigns/, segments/, campaigns/templates/ and the `sending:`
 * section of rapport.config.yaml. A file that is not valid YAML fails the synth, named.
 */
export function readRepositoryCatalog(repositoryRoot: string): CatalogSource {
  try {
    return readCatalogSource(repositoryRoot, join(repositoryRoot, rapportConfigFileName));
  } catch (error) {
    if (error instanceof CatalogError) throw new InvalidCatalogError(error.problems);
    throw error;
  }
}

/**
 * The catalog as the functions will parse it, checked here with the same engagement settings they get,
 * so that an invalid campaign fails the synth instead of every function at start-up.
 */
export function checkCatalog(source: CatalogSource, engagementSettings: unknown): Catalog {
  const settings = parseEngagementSettings(engagementSettings, `${rapportConfigFileName}: engagement`);
  try {
    return parseCatalog(source, settings);
  } catch (error) {
    if (error instanceof CatalogError) throw new InvalidCatalogError(error.problems);
    throw error;
  }
}

/**
 * Writes the catalog's source to a JSON file in `directory`, named by its content, for the functions'
 * bundles to copy. The source rather than the parsed catalog, because the functions parse it again.
 */
export function writeCatalogFile(source: CatalogSource, directory: string): string {
  const json = JSON.stringify(source);
  const hash = createHash('sha256').update(json).digest('hex').slice(0, 16);
  const file = join(directory, `rapport-catalog.${hash}.json`);
  writeFileSync(file, json);
  return file;
}
