import { App, type CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ingestConsumerMaxReceiveCount } from '#infra/stacks/ingest-settings.ts';
import {
  sendFunctionTimeoutSeconds,
  sendMaxReceiveCount,
  sendVisibilityTimeoutSeconds,
} from '#infra/stacks/send-settings.ts';
import { lifecycleBusName, StatefulStack, signingSecretLength } from '#infra/stacks/stateful-stack.ts';
import { tableDefinition } from '#shared/store/schema.ts';

let stack: StatefulStack;
let template: Template;

beforeAll(() => {
  stack = new StatefulStack(new App({ builtinCloudFormationValidation: false }), 'rapport-stateful');
  template = Template.fromStack(stack);
});

function logicalId(construct: IConstruct): string {
  return stack.getLogicalId(construct.node.defaultChild as CfnElement);
}

describe('table', () => {
  it('has the key schema of shared/store/schema.ts, billed on demand', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: tableDefinition.KeySchema,
      AttributeDefinitions: tableDefinition.AttributeDefinitions,
      BillingMode: tableDefinition.BillingMode,
    });
  });

  it('keeps point-in-time recovery and server-side encryption on', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
    });
  });

  it('outputs the table name, which the CLI takes as RAPPORT_TABLE', () => {
    const tableId = Object.keys(template.findResources('AWS::DynamoDB::Table'))[0];
    template.hasOutput('TableName', { Value: { Ref: tableId } });
  });

  it('expires items on expiresAt', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
  });

  it('survives the deletion or replacement of its stack', () => {
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });
});

describe('ingest queue and DLQ', () => {
  it('redrives to the DLQ one receive after the consumer would have moved the message itself', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(stack.ingestDeadLetterQueue), 'Arn'] },
        maxReceiveCount: ingestConsumerMaxReceiveCount + 1,
      },
    });
  });

  it('keeps dead letters for 14 days', () => {
    const dlq = template.toJSON().Resources[logicalId(stack.ingestDeadLetterQueue)];
    expect(dlq.Properties.MessageRetentionPeriod).toBe(14 * 24 * 60 * 60);
  });

  it('keeps ingest events for 14 days, the most SQS allows, not the default 4', () => {
    const queue = template.toJSON().Resources[logicalId(stack.ingestQueue)];
    expect(queue.Properties.MessageRetentionPeriod).toBe(14 * 24 * 60 * 60);
  });
});

describe('send queue and DLQ', () => {
  it('redrives to the send DLQ after five receives', () => {
    expect(sendMaxReceiveCount).toBe(5);
    template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(stack.sendDeadLetterQueue), 'Arn'] },
        maxReceiveCount: sendMaxReceiveCount,
      },
    });
  });

  it('keeps send requests and dead letters for 14 days', () => {
    for (const queue of [stack.sendQueue, stack.sendDeadLetterQueue]) {
      const resource = template.toJSON().Resources[logicalId(queue)];
      expect(resource.Properties.MessageRetentionPeriod).toBe(14 * 24 * 60 * 60);
    }
  });

  it('hides a received request for at least six times the send function timeout', () => {
    const queue = template.toJSON().Resources[logicalId(stack.sendQueue)];
    expect(queue.Properties.VisibilityTimeout).toBe(sendVisibilityTimeoutSeconds);
    expect(sendVisibilityTimeoutSeconds).toBeGreaterThanOrEqual(6 * sendFunctionTimeoutSeconds);
  });
});

describe('all queues', () => {
  const queues = () => [
    stack.ingestQueue,
    stack.ingestDeadLetterQueue,
    stack.sendQueue,
    stack.sendDeadLetterQueue,
  ];

  it('are encrypted with SQS-managed keys', () => {
    template.resourceCountIs('AWS::SQS::Queue', 4);
    template.allResourcesProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
  });

  it('deny requests without TLS', () => {
    for (const queue of queues()) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: logicalId(queue) }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 'sqs:*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      });
    }
  });
});

describe('signing secret', () => {
  it('is generated: 64 characters without punctuation, safe in URLs and headers', () => {
    expect(signingSecretLength).toBe(64);
    template.resourceCountIs('AWS::SecretsManager::Secret', 1);
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true },
    });
  });

  it('survives the deletion of its stack, since mail already sent carries links signed with it', () => {
    template.hasResource('AWS::SecretsManager::Secret', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('is not rotated', () => {
    template.resourceCountIs('AWS::SecretsManager::RotationSchedule', 0);
  });
});

describe('SES configuration set', () => {
  it('sends, and keeps reputation metrics', () => {
    template.resourceCountIs('AWS::SES::ConfigurationSet', 1);
    template.hasResourceProperties('AWS::SES::ConfigurationSet', {
      SendingOptions: { SendingEnabled: true },
      ReputationOptions: { ReputationMetricsEnabled: true },
    });
  });
});

describe('outputs', () => {
  it('name the send queue, the signing secret and the configuration set', () => {
    template.hasOutput('SendQueueUrl', { Value: { Ref: logicalId(stack.sendQueue) } });
    template.hasOutput('SigningSecretArn', { Value: { Ref: logicalId(stack.signingSecret) } });
    template.hasOutput('SesConfigurationSetName', { Value: { Ref: logicalId(stack.sesConfigurationSet) } });
  });
});

describe('lifecycle bus', () => {
  it('is the custom bus named rapport', () => {
    template.resourceCountIs('AWS::Events::EventBus', 1);
    template.hasResourceProperties('AWS::Events::EventBus', { Name: lifecycleBusName });
    expect(lifecycleBusName).toBe('rapport');
  });
});
