import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus } from 'aws-cdk-lib/aws-events';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { ConfigurationSet } from 'aws-cdk-lib/aws-ses';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { tableKeys } from '#shared/store/schema.ts';
import {
  ingestRedriveMaxReceiveCount,
  ingestRetentionDays,
  ingestVisibilityTimeoutSeconds,
} from './ingest-settings.ts';
import { sendMaxReceiveCount, sendRetentionDays, sendVisibilityTimeoutSeconds } from './send-settings.ts';

/** Name of the EventBridge bus that carries rapport's lifecycle events. */
export const lifecycleBusName = 'rapport';

/** Length of the generated signing secret; RAPPORT_SIGNING_SECRET wants at least 32 characters. */
export const signingSecretLength = 64;

/**
 * Everything that holds data or identity: the table, the ingest and send queues with their DLQs, the
 * lifecycle bus, the signing secret and the SES configuration set. It is kept apart from the functions
 * so that the stateless stack can be destroyed and redeployed freely while the data stays.
 */
export class StatefulStack extends Stack {
  public readonly table: Table;
  public readonly ingestQueue: Queue;
  public readonly ingestDeadLetterQueue: Queue;
  public readonly sendQueue: Queue;
  public readonly sendDeadLetterQueue: Queue;
  public readonly bus: EventBus;
  public readonly signingSecret: Secret;
  public readonly sesConfigurationSet: ConfigurationSet;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    this.table = new Table(this, 'Table', {
      partitionKey: { name: tableKeys.partitionKey, type: AttributeType.STRING },
      sortKey: { name: tableKeys.sortKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: TableEncryption.AWS_MANAGED,
      // Declared now so that items such as timers and dedup markers can expire without a table change.
      timeToLiveAttribute: 'expiresAt',
      // Customer history cannot be rebuilt; deleting the stack must not take it along.
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.ingestDeadLetterQueue = new Queue(this, 'IngestDeadLetterQueue', {
      enforceSSL: true,
      encryption: QueueEncryption.SQS_MANAGED,
      // The longest SQS allows: time to read a poison event's reason and redrive it after a fix.
      retentionPeriod: Duration.days(14),
    });

    this.ingestQueue = new Queue(this, 'IngestQueue', {
      enforceSSL: true,
      encryption: QueueEncryption.SQS_MANAGED,
      visibilityTimeout: Duration.seconds(ingestVisibilityTimeoutSeconds),
      // Not SQS's default of four days: events wait out a stalled consumer instead of expiring unseen. A
      // message the SQS redrive moves keeps its enqueue time, so its time left in the DLQ is what is left
      // of these 14 days; messages the consumer forwards itself start afresh there.
      retentionPeriod: Duration.days(ingestRetentionDays),
      deadLetterQueue: { queue: this.ingestDeadLetterQueue, maxReceiveCount: ingestRedriveMaxReceiveCount },
    });

    this.sendDeadLetterQueue = new Queue(this, 'SendDeadLetterQueue', {
      enforceSSL: true,
      encryption: QueueEncryption.SQS_MANAGED,
      retentionPeriod: Duration.days(sendRetentionDays),
    });

    // Sends waiting for their turn under sending.maxSendRate, and those SES throttled, wait here.
    this.sendQueue = new Queue(this, 'SendQueue', {
      enforceSSL: true,
      encryption: QueueEncryption.SQS_MANAGED,
      visibilityTimeout: Duration.seconds(sendVisibilityTimeoutSeconds),
      retentionPeriod: Duration.days(sendRetentionDays),
      deadLetterQueue: { queue: this.sendDeadLetterQueue, maxReceiveCount: sendMaxReceiveCount },
    });

    this.bus = new EventBus(this, 'LifecycleBus', { eventBusName: lifecycleBusName });

    // Signs unsubscribe links and promo codes in mail already sent: losing or replacing it breaks them.
    this.signingSecret = new Secret(this, 'SigningSecret', {
      description: 'rapport: signs unsubscribe links and promo codes (RAPPORT_SIGNING_SECRET)',
      generateSecretString: { passwordLength: signingSecretLength, excludePunctuation: true },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.signingSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Not rotated on purpose: every unsubscribe link and promo code in mail already sent is signed ' +
        'with it, and rotating it would break them all (RFC 8058 one-click unsubscribe must keep working).',
    });

    this.sesConfigurationSet = new ConfigurationSet(this, 'SesConfigurationSet', {
      sendingEnabled: true,
      // Bounce and complaint rates per configuration set, the numbers SES judges a sender by.
      reputationMetrics: true,
    });

    // The CLI works on a deployed stack through this name (RAPPORT_TABLE), e.g. to create keys.
    new CfnOutput(this, 'TableName', {
      value: this.table.tableName,
      description: 'RAPPORT_TABLE for the CLI',
    });
    new CfnOutput(this, 'SendQueueUrl', {
      value: this.sendQueue.queueUrl,
      description: 'RAPPORT_SEND_QUEUE_URL for the CLI',
    });
    new CfnOutput(this, 'SigningSecretArn', {
      value: this.signingSecret.secretArn,
      description: 'The secret that holds RAPPORT_SIGNING_SECRET',
    });
    new CfnOutput(this, 'SesConfigurationSetName', {
      value: this.sesConfigurationSet.configurationSetName,
      description: 'RAPPORT_SES_CONFIGURATION_SET: every campaign email is sent with it',
    });
  }
}
