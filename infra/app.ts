import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { rapportConfigFileName, readEngagementSettings } from './rapport-config.ts';
import { createRapportStacks } from './stacks/rapport-stacks.ts';

const repositoryRoot = fileURLToPath(new URL('../', import.meta.url));

const app = new App();
// Every synth and deploy runs the AWS Solutions checks; an unacknowledged finding fails the synth.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
createRapportStacks(app, {
  engagementSettings: readEngagementSettings(join(repositoryRoot, rapportConfigFileName)),
});
