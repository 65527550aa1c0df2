import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import { InvalidCatalogError, readRepositoryCatalog } from '#infra/campaign-catalog.ts';
import type { RapportFunction } from '#infra/constructs/rapport-function.ts';
import { campaignScheduleGroupName } from '#infra/stacks/campaign-schedules.ts';
import { createRapportStacks, type RapportStacksProps } from '#infra/stacks/rapport-stacks.ts';
import { defaultSendConcurrency, sendBatchSize } from '#infra/stacks/send-settings.ts';
import type { CatalogSource } from '#shared/campaigns/catalog.ts';
import { actionsOf, RapportTemplates, resourcesOf } from './rapport-templates.ts';

const repositoryRoot = fileURLToPath(new URL('../../', import.meta.url));

let repositoryCatalog: CatalogSource;
let templates: RapportTemplates;

/**
 * Synthesizes the stacks without bundling: these tests read the templates only, and stateless-stack.test.ts
 * checks the bundles (catalog.json included).
 */
function synth(props: Partial<RapportStacksProps> = {}): RapportTemplates {
  const app = new App({
    builtinCloudFormationValidation: false,
    context: { 'aws:cdk:bundling-stacks': [] },
  });
  return new RapportTemplates(createRapportStacks(app, { catalog: repositoryCatalog, ...props }));
}

/** The repository's catalog with one campaign document changed. */
function withCampaign(id: string, change: (document: Record<string, unknown>) => void): CatalogSource {
  const catalog = structuredClone(repositoryCatalog);
  const found = catalog.campaigns.find((campaign) => campaign.file === `campaigns/${id}.yaml`);
  if (found === undefined) throw new Error(`no campaigns/${id}.yaml in the repository`);
  change(found.document as Record<string, unknown>);
  return catalog;
}

function campaignDocuments(catalog: CatalogSource): { id: string; enabled?: boolean; trigger: Trigger }[] {
  return catalog.campaigns.map(({ document }) => document as { id: string; trigger: Trigger });
}

type Trigger = { kind: string; expression?: string; at?: string; event?: string };

beforeAll(() => {
  repositoryCatalog = readRepositoryCatalog(repositoryRoot);
  templates = synth();
});

function campaigns() {
  return templates.stacks.stateless.campaigns;
}

function schedules(from: RapportTemplates = templates): Record<string, Record<string, unknown>> {
  const found = from.stateless.findResources('AWS::Scheduler::Schedule');
  return Object.fromEntries(
    Object.values(found).map((resource) => [String(resource.Properties.Name), resource.Properties]),
  );
}

function sendQueueArn(): unknown {
  return templates.statefulAttribute(templates.stacks.stateful.sendQueue, 'Arn');
}

/** What a function may do beyond writing its own logs. */
function grantsBeyondLogs(fn: RapportFunction): string[] {
  return templates
    .roleActions(fn)
    .filter((action) => !action.startsWith('logs:'))
    .sort();
}

describe('send function', () => {
  function mapping(): Record<string, unknown> {
    const found = Object.values(
      templates.stateless.findResources('AWS::Lambda::EventSourceMapping', {
        Properties: { FunctionName: { Ref: templates.functionId(campaigns().send) } },
      }),
    );
    expect(found).toHaveLength(1);
    return found[0]?.Properties;
  }

  it('consumes the send queue ten requests at a time and reports partial batch failures', () => {
    const properties = mapping();
    expect(templates.exportedValue(properties.EventSourceArn)).toEqual(sendQueueArn());
    expect(properties.BatchSize).toBe(10);
    expect(sendBatchSize).toBe(10);
    expect(properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
  });

  it('runs two at once by default: reserved concurrency and the event source maximum agree', () => {
    expect(defaultSendConcurrency).toBe(2);
    const fn = templates.resourceProperties(templates.stateless, templates.functionId(campaigns().send));
    expect(fn.ReservedConcurrentExecutions).toBe(2);
    expect(mapping().ScalingConfig).toEqual({ MaximumConcurrency: 2 });
  });

  it('takes its concurrency from the stacks props, and refuses less than the event source can run', () => {
    const wider = synth({ sendConcurrency: 5 });
    const send = wider.stacks.stateless.campaigns.send;
    expect(
      wider.resourceProperties(wider.stateless, wider.functionId(send)).ReservedConcurrentExecutions,
    ).toBe(5);
    wider.stateless.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: wider.functionId(send) },
      ScalingConfig: { MaximumConcurrency: 5 },
    });
    expect(() => synth({ sendConcurrency: 1 })).toThrow(
      'sendConcurrency: expected a whole number of at least 2',
    );
  });

  it('gets a send queue visibility timeout of at least six times its own timeout', () => {
    const timeout = Number(
      templates.resourceProperties(templates.stateless, templates.functionId(campaigns().send)).Timeout,
    );
    const queue = templates.resourceProperties(
      templates.stateful,
      templates.logicalId(templates.stacks.stateful, templates.stacks.stateful.sendQueue),
    );
    expect(timeout).toBeGreaterThan(0);
    expect(Number(queue.VisibilityTimeout)).toBeGreaterThanOrEqual(6 * timeout);
  });

  it('is told the table, the ingest queue, the configuration set, the catalog and the signing secret', () => {
    const { stateful } = templates.stacks;
    const environment = templates.functionEnvironment(campaigns().send);
    expect(templates.exportedValue(environment.RAPPORT_TABLE)).toEqual(templates.statefulRef(stateful.table));
    expect(templates.exportedValue(environment.RAPPORT_INGEST_QUEUE_URL)).toEqual(
      templates.statefulRef(stateful.ingestQueue),
    );
    expect(templates.exportedValue(environment.RAPPORT_SES_CONFIGURATION_SET)).toEqual(
      templates.statefulRef(stateful.sesConfigurationSet),
    );
    expect(environment.RAPPORT_CATALOG).toBe('/var/task/catalog.json');
    // A dynamic reference, resolved by CloudFormation at deploy time: the value is in no template.
    const [prefix, parts] = (environment.RAPPORT_SIGNING_SECRET as { 'Fn::Join': [string, unknown[]] })[
      'Fn::Join'
    ];
    expect(prefix).toBe('');
    expect(parts[0]).toBe('{{resolve:secretsmanager:');
    expect(templates.exportedValue(parts[1])).toEqual(templates.statefulRef(stateful.signingSecret));
    expect(parts[2]).toBe(':SecretString:::}}');
    expect(environment).not.toHaveProperty('RAPPORT_SEND_PACING');
  });

  it('may send email only as the catalog sender, through its identities and the configuration set', () => {
    const statements = templates.statementsOn(campaigns().send, 'ses:');
    expect(statements).toHaveLength(1);
    const [statement] = statements;
    expect(statement?.Effect).toBe('Allow');
    expect(actionsOf(statement)).toEqual(['ses:SendEmail']);
    const resources = resourcesOf(statement).map((resource) => JSON.stringify(resource));
    expect(resources).toHaveLength(3);
    // rapport.config.yaml sends as "rapport demo shop <shop@shop.example>": the address and its domain.
    expect(resources.filter((resource) => resource.includes(':identity/shop@shop.example'))).toHaveLength(1);
    expect(resources.filter((resource) => resource.includes(':identity/shop.example'))).toHaveLength(1);
    const configurationSet = resourcesOf(statement).find((resource) =>
      JSON.stringify(resource).includes(':configuration-set/'),
    ) as { 'Fn::Join': [string, unknown[]] };
    const parts = configurationSet['Fn::Join'][1];
    expect(templates.exportedValue(parts[parts.length - 1])).toEqual(
      templates.statefulRef(templates.stacks.stateful.sesConfigurationSet),
    );
    expect(resources.join()).not.toContain('*');
    expect(statement?.Condition).toEqual({
      StringEqualsIgnoreCase: { 'ses:FromAddress': ['shop@shop.example'] },
    });
  });

  it('has nothing beyond the table, the two queues and SendEmail: no raw mail, no secret access', () => {
    const { stateful } = templates.stacks;
    const granted = grantsBeyondLogs(campaigns().send);
    expect(granted.filter((action) => !action.startsWith('dynamodb:') && !action.startsWith('sqs:'))).toEqual(
      ['ses:SendEmail'],
    );
    expect(
      templates
        .statementsOn(campaigns().send, 'sqs:SendMessage')
        .flatMap(resourcesOf)
        .map((resource) => templates.exportedValue(resource)),
    ).toEqual([templates.statefulAttribute(stateful.ingestQueue, 'Arn')]);
    expect(
      templates
        .statementsOn(campaigns().send, 'sqs:ReceiveMessage')
        .flatMap(resourcesOf)
        .map((resource) => templates.exportedValue(resource)),
    ).toEqual([sendQueueArn()]);
  });

  it('may also send as the From of a campaign that has its own', () => {
    const catalog = withCampaign('vip-welcome', (document) => {
      (document.message as Record<string, unknown>).from = 'Gold desk <gold@vip.shop.example>';
    });
    const other = synth({ catalog });
    const [statement] = other.statementsOn(other.stacks.stateless.campaigns.send, 'ses:');
    const resources = JSON.stringify(resourcesOf(statement));
    expect(resources).toContain(':identity/gold@vip.shop.example');
    expect(resources).toContain(':identity/vip.shop.example');
    expect(statement?.Condition).toEqual({
      StringEqualsIgnoreCase: { 'ses:FromAddress': ['gold@vip.shop.example', 'shop@shop.example'] },
    });
  });

  it('fails the synth on a From without an address, naming the file and the field', () => {
    const catalog = withCampaign('vip-welcome', (document) => {
      (document.message as Record<string, unknown>).from = 'The gold desk';
    });
    expect(() => synth({ catalog })).toThrow(InvalidCatalogError);
    expect(() => synth({ catalog })).toThrow('campaigns/vip-welcome.yaml: message.from');
  });
});

describe('campaign schedules', () => {
  function groupId(): string {
    const { group } = campaigns().schedules;
    if (group === undefined) throw new Error('no schedule group');
    return templates.stacks.stateless.getLogicalId(group);
  }

  function scheduledCampaigns(catalog: CatalogSource) {
    return campaignDocuments(catalog).filter(({ trigger }) => ['schedule', 'date'].includes(trigger.kind));
  }

  it('are one per schedule or date campaign of the catalog, named after the campaign', () => {
    const expected = scheduledCampaigns(repositoryCatalog).map(({ id }) => id);
    expect(expected.length).toBeGreaterThanOrEqual(2);
    expect(Object.keys(schedules()).sort()).toEqual([...expected].sort());
  });

  it('fire on the campaign expression, or daily at a date campaign time of day, in UTC and on time', () => {
    for (const { id, trigger } of scheduledCampaigns(repositoryCatalog)) {
      const [hours, minutes] = (trigger.at ?? '09:00').split(':').map(Number);
      const expression =
        trigger.kind === 'schedule' ? trigger.expression : `cron(${minutes} ${hours} * * ? *)`;
      expect(schedules()[id], id).toMatchObject({
        ScheduleExpression: expression,
        ScheduleExpressionTimezone: 'UTC',
        FlexibleTimeWindow: { Mode: 'OFF' },
        State: 'ENABLED',
      });
    }
    expect(schedules()['weekly-newsletter']?.ScheduleExpression).toBe('cron(0 9 ? * MON *)');
    expect(schedules().birthday?.ScheduleExpression).toBe('cron(0 9 * * ? *)');
  });

  it('invoke the evaluate function with the campaign id and the scheduled time', () => {
    const evaluateArn = { 'Fn::GetAtt': [templates.functionId(campaigns().evaluate), 'Arn'] };
    for (const [id, properties] of Object.entries(schedules())) {
      const target = properties.Target as { Arn: unknown; Input: string; RoleArn: unknown };
      expect(target.Arn, id).toEqual(evaluateArn);
      expect(JSON.parse(target.Input), id).toEqual({
        campaignId: id,
        scheduledTime: '<aws.scheduler.scheduled-time>',
      });
      expect(target.RoleArn, id).toEqual({
        'Fn::GetAtt': [
          templates.logicalId(templates.stacks.stateless, campaigns().schedules.role ?? campaigns()),
          'Arn',
        ],
      });
      expect(properties.GroupName, id).toEqual({ Ref: groupId() });
    }
    templates.stateless.hasResourceProperties('AWS::Scheduler::ScheduleGroup', {
      Name: campaignScheduleGroupName,
    });
  });

  it('act through a role only their group may assume, which may only invoke evaluate', () => {
    const role = campaigns().schedules.role;
    expect(role).toBeDefined();
    if (role === undefined) return;
    const roleId = templates.logicalId(templates.stacks.stateless, role);
    const trust = templates.resourceProperties(templates.stateless, roleId).AssumeRolePolicyDocument as {
      Statement: { Principal: unknown; Condition: { StringEquals: Record<string, unknown> } }[];
    };
    expect(trust.Statement).toHaveLength(1);
    expect(trust.Statement[0]?.Principal).toEqual({ Service: 'scheduler.amazonaws.com' });
    expect(trust.Statement[0]?.Condition.StringEquals).toEqual({
      'aws:SourceAccount': { Ref: 'AWS::AccountId' },
      'aws:SourceArn': { 'Fn::GetAtt': [groupId(), 'Arn'] },
    });
    const policies = Object.values(templates.stateless.findResources('AWS::IAM::Policy')).filter((policy) =>
      (policy.Properties.Roles as { Ref: string }[]).some((reference) => reference.Ref === roleId),
    );
    const statements = policies.flatMap((policy) => policy.Properties.PolicyDocument.Statement);
    expect(statements).toEqual([
      {
        Effect: 'Allow',
        Action: 'lambda:InvokeFunction',
        Resource: { 'Fn::GetAtt': [templates.functionId(campaigns().evaluate), 'Arn'] },
      },
    ]);
  });

  it('keep a disabled campaign schedule, disabled', () => {
    const catalog = withCampaign('weekly-newsletter', (document) => {
      document.enabled = false;
    });
    const found = schedules(synth({ catalog }));
    expect(found['weekly-newsletter']?.State).toBe('DISABLED');
    expect(found.birthday?.State).toBe('ENABLED');
  });

  it('are absent, with their group and role, when no campaign fires on a schedule or date', () => {
    const catalog = structuredClone(repositoryCatalog);
    const scheduled = new Set(scheduledCampaigns(catalog).map(({ id }) => `campaigns/${id}.yaml`));
    catalog.campaigns = catalog.campaigns.filter(({ file }) => !scheduled.has(file));
    const other = synth({ catalog });
    other.stateless.resourceCountIs('AWS::Scheduler::Schedule', 0);
    other.stateless.resourceCountIs('AWS::Scheduler::ScheduleGroup', 0);
    expect(other.stacks.stateless.campaigns.schedules.role).toBeUndefined();
  });
});

describe('evaluate function', () => {
  it('writes the table and sends to the send queue, nothing else', () => {
    const fn = campaigns().evaluate;
    expect(templates.exportedValue(templates.functionEnvironment(fn).RAPPORT_SEND_QUEUE_URL)).toEqual(
      templates.statefulRef(templates.stacks.stateful.sendQueue),
    );
    const granted = grantsBeyondLogs(fn);
    expect(granted).toEqual(
      expect.arrayContaining(['dynamodb:Query', 'dynamodb:PutItem', 'sqs:SendMessage']),
    );
    expect(granted.filter((action) => !action.startsWith('dynamodb:') && !action.startsWith('sqs:'))).toEqual(
      [],
    );
    expect(
      templates
        .statementsOn(fn, 'sqs:')
        .flatMap(resourcesOf)
        .map((resource) => templates.exportedValue(resource)),
    ).toEqual([sendQueueArn()]);
  });
});

describe('timer sweep', () => {
  it('runs every minute', () => {
    const rules = templates.stateless.findResources('AWS::Events::Rule', {
      Properties: { ScheduleExpression: 'rate(1 minute)' },
    });
    const [rule] = Object.values(rules);
    expect(Object.keys(rules)).toHaveLength(1);
    expect(rule?.Properties.State).toBe('ENABLED');
    expect(rule?.Properties.Targets).toEqual([
      { Arn: { 'Fn::GetAtt': [templates.functionId(campaigns().sweep), 'Arn'] }, Id: 'Target0' },
    ]);
    templates.stateless.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [templates.functionId(campaigns().sweep), 'Arn'] },
      Principal: 'events.amazonaws.com',
    });
  });

  it('is not retried: the next sweep picks up what a failed one left', () => {
    templates.stateless.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: templates.functionId(campaigns().sweep) },
      MaximumRetryAttempts: 0,
    });
  });

  it('writes the table and sends to the send queue', () => {
    const fn = campaigns().sweep;
    expect(templates.exportedValue(templates.functionEnvironment(fn).RAPPORT_SEND_QUEUE_URL)).toEqual(
      templates.statefulRef(templates.stacks.stateful.sendQueue),
    );
    expect(grantsBeyondLogs(fn)).toEqual(expect.arrayContaining(['dynamodb:DeleteItem', 'sqs:SendMessage']));
  });
});

describe('lifecycle trigger', () => {
  function lifecycleRules(from: RapportTemplates = templates) {
    return Object.values(from.stateless.findResources('AWS::Events::Rule')).filter(
      (rule) => rule.Properties.EventPattern !== undefined,
    );
  }

  it('routes the lifecycle events that enabled event campaigns fire on from the rapport bus', () => {
    const rules = lifecycleRules();
    expect(rules).toHaveLength(1);
    const properties = rules[0]?.Properties;
    expect(templates.exportedValue(properties.EventBusName)).toEqual(
      templates.statefulRef(templates.stacks.stateful.bus),
    );
    // "Order Completed" (order-thank-you) is a track event: ingest matches it, not the bus.
    expect(properties.EventPattern).toEqual({
      source: ['rapport.engagement'],
      'detail-type': ['Customer Tier Changed', 'Newsletter Ignored', 'Spend Threshold Crossed'],
    });
    expect(properties.Targets).toEqual([
      { Arn: { 'Fn::GetAtt': [templates.functionId(campaigns().trigger), 'Arn'] }, Id: 'Target0' },
    ]);
  });

  it('leaves out the events only disabled campaigns fire on', () => {
    const catalog = withCampaign('vip-welcome', (document) => {
      document.enabled = false;
    });
    expect(lifecycleRules(synth({ catalog }))[0]?.Properties.EventPattern['detail-type']).toEqual([
      'Newsletter Ignored',
      'Spend Threshold Crossed',
    ]);
  });

  it('has no rule when no enabled campaign fires on a lifecycle event', () => {
    const catalog = structuredClone(repositoryCatalog);
    catalog.campaigns = catalog.campaigns.filter(
      ({ document }) => (document as { trigger: Trigger }).trigger.kind !== 'event',
    );
    const other = synth({ catalog });
    expect(lifecycleRules(other)).toHaveLength(0);
    expect(other.stacks.stateless.campaigns.lifecycleRule).toBeUndefined();
  });

  it('only sends to the send queue: matching reads nothing from the table', () => {
    const fn = campaigns().trigger;
    expect(grantsBeyondLogs(fn)).toEqual(['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage']);
    expect(
      templates
        .statementsOn(fn, 'sqs:')
        .flatMap(resourcesOf)
        .map((resource) => templates.exportedValue(resource)),
    ).toEqual([sendQueueArn()]);
  });
});

describe('functions that put sends on the send queue', () => {
  it('are ingest, evaluate, sweep and trigger, each told its URL and allowed to send to it', () => {
    const { stateless, stateful } = templates.stacks;
    const senders = [stateless.ingestFunction, campaigns().evaluate, campaigns().sweep, campaigns().trigger];
    for (const fn of senders) {
      const environment = templates.functionEnvironment(fn);
      expect(templates.exportedValue(environment.RAPPORT_SEND_QUEUE_URL)).toEqual(
        templates.statefulRef(stateful.sendQueue),
      );
      expect(environment.RAPPORT_CATALOG).toBe('/var/task/catalog.json');
      const sendsTo = templates
        .statementsOn(fn, 'sqs:SendMessage')
        .flatMap(resourcesOf)
        .map((resource) => templates.exportedValue(resource));
      expect(sendsTo).toContainEqual(sendQueueArn());
    }
    // The send function itself takes from the queue; it puts nothing on it.
    expect(templates.functionEnvironment(campaigns().send)).not.toHaveProperty('RAPPORT_SEND_QUEUE_URL');
  });
});

describe('campaign alarms', () => {
  type AlarmProperties = {
    MetricName: string;
    Dimensions: { Name: string; Value: unknown }[];
    [key: string]: unknown;
  };

  function alarmsOn(metricName: string): AlarmProperties[] {
    return Object.values(templates.stateless.findResources('AWS::CloudWatch::Alarm'))
      .map((alarm) => alarm.Properties as AlarmProperties)
      .filter((alarm) => alarm.MetricName === metricName);
  }

  const firesOnAnyDatapoint = {
    ComparisonOperator: 'GreaterThanThreshold',
    Threshold: 0,
    EvaluationPeriods: 1,
    TreatMissingData: 'notBreaching',
  };

  it('fire as soon as one request is visible in the send DLQ', () => {
    const dlqName = JSON.stringify(
      templates.statefulAttribute(templates.stacks.stateful.sendDeadLetterQueue, 'QueueName'),
    );
    const found = alarmsOn('ApproximateNumberOfMessagesVisible').filter(
      (alarm) => JSON.stringify(templates.exportedValue(alarm.Dimensions[0]?.Value)) === dlqName,
    );
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ ...firesOnAnyDatapoint, Statistic: 'Maximum' });
  });

  it('fire on any failed invocation of send, evaluate, sweep or trigger', () => {
    for (const fn of [campaigns().send, campaigns().evaluate, campaigns().sweep, campaigns().trigger]) {
      const found = alarmsOn('Errors').filter(
        (alarm) =>
          (alarm.Dimensions[0]?.Value as { Ref?: string } | undefined)?.Ref === templates.functionId(fn),
      );
      expect(found, fn.node.id).toHaveLength(1);
      expect(found[0], fn.node.id).toMatchObject({ ...firesOnAnyDatapoint, Statistic: 'Sum' });
    }
  });
});

describe('an invalid catalog', () => {
  it('fails the synth, naming the file and the field', () => {
    const catalog = withCampaign('weekly-newsletter', (document) => {
      document.trigger = { kind: 'schedule', expression: 'every monday' };
    });
    expect(() => synth({ catalog })).toThrow(InvalidCatalogError);
    expect(() => synth({ catalog })).toThrow('campaigns/weekly-newsletter.yaml: trigger.expression');
  });

  it('lists every problem, such as a missing template and a missing sending section', () => {
    const catalog = withCampaign('birthday', (document) => {
      (document.message as Record<string, unknown>).template = 'no-such-template';
    });
    catalog.sending = undefined;
    let message = '';
    try {
      synth({ catalog });
    } catch (error) {
      message = error instanceof Error ? error.message : String(error);
    }
    expect(message).toContain('The campaign catalog is invalid');
    expect(message).toContain(
      'campaigns/birthday.yaml: message.template: no campaigns/templates/no-such-template',
    );
    expect(message).toContain('rapport.config.yaml: sending: expected a sending section');
  });

  it('is judged with the engagement settings the functions get', () => {
    const engagementSettings = { tiers: [{ name: 'regular', minRevenue: '0' }] };
    expect(() => synth({ engagementSettings })).toThrow(
      'campaigns/vip-welcome.yaml: audience: tier "gold" is not one of the tiers in engagement.tiers (regular)',
    );
  });
});
