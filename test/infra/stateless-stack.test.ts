import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, type CfnElement, type Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { type FunctionName, httpFunctions, routes } from '#infra/routes.ts';
import { ingestBatchSize, ingestMaxBatchingWindowSeconds } from '#infra/stacks/ingest-settings.ts';
import { createRapportStacks, type RapportStacks } from '#infra/stacks/rapport-stacks.ts';

/** Any settings will do: the stack passes them on without reading them. */
const engagementSettings = { mainCurrency: 'EUR', lapsedAfterDays: 60 };

let stacks: RapportStacks;
let stateful: Template;
let stateless: Template;
let assemblyDirectory: string;

// Bundling four functions with esbuild takes longer than vitest's default hook timeout.
const synthTimeoutMs = 120_000;

// One synth for the whole file: it bundles every function with esbuild. CloudFormation's own template
// checks (seconds per synth, warnings only) run once, in nag.test.ts, on the app as infra/app.ts builds it.
beforeAll(() => {
  const app = new App({ builtinCloudFormationValidation: false });
  stacks = createRapportStacks(app, { engagementSettings });
  assemblyDirectory = app.synth().directory;
  stateful = Template.fromStack(stacks.stateful);
  stateless = Template.fromStack(stacks.stateless);
}, synthTimeoutMs);

function logicalId(stack: Stack, construct: IConstruct): string {
  return stack.getLogicalId(construct.node.defaultChild as CfnElement);
}

function resourceProperties(template: Template, id: string): Record<string, unknown> {
  const resource = template.toJSON().Resources[id];
  if (resource === undefined) throw new Error(`no resource ${id} in the template`);
  return resource.Properties;
}

function httpFunctionId(name: FunctionName): string {
  return logicalId(stacks.stateless, stacks.stateless.functions[name].lambda);
}

function ingestFunctionId(): string {
  return logicalId(stacks.stateless, stacks.stateless.ingestFunction.lambda);
}

/** The value a cross-stack import in the stateless template resolves to, as the stateful outputs name it. */
function exportedValue(importValue: unknown): unknown {
  const name = (importValue as { 'Fn::ImportValue'?: string })['Fn::ImportValue'];
  const outputs = Object.values(
    stateful.toJSON().Outputs as Record<string, { Value: unknown; Export?: { Name: string } }>,
  );
  return outputs.find((output) => output.Export?.Name === name)?.Value;
}

function functionEnvironment(id: string): Record<string, unknown> {
  const properties = resourceProperties(stateless, id) as {
    Environment: { Variables: Record<string, unknown> };
  };
  return properties.Environment.Variables;
}

describe('HTTP API', () => {
  it('has a route for every entry in infra/routes.ts, integrated with its function', () => {
    stateless.resourceCountIs('AWS::ApiGatewayV2::Route', routes.length);
    const resources = stateless.toJSON().Resources as Record<string, { Type: string; Properties: never }>;
    for (const route of routes) {
      const found = stateless.findResources('AWS::ApiGatewayV2::Route', {
        Properties: { RouteKey: `${route.method} ${route.path}` },
      });
      const [routeResource] = Object.values(found) as {
        Properties: { Target: { 'Fn::Join': [string, unknown[]] } };
      }[];
      expect(routeResource, `${route.method} ${route.path}`).toBeDefined();
      const target = routeResource?.Properties.Target['Fn::Join'][1][1] as { Ref: string };
      const integration = resources[target.Ref] as { Properties: { IntegrationUri: unknown } } | undefined;
      expect(integration?.Properties.IntegrationUri).toEqual({
        'Fn::GetAtt': [httpFunctionId(route.function), 'Arn'],
      });
    }
  });

  it('has one Lambda integration per function', () => {
    stateless.resourceCountIs('AWS::ApiGatewayV2::Integration', Object.keys(httpFunctions).length);
  });

  it('answers CORS preflights from any origin for the methods and headers Segment clients send', () => {
    const apis = Object.values(stateless.findResources('AWS::ApiGatewayV2::Api'));
    expect(apis).toHaveLength(1);
    const cors = apis[0]?.Properties.CorsConfiguration;
    expect(cors.AllowOrigins).toEqual(['*']);
    expect([...cors.AllowMethods].sort()).toEqual(['GET', 'OPTIONS', 'POST']);
    expect([...cors.AllowHeaders].sort()).toEqual(['authorization', 'content-type']);
  });

  it('logs every request to a log group with retention', () => {
    stateless.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      AccessLogSettings: {
        DestinationArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^HttpApiAccessLogs'), 'Arn'] },
        Format: Match.stringLikeRegexp('\\$context\\.requestId'),
      },
    });
    stateless.hasResourceProperties('AWS::Logs::LogGroup', {
      RetentionInDays: Match.anyValue(),
    });
  });

  it('outputs the API URL', () => {
    stateless.hasOutput('ApiUrl', { Value: Match.anyValue() });
  });
});

describe('functions', () => {
  const expectedCount = Object.keys(httpFunctions).length + 1;

  it('run nodejs24.x on arm64 with source maps, each logging to its own group with retention', () => {
    stateless.resourceCountIs('AWS::Lambda::Function', expectedCount);
    const functions = stateless.findResources('AWS::Lambda::Function');
    for (const [id, resource] of Object.entries(functions)) {
      const properties = resource.Properties;
      expect(properties.Runtime, id).toBe('nodejs24.x');
      expect(properties.Architectures, id).toEqual(['arm64']);
      expect(properties.Environment.Variables.NODE_OPTIONS, id).toBe('--enable-source-maps');
      const logGroupId = properties.LoggingConfig.LogGroup.Ref;
      expect(resourceProperties(stateless, logGroupId).RetentionInDays, id).toBeGreaterThan(0);
    }
    stateless.resourceCountIs('AWS::Logs::LogGroup', expectedCount + 1);
  });

  it('are bundled as minified ESM with a require shim and a source map', () => {
    const functions = stateless.findResources('AWS::Lambda::Function');
    for (const [id, resource] of Object.entries(functions)) {
      const assetHash = String(resource.Properties.Code.S3Key).replace(/\.zip$/, '');
      const bundle = join(assemblyDirectory, `asset.${assetHash}`);
      expect(resource.Properties.Handler, id).toBe('index.handler');
      const code = readFileSync(join(bundle, 'index.mjs'), 'utf8');
      expect(
        code.startsWith("import { createRequire as rapportCreateRequire } from 'node:module';"),
        id,
      ).toBe(true);
      expect(existsSync(join(bundle, 'index.mjs.map')), id).toBe(true);
    }
  });

  it('use roles without managed policies', () => {
    const roles = stateless.findResources('AWS::IAM::Role');
    expect(Object.keys(roles)).toHaveLength(expectedCount);
    for (const role of Object.values(roles)) {
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
  });

  it('pass the engagement settings to every function as JSON', () => {
    for (const id of Object.keys(stateless.findResources('AWS::Lambda::Function'))) {
      const value = functionEnvironment(id).RAPPORT_ENGAGEMENT;
      expect(JSON.parse(String(value)), id).toEqual(engagementSettings);
    }
  });

  it('pass no engagement settings when rapport.config.yaml has none, so the defaults apply', () => {
    // Bundling is skipped here: this app only shows the environment, and the synth above bundled already.
    const app = new App({
      builtinCloudFormationValidation: false,
      context: { 'aws:cdk:bundling-stacks': [] },
    });
    const { stateless: stack } = createRapportStacks(app, {});
    const functions = Template.fromStack(stack).findResources('AWS::Lambda::Function');
    expect(Object.keys(functions)).toHaveLength(expectedCount);
    for (const [id, resource] of Object.entries(functions)) {
      expect(resource.Properties.Environment.Variables, id).not.toHaveProperty('RAPPORT_ENGAGEMENT');
    }
  });

  it('collect reads the table and sends to the ingest queue', () => {
    const environment = functionEnvironment(httpFunctionId('collect'));
    expect(exportedValue(environment.RAPPORT_TABLE)).toEqual({
      Ref: logicalId(stacks.stateful, stacks.stateful.table),
    });
    expect(exportedValue(environment.RAPPORT_INGEST_QUEUE_URL)).toEqual({
      Ref: logicalId(stacks.stateful, stacks.stateful.ingestQueue),
    });
    expectRoleAllows('collect', ['sqs:SendMessage', 'dynamodb:GetItem']);
    expectRoleDenies('collect', ['dynamodb:PutItem']);
  });

  it('customers and health only read the table', () => {
    for (const name of ['customers', 'health'] as const) {
      const environment = functionEnvironment(httpFunctionId(name));
      expect(exportedValue(environment.RAPPORT_TABLE)).toEqual({
        Ref: logicalId(stacks.stateful, stacks.stateful.table),
      });
      expectRoleAllows(name, ['dynamodb:GetItem', 'dynamodb:Query']);
      expectRoleDenies(name, ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'sqs:SendMessage']);
    }
    expectRoleAllows('health', ['dynamodb:DescribeTable', 'sqs:GetQueueAttributes']);
  });

  it('ingest writes the table, puts events on the bus and sends to the DLQ', () => {
    const environment = functionEnvironment(ingestFunctionId());
    expect(exportedValue(environment.RAPPORT_TABLE)).toEqual({
      Ref: logicalId(stacks.stateful, stacks.stateful.table),
    });
    expect(exportedValue(environment.RAPPORT_BUS_NAME)).toEqual({
      Ref: logicalId(stacks.stateful, stacks.stateful.bus),
    });
    expect(exportedValue(environment.RAPPORT_INGEST_DLQ_URL)).toEqual({
      Ref: logicalId(stacks.stateful, stacks.stateful.ingestDeadLetterQueue),
    });
    expectRoleAllows('ingest', [
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'events:PutEvents',
      'sqs:SendMessage',
    ]);
  });
});

describe('ingest consumer', () => {
  function eventSourceMapping(): Record<string, unknown> {
    const mappings = Object.values(stateless.findResources('AWS::Lambda::EventSourceMapping'));
    expect(mappings).toHaveLength(1);
    return mappings[0]?.Properties;
  }

  it('reads the ingest queue in the batches ingest-settings.ts sets and reports partial batch failures', () => {
    const mapping = eventSourceMapping();
    expect(mapping.FunctionName).toEqual({ Ref: ingestFunctionId() });
    expect(exportedValue(mapping.EventSourceArn)).toEqual({
      'Fn::GetAtt': [logicalId(stacks.stateful, stacks.stateful.ingestQueue), 'Arn'],
    });
    expect(mapping.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    expect(mapping.BatchSize).toBe(ingestBatchSize);
    expect(mapping.MaximumBatchingWindowInSeconds).toBe(ingestMaxBatchingWindowSeconds);
    // Lambda takes at most 10,000 records from a standard queue, and more than 10 only with a window.
    expect(ingestBatchSize).toBeLessThanOrEqual(10_000);
    expect(
      ingestBatchSize <= 10 || ingestMaxBatchingWindowSeconds >= 1,
      'a batch size above 10 needs a batching window of at least 1 s',
    ).toBe(true);
    // Short, because ingest feeds live engagement state.
    expect(ingestMaxBatchingWindowSeconds).toBeLessThanOrEqual(5);
  });

  it('gets a queue visibility timeout of at least 6x its timeout plus the batching window', () => {
    const timeout = Number(resourceProperties(stateless, ingestFunctionId()).Timeout);
    const window = Number(eventSourceMapping().MaximumBatchingWindowInSeconds);
    const queue = resourceProperties(stateful, logicalId(stacks.stateful, stacks.stateful.ingestQueue));
    expect(timeout).toBeGreaterThan(0);
    expect(Number(queue.VisibilityTimeout)).toBeGreaterThanOrEqual(6 * timeout + window);
  });

  it('leaves the SQS redrive as a backstop one receive after its own RAPPORT_MAX_RECEIVE_COUNT', () => {
    const consumerCount = Number(functionEnvironment(ingestFunctionId()).RAPPORT_MAX_RECEIVE_COUNT);
    const queue = resourceProperties(stateful, logicalId(stacks.stateful, stacks.stateful.ingestQueue)) as {
      RedrivePolicy: { maxReceiveCount: number };
    };
    expect(consumerCount).toBeGreaterThanOrEqual(1);
    expect(queue.RedrivePolicy.maxReceiveCount).toBe(consumerCount + 1);
  });
});

describe('DLQ alarm', () => {
  it('fires as soon as one message is visible in the ingest DLQ', () => {
    const alarms = Object.values(stateless.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(1);
    const alarm = alarms[0]?.Properties;
    expect(alarm).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
      EvaluationPeriods: 1,
    });
    const [dimension] = alarm.Dimensions;
    expect(dimension.Name).toBe('QueueName');
    expect(exportedValue(dimension.Value)).toEqual({
      'Fn::GetAtt': [logicalId(stacks.stateful, stacks.stateful.ingestDeadLetterQueue), 'QueueName'],
    });
  });
});

type Statement = { Action: string | string[] };

function roleActions(name: FunctionName | 'ingest'): string[] {
  const fn = name === 'ingest' ? stacks.stateless.ingestFunction : stacks.stateless.functions[name];
  const roleId = logicalId(stacks.stateless, fn.lambda.role ?? fn.lambda);
  const policies = Object.values(stateless.findResources('AWS::IAM::Policy')).filter((policy) =>
    (policy.Properties.Roles as { Ref: string }[]).some((role) => role.Ref === roleId),
  );
  return policies.flatMap((policy) =>
    (policy.Properties.PolicyDocument.Statement as Statement[]).flatMap((statement) => statement.Action),
  );
}

function expectRoleAllows(name: FunctionName | 'ingest', actions: string[]): void {
  expect(roleActions(name)).toEqual(expect.arrayContaining(actions));
}

function expectRoleDenies(name: FunctionName | 'ingest', actions: string[]): void {
  const granted = roleActions(name);
  for (const action of actions) {
    expect(granted, `${name} must not have ${action}`).not.toContain(action);
  }
}
