import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { readRepositoryCatalog } from '#infra/campaign-catalog.ts';
import { rapportConfigFileName, readEngagementSettings } from '#infra/rapport-config.ts';
import { createRapportStacks } from '#infra/stacks/rapport-stacks.ts';

const repositoryRoot = fileURLToPath(new URL('../../', import.meta.url));

interface ValidationReport {
  pluginReports: { pluginName: string; violations: { ruleName: string; severity: string }[] }[];
}

let app: App;

// Bundling eight functions with esbuild takes longer than vitest's default hook timeout.
const synthTimeoutMs = 120_000;

// Built the way infra/app.ts builds it: the checks registered on the app, the stacks from the same factory.
beforeAll(() => {
  app = new App();
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  createRapportStacks(app, {
    engagementSettings: readEngagementSettings(join(repositoryRoot, rapportConfigFileName)),
    catalog: readRepositoryCatalog(repositoryRoot),
  });
}, synthTimeoutMs);

function findings(severity: 'error' | 'warning', scope: App): string[] {
  return new AwsSolutionsChecks()
    .validateScope(scope)
    .violations.filter((violation) => violation.severity === severity)
    .flatMap((violation) =>
      violation.violatingResources.map((resource) => `${violation.ruleName} at ${resource.constructPath}`),
    );
}

describe('cdk-nag AwsSolutions', () => {
  it('lets the app synthesize: every error is fixed or acknowledged', () => {
    // In-memory synth throws with the full report when a plugin reports an error.
    const assembly = app.synth();
    const report = JSON.parse(
      readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8'),
    ) as ValidationReport;
    const nagErrors = report.pluginReports
      .filter((plugin) => plugin.pluginName === 'AwsSolutions')
      .flatMap((plugin) => plugin.violations.filter((violation) => violation.severity === 'error'));
    expect(nagErrors).toEqual([]);
  });

  it('reports no unacknowledged error on any resource', () => {
    expect(findings('error', app)).toEqual([]);
  });

  it('reports no unacknowledged warning either', () => {
    expect(findings('warning', app)).toEqual([]);
  });

  it('acknowledges only what cannot be fixed, each with a reason', () => {
    const acknowledged = app.node.findAll().flatMap((construct) =>
      construct.node.metadata
        .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((entry) =>
          Object.entries(entry.data as Record<string, string>).map(([rule, reason]) => ({
            rule: rule.replace(/^Annotation::/, ''),
            path: construct.node.path,
            reason,
          })),
        ),
    );
    for (const { rule, path, reason } of acknowledged) {
      expect(reason.length, `${rule} at ${path} needs a reason`).toBeGreaterThan(40);
    }
    const pathsOf = (rule: string) =>
      acknowledged.filter((found) => found.rule === rule).map(({ path }) => path);
    // No authorizer on the API routes (the functions check keys), and no rotation of the signing secret
    // (it would break every link in mail already sent). Nothing else.
    expect([...new Set(acknowledged.map(({ rule }) => rule))].sort()).toEqual([
      'AwsSolutions-APIG4',
      'AwsSolutions-SMG4',
    ]);
    expect(pathsOf('AwsSolutions-APIG4').every((path) => path.startsWith('rapport-stateless/HttpApi/'))).toBe(
      true,
    );
    expect(pathsOf('AwsSolutions-SMG4')).toEqual(['rapport-stateful/SigningSecret']);
  });

  it('does catch a finding, and only an acknowledgement silences it', () => {
    // Shows that the two tests above run live checks: a bare queue breaks SQS3 and SQS4.
    const probe = new App();
    const queue = new Queue(new Stack(probe, 'Probe'), 'Bare');
    expect(findings('error', probe)).toEqual(
      expect.arrayContaining([
        'AwsSolutions-SQS3 at Probe/Bare/Resource',
        'AwsSolutions-SQS4 at Probe/Bare/Resource',
      ]),
    );
    Validations.of(queue).acknowledge({ id: 'AwsSolutions-SQS4', reason: 'probe' });
    expect(findings('error', probe)).not.toContain('AwsSolutions-SQS4 at Probe/Bare/Resource');
    expect(findings('error', probe)).toContain('AwsSolutions-SQS3 at Probe/Bare/Resource');
  });
});
