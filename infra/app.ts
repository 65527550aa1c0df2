import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigError } from '#shared/config.ts';
import { InvalidCatalogError, readRepositoryCatalog } from './campaign-catalog.ts';
import { RapportConfigError, rapportConfigFileName, readEngagementSettings } from './rapport-config.ts';
import { createRapportStacks } from './stacks/rapport-stacks.ts';

const repositoryRoot = fileURLToPath(new URL('../', import.meta.url));

try {
  const app = new App();
  // Every synth and deploy runs the AWS Solutions checks; an unacknowledged finding fails the synth.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  createRapportStacks(app, {
    engagementSettings: readEngagementSettings(join(repositoryRoot, rapportConfigFileName)),
    catalog: readRepositoryCatalog(repositoryRoot),
  });
} catch (error) {
  // A mistake in the operator's config or campaigns: the message names file and field, a stack trace
  // would only bury it.
  if (
    error instanceof InvalidCatalogError ||
    error instanceof RapportConfigError ||
    error instanceof ConfigError
  ) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}
