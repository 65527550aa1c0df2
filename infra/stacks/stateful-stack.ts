import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus } from 'aws-cdk-lib/aws-events';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { tableKeys } from '#shared/store/schema.ts';
import {
  ingestRedriveMaxReceiveCount,
  ingestRetentionDays,
  ingestVisibilityTimeoutSeconds,
} from './ingest-settings.ts';

/** Name of the EventBridge bus that carries rapport's lifecycle events. */
export const lifecycleBusName = 'rapport';

/**
 * Everything that holds data: the table, the ingest queue with its DLQ, and the lifecycle bus. It is kept
 * apart from the functions so that the stateless stack can be destroyed and redeployed freely while the
 * data stays.
 */
export class StatefulStack extends Stack {
  public readonly table: Table;
  public readonly ingestQueue: Queue;
  public readonly ingestDeadLetterQueue: Queue;
  public readonly bus: EventBus;

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

    this.bus = new EventBus(this, 'LifecycleBus', { eventBusName: lifecycleBusName });

    // The CLI works on a deployed stack through this name (RAPPORT_TABLE), e.g. to create keys.
    new CfnOutput(this, 'TableName', {
      value: this.table.tableName,
      description: 'RAPPORT_TABLE for the CLI',
    });
  }
}
