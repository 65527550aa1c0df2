import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, type Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { readRepositoryCatalog } from '#infra/campaign-catalog.ts';
import type { RapportFunction } from '#infra/constructs/rapport-function.ts';
import { type FunctionName, httpFunctions, routes } from '#infra/routes.ts';
import {
  ingestBatchSize,
  ingestMaxBatchingWindowSeconds,
  ingestMaxConcurrency,
  ingestQueueAgeAlarmPeriods,
  ingestQueueAgeAlarmSeconds,
} from '#infra/stacks/ingest-settings.ts';
import { createRapportStacks, type RapportStacks } from '#infra/stacks/rapport-stacks.ts';
import { apiThrottleBurstLimit, apiThrottleRateLimit } from '#infra/stacks/stateless-stack.ts';
import type { CatalogSource } from '#shared/campaigns/catalog.ts';
import { keyPartition } from '#shared/store/table.ts';
import { actionsOf, RapportTemplates, resourcesOf, type Statement } from './rapport-templates.ts';

const repositoryRoot = fileURLToPath(new URL('../../', import.meta.url));

/** Valid settings other than the defaults, so that passing them on shows; the repo's campaigns accept them. */
const engagementSettings = { mainCurrency: 'EUR', lapsedAfterDays: 60 };

let catalog: CatalogSource;
let templates: RapportTemplates;
let stacks: RapportStacks;
let stateful: Template;
let stateless: Template;
let assemblyDirectory: string;

// Bundling eight functions with esbuild takes longer than vitest's default hook timeout.
const synthTimeoutMs = 120_000;

// One synth for the whole file: it bundles every function with esbuild. CloudFormation's own template
// checks (seconds per synth, warnings only) run once, in nag.test.ts, on the app as infra/app.ts builds it.
beforeAll(() => {
  catalog = readRepositoryCatalog(repositoryRoot);
  const app = new App({ builtinCloudFormationValidation: false });
  stacks = createRapportStacks(app, { engagementSettings, catalog });
  assemblyDirectory = app.synth().directory;
  templates = new RapportTemplates(stacks);
  stateful = templates.stateful;
  stateless = templates.stateless;
}, synthTimeoutMs);

function logicalId(stack: Stack, construct: IConstruct): string {
  return templates.logicalId(stack, construct);
}

function resourceProperties(template: Template, id: string): Record<string, unknown> {
  return templates.resourceProperties(template, id);
}

function httpFunctionId(name: FunctionName): string {
  return templates.functionId(stacks.stateless.functions[name]);
}

function ingestFunctionId(): string {
  return templates.functionId(stacks.stateless.ingestFunction);
}

function exportedValue(importValue: unknown): unknown {
  return templates.exportedValue(importValue);
}

function functionEnvironment(id: string): Record<string, unknown> {
  return templates.functionEnvironment(id);
}

/** The functions that read campaigns, and so get the catalog. */
function catalogReaders(): RapportFunction[] {
  const { campaigns } = stacks.stateless;
  return [
    stacks.stateless.ingestFunction,
    campaigns.send,
    campaigns.evaluate,
    campaigns.sweep,
    campaigns.trigger,
  ];
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

  it('throttles every route of the stage by default, so a leaked write key cannot run up the bill', () => {
    stateless.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      DefaultRouteSettings: {
        ThrottlingRateLimit: apiThrottleRateLimit,
        ThrottlingBurstLimit: apiThrottleBurstLimit,
      },
    });
    expect(apiThrottleRateLimit).toBe(1000);
    expect(apiThrottleBurstLimit).toBe(2000);
    // Below the account's regional quota of 10,000 requests/s and 5,000 burst, or they would not limit.
    expect(apiThrottleRateLimit).toBeLessThan(10_000);
    expect(apiThrottleBurstLimit).toBeLessThanOrEqual(5_000);
  });

  it('outputs the API URL', () => {
    stateless.hasOutput('ApiUrl', { Value: Match.anyValue() });
  });
});

describe('functions', () => {
  // The HTTP functions, ingest, and the four campaign functions: send, evaluate, sweep and trigger.
  const expectedCount = Object.keys(httpFunctions).length + 1 + 4;

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

  it('bundle the repository catalog as catalog.json into each function that reads campaigns', () => {
    const readers = new Set(catalogReaders().map((fn) => templates.functionId(fn)));
    expect(readers.size).toBe(5);
    const functions = stateless.findResources('AWS::Lambda::Function');
    for (const [id, resource] of Object.entries(functions)) {
      const bundle = join(
        assemblyDirectory,
        `asset.${String(resource.Properties.Code.S3Key).replace(/\.zip$/, '')}`,
      );
      const environment = functionEnvironment(id);
      if (readers.has(id)) {
        expect(environment.RAPPORT_CATALOG, id).toBe('/var/task/catalog.json');
        expect(JSON.parse(readFileSync(join(bundle, 'catalog.json'), 'utf8')), id).toEqual(catalog);
      } else {
        expect(environment, id).not.toHaveProperty('RAPPORT_CATALOG');
        expect(existsSync(join(bundle, 'catalog.json')), id).toBe(false);
      }
    }
  });

  it('use roles without managed policies', () => {
    const roles = stateless.findResources('AWS::IAM::Role');
    // One per function, and the one EventBridge Scheduler invokes evaluate with.
    expect(Object.keys(roles)).toHaveLength(expectedCount + 1);
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
    const { stateless: stack } = createRapportStacks(app, { catalog });
    const functions = Template.fromStack(stack).findResources('AWS::Lambda::Function');
    expect(Object.keys(functions)).toHaveLength(expectedCount);
    for (const [id, resource] of Object.entries(functions)) {
      expect(resource.Properties.Environment.Variables, id).not.toHaveProperty('RAPPORT_ENGAGEMENT');
    }
  });

  it('collect only gets API keys from the table, and sends to the ingest queue', () => {
    const environment = functionEnvironment(httpFunctionId('collect'));
    expect(exportedValue(environment.RAPPORT_TABLE)).toEqual({
      Ref: logicalId(stacks.stateful, stacks.stateful.table),
    });
    expect(exportedValue(environment.RAPPORT_INGEST_QUEUE_URL)).toEqual({
      Ref: logicalId(stacks.stateful, stacks.stateful.ingestQueue),
    });
    expectRoleAllows('collect', ['sqs:SendMessage', 'dynamodb:GetItem']);
    // One DynamoDB statement: GetItem on the table itself, in the API-key partition only.
    const tableStatements = roleStatements('collect').filter((statement) =>
      actionsOf(statement).some((action) => action.startsWith('dynamodb:')),
    );
    expect(tableStatements).toHaveLength(1);
    const [statement] = tableStatements;
    expect(statement?.Effect).toBe('Allow');
    expect(actionsOf(statement)).toEqual(['dynamodb:GetItem']);
    expect(resourcesOf(statement).map(exportedValue)).toEqual([tableArn()]);
    expect(keyPartition).toBe('key');
    expect(statement?.Condition).toEqual({
      'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['key'] },
    });
    expectRoleDenies('collect', [
      'dynamodb:Query',
      'dynamodb:Scan',
      'dynamodb:BatchGetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
    ]);
  });

  it('customers only reads the table', () => {
    const environment = functionEnvironment(httpFunctionId('customers'));
    expect(exportedValue(environment.RAPPORT_TABLE)).toEqual({
      Ref: logicalId(stacks.stateful, stacks.stateful.table),
    });
    expectRoleAllows('customers', ['dynamodb:GetItem', 'dynamodb:Query']);
    expectRoleDenies('customers', ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'sqs:SendMessage']);
  });

  it('health only describes the table and reads the ingest queue attributes', () => {
    const environment = functionEnvironment(httpFunctionId('health'));
    expect(exportedValue(environment.RAPPORT_TABLE)).toEqual({
      Ref: logicalId(stacks.stateful, stacks.stateful.table),
    });
    expect(exportedValue(environment.RAPPORT_INGEST_QUEUE_URL)).toEqual({
      Ref: logicalId(stacks.stateful, stacks.stateful.ingestQueue),
    });
    const statements = roleStatements('health');
    const grantedOn = (service: string) =>
      statements.filter((statement) => actionsOf(statement).some((action) => action.startsWith(service)));
    const beyondLogs = statements.flatMap(actionsOf).filter((action) => !action.startsWith('logs:'));
    expect(beyondLogs.sort()).toEqual(['dynamodb:DescribeTable', 'sqs:GetQueueAttributes']);
    expect(grantedOn('dynamodb:').flatMap(resourcesOf).map(exportedValue)).toEqual([tableArn()]);
    expect(grantedOn('sqs:').flatMap(resourcesOf).map(exportedValue)).toEqual([
      { 'Fn::GetAtt': [logicalId(stacks.stateful, stacks.stateful.ingestQueue), 'Arn'] },
    ]);
  });

  it('ingest writes the table, puts events on the bus and sends to the DLQ and the send queue', () => {
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
    expect(exportedValue(environment.RAPPORT_SEND_QUEUE_URL)).toEqual(
      templates.statefulRef(stacks.stateful.sendQueue),
    );
    const sendsTo = templates
      .statementsOn(stacks.stateless.ingestFunction, 'sqs:SendMessage')
      .flatMap(resourcesOf)
      .map(exportedValue);
    expect(sendsTo).toEqual(
      expect.arrayContaining([
        templates.statefulAttribute(stacks.stateful.ingestDeadLetterQueue, 'Arn'),
        templates.statefulAttribute(stacks.stateful.sendQueue, 'Arn'),
      ]),
    );
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
    const mappings = Object.values(
      stateless.findResources('AWS::Lambda::EventSourceMapping', {
        Properties: { FunctionName: { Ref: ingestFunctionId() } },
      }),
    );
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

  it('runs at most ingestMaxConcurrency batches at once, leaving concurrency to collect', () => {
    expect(eventSourceMapping().ScalingConfig).toEqual({ MaximumConcurrency: ingestMaxConcurrency });
    // The range Lambda accepts for an SQS event source.
    expect(ingestMaxConcurrency).toBeGreaterThanOrEqual(2);
    expect(ingestMaxConcurrency).toBeLessThanOrEqual(1000);
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

describe('alarms', () => {
  type AlarmProperties = {
    Namespace: string;
    MetricName: string;
    Dimensions: { Name: string; Value: unknown }[];
    [property: string]: unknown;
  };

  function alarms(): AlarmProperties[] {
    return Object.values(stateless.findResources('AWS::CloudWatch::Alarm')).map(
      (alarm) => alarm.Properties as AlarmProperties,
    );
  }

  /** Whether the alarm watches ingest or the API; campaign-functions.test.ts checks the campaign ones. */
  function watchesIngestOrApi(alarm: AlarmProperties): boolean {
    const [dimension] = alarm.Dimensions;
    if (dimension?.Name === 'FunctionName')
      return (dimension.Value as { Ref?: string }).Ref === ingestFunctionId();
    if (dimension?.Name === 'QueueName') {
      const queueName = JSON.stringify(exportedValue(dimension.Value));
      return [stacks.stateful.ingestQueue, stacks.stateful.ingestDeadLetterQueue].some(
        (queue) => JSON.stringify(queueArnAttribute(queue, 'QueueName')) === queueName,
      );
    }
    return true;
  }

  function alarmOn(namespace: string, metricName: string): AlarmProperties {
    const found = alarms().filter(
      (alarm) =>
        alarm.Namespace === namespace && alarm.MetricName === metricName && watchesIngestOrApi(alarm),
    );
    expect(found, `one alarm on ${namespace} ${metricName}`).toHaveLength(1);
    return found[0] as AlarmProperties;
  }

  function queueArnAttribute(queue: IConstruct, attribute: string): unknown {
    return { 'Fn::GetAtt': [logicalId(stacks.stateful, queue), attribute] };
  }

  it('are the nine operators expect, and no more', () => {
    expect(
      alarms()
        .map((alarm) => `${alarm.Namespace} ${alarm.MetricName}`)
        .sort(),
    ).toEqual([
      'AWS/ApiGateway 5xx',
      // Ingest, send, evaluate, sweep and trigger.
      ...Array(5).fill('AWS/Lambda Errors'),
      'AWS/SQS ApproximateAgeOfOldestMessage',
      // The ingest DLQ and the send DLQ.
      'AWS/SQS ApproximateNumberOfMessagesVisible',
      'AWS/SQS ApproximateNumberOfMessagesVisible',
    ]);
  });

  it('fires as soon as one message is visible in the ingest DLQ', () => {
    const alarm = alarmOn('AWS/SQS', 'ApproximateNumberOfMessagesVisible');
    expect(alarm).toMatchObject({
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
      EvaluationPeriods: 1,
    });
    const [dimension] = alarm.Dimensions;
    expect(dimension?.Name).toBe('QueueName');
    expect(exportedValue(dimension?.Value)).toEqual(
      queueArnAttribute(stacks.stateful.ingestDeadLetterQueue, 'QueueName'),
    );
  });

  it('fires when the oldest ingest message stays older than 15 minutes for three 5-minute periods', () => {
    const alarm = alarmOn('AWS/SQS', 'ApproximateAgeOfOldestMessage');
    expect(alarm).toMatchObject({
      Statistic: 'Maximum',
      Period: 300,
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: ingestQueueAgeAlarmSeconds,
      EvaluationPeriods: ingestQueueAgeAlarmPeriods,
      TreatMissingData: 'notBreaching',
    });
    expect(ingestQueueAgeAlarmSeconds).toBe(15 * 60);
    expect(ingestQueueAgeAlarmPeriods).toBe(3);
    const [dimension] = alarm.Dimensions;
    expect(dimension?.Name).toBe('QueueName');
    expect(exportedValue(dimension?.Value)).toEqual(
      queueArnAttribute(stacks.stateful.ingestQueue, 'QueueName'),
    );
    // Far inside the queue's retention, so a stall is seen long before events expire.
    const queue = resourceProperties(stateful, logicalId(stacks.stateful, stacks.stateful.ingestQueue));
    expect(ingestQueueAgeAlarmSeconds * ingestQueueAgeAlarmPeriods).toBeLessThan(
      Number(queue.MessageRetentionPeriod) / 100,
    );
  });

  it('fires on any failed ingest invocation', () => {
    const alarm = alarmOn('AWS/Lambda', 'Errors');
    expect(alarm).toMatchObject({
      Statistic: 'Sum',
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
      EvaluationPeriods: 1,
    });
    expect(alarm.Dimensions).toEqual([{ Name: 'FunctionName', Value: { Ref: ingestFunctionId() } }]);
  });

  it('fires on 5xx answers from the HTTP API', () => {
    const alarm = alarmOn('AWS/ApiGateway', '5xx');
    expect(alarm).toMatchObject({
      Statistic: 'Sum',
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
      EvaluationPeriods: 1,
    });
    expect(alarm.Dimensions).toEqual([
      { Name: 'ApiId', Value: { Ref: logicalId(stacks.stateless, stacks.stateless.api) } },
    ]);
  });
});

function functionNamed(name: FunctionName | 'ingest'): RapportFunction {
  return name === 'ingest' ? stacks.stateless.ingestFunction : stacks.stateless.functions[name];
}

function roleStatements(name: FunctionName | 'ingest'): Statement[] {
  return templates.roleStatements(functionNamed(name));
}

function tableArn(): unknown {
  return templates.statefulAttribute(stacks.stateful.table, 'Arn');
}

function roleActions(name: FunctionName | 'ingest'): string[] {
  return templates.roleActions(functionNamed(name));
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
