import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, type IMetric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { type IEventBus, Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IConfigurationSet } from 'aws-cdk-lib/aws-ses';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { lifecycleContracts, lifecycleSource } from '#events/lifecycle.ts';
import { RapportFunction, type RuntimeEnvName } from '#infra/constructs/rapport-function.ts';
import { eventFunctions, queueFunctions, sweepSchedule } from '#infra/routes.ts';
import type { SesSenders } from '#infra/ses-senders.ts';
import type { Catalog } from '#shared/campaigns/catalog.ts';
import { CampaignSchedules } from './campaign-schedules.ts';
import { sendBatchSize, sendFunctionTimeoutSeconds } from './send-settings.ts';

export interface CampaignFunctionsProps {
  /** The checked catalog, which decides the schedules, the lifecycle rule and the senders. */
  catalog: Catalog;
  /** Its source as a JSON file, bundled into every function that reads campaigns. */
  catalogFile: string;
  senders: SesSenders;
  /** What every function gets, such as RAPPORT_ENGAGEMENT. */
  environment: Partial<Record<RuntimeEnvName, string>>;
  table: ITable;
  sendQueue: IQueue;
  sendDeadLetterQueue: IQueue;
  ingestQueue: IQueue;
  bus: IEventBus;
  signingSecret: ISecret;
  sesConfigurationSet: IConfigurationSet;
  /** Send functions at once: reserved concurrency, and the send queue's maximum concurrency (at least 2). */
  sendConcurrency: number;
}

/**
 * The campaign half of the loop: the functions that fire campaigns (evaluate on their schedules, trigger
 * on lifecycle events, sweep on timers) and put sends on the send queue, the send function that
 * delivers them through SES, and the alarms that say when any of it fails.
 */
export class CampaignFunctions extends Construct {
  public readonly send: RapportFunction;
  public readonly evaluate: RapportFunction;
  public readonly sweep: RapportFunction;
  public readonly trigger: RapportFunction;
  public readonly schedules: CampaignSchedules;
  public readonly sweepRule: Rule;
  /** Undefined when no enabled campaign fires on a lifecycle event. */
  public readonly lifecycleRule: Rule | undefined;

  constructor(scope: Construct, id: string, props: CampaignFunctionsProps) {
    super(scope, id);
    const { catalogFile, environment } = props;
    if (!Number.isInteger(props.sendConcurrency) || props.sendConcurrency < 2) {
      throw new Error(
        `sendConcurrency: expected a whole number of at least 2 (the least an SQS event source runs), got ${props.sendConcurrency}`,
      );
    }

    this.send = new RapportFunction(this, 'SendFunction', {
      ...queueFunctions.send,
      catalogFile,
      environment,
      timeout: Duration.seconds(sendFunctionTimeoutSeconds),
      memorySize: 512,
      // Reserved as well as capped on the event source, so that nothing else (a manual invoke, a second
      // event source) runs more senders at once than pacing was sized for.
      reservedConcurrentExecutions: props.sendConcurrency,
    });
    this.send.bindTable(props.table, 'readWrite');
    // Outcomes (sent, skipped, deferred ...) reach the customer's timeline through ingest.
    this.send.bindQueue(props.ingestQueue, 'RAPPORT_INGEST_QUEUE_URL', 'send');
    this.send.bindSending(props.sesConfigurationSet, props.senders);
    this.send.bindSigningSecret(props.signingSecret);
    this.send.consumeQueue(props.sendQueue, {
      batchSize: sendBatchSize,
      maxConcurrency: props.sendConcurrency,
    });

    this.evaluate = new RapportFunction(this, 'EvaluateFunction', {
      ...eventFunctions.evaluate,
      catalogFile,
      environment,
      // The audience is read page by page from the campaign's index; a large one takes a while.
      timeout: Duration.minutes(15),
      memorySize: 512,
    });
    this.evaluate.bindTable(props.table, 'readWrite');
    this.evaluate.bindQueue(props.sendQueue, 'RAPPORT_SEND_QUEUE_URL', 'send');
    this.schedules = new CampaignSchedules(this, 'Schedules', {
      campaigns: props.catalog.campaigns,
      evaluate: this.evaluate.lambda,
    });

    this.sweep = new RapportFunction(this, 'SweepFunction', {
      ...eventFunctions.sweep,
      catalogFile,
      environment,
      timeout: Duration.minutes(1),
      // The next sweep, a minute later, picks up whatever a failed one left.
      retryAttempts: 0,
    });
    this.sweep.bindTable(props.table, 'readWrite');
    this.sweep.bindQueue(props.sendQueue, 'RAPPORT_SEND_QUEUE_URL', 'send');
    this.sweepRule = new Rule(this, 'SweepRule', {
      description: 'rapport: sweep due delay-unless timers and deferred sends',
      schedule: Schedule.expression(sweepSchedule),
      targets: [new LambdaFunction(this.sweep.lambda)],
    });

    this.trigger = new RapportFunction(this, 'TriggerFunction', {
      ...eventFunctions.trigger,
      catalogFile,
      environment,
      timeout: Duration.seconds(30),
    });
    // Matching a lifecycle event to campaigns reads nothing from the table; the name is only there
    // because every function's configuration requires it.
    this.trigger.setEnvironment('RAPPORT_TABLE', props.table.tableName);
    this.trigger.bindQueue(props.sendQueue, 'RAPPORT_SEND_QUEUE_URL', 'send');
    const detailTypes = lifecycleDetailTypes(props.catalog);
    this.lifecycleRule =
      detailTypes.length === 0
        ? undefined
        : new Rule(this, 'LifecycleRule', {
            description: 'rapport: lifecycle events that enabled event campaigns fire on',
            eventBus: props.bus,
            eventPattern: { source: [lifecycleSource], detailType: detailTypes },
            targets: [new LambdaFunction(this.trigger.lambda)],
          });

    this.alarmOn('SendDeadLetterAlarm', {
      description:
        'Send requests reached the send DLQ after five failed attempts: a request that does not parse, SES ' +
        "throttling that outlasted the retries, or a fault. Read the send function's logs for each message " +
        'id, fix, then redrive.',
      metric: props.sendDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: 'Maximum',
      }),
    });
    const failedInvocations = (fn: RapportFunction) =>
      fn.lambda.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' });
    this.alarmOn('SendErrorsAlarm', {
      description:
        'A send invocation failed as a whole (crash or timeout) and its batch goes back to the queue; ' +
        'failed sends are reported per record without failing the invocation, so any error here is a fault.',
      metric: failedInvocations(this.send),
    });
    this.alarmOn('EvaluateErrorsAlarm', {
      description:
        "A campaign's scheduled fire failed; Lambda retries it twice. See the evaluate function's logs " +
        'for the campaign id and scheduled time.',
      metric: failedInvocations(this.evaluate),
    });
    this.alarmOn('SweepErrorsAlarm', {
      description:
        'The timer sweep failed: delay-unless campaigns and deferred sends wait until a sweep succeeds. ' +
        "See the sweep function's logs.",
      metric: failedInvocations(this.sweep),
    });
    this.alarmOn('TriggerErrorsAlarm', {
      description:
        'A lifecycle event did not reach its campaigns; Lambda retries it twice. See the trigger ' +
        "function's logs for the event.",
      metric: failedInvocations(this.trigger),
    });
  }

  /** An alarm on any datapoint above zero; silence (an idle queue or function) is not a failure. */
  private alarmOn(id: string, options: { description: string; metric: IMetric }): void {
    new Alarm(this, id, {
      alarmDescription: options.description,
      metric: options.metric,
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }
}

/** The lifecycle detail-types that enabled `event` campaigns fire on; track events are ingest's to match. */
function lifecycleDetailTypes(catalog: Catalog): string[] {
  const published = new Set<string>(lifecycleContracts.map((contract) => contract.detailType));
  const used = catalog.campaigns.flatMap(({ enabled, trigger }) =>
    enabled && trigger.kind === 'event' && published.has(trigger.event) ? [trigger.event] : [],
  );
  return [...new Set(used)].sort();
}
