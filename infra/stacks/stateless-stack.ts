import {
  CfnOutput,
  CrossStackReferences,
  Duration,
  ReferenceStrength,
  RemovalPolicy,
  Stack,
  type StackProps,
  Stage,
  Validations,
} from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  CorsHttpMethod,
  HttpApi,
  HttpMethod,
  HttpStage,
  LogGroupLogDestination,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IConfigurationSet } from 'aws-cdk-lib/aws-ses';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { checkCatalog, writeCatalogFile } from '#infra/campaign-catalog.ts';
import { RapportFunction, type RuntimeEnvName } from '#infra/constructs/rapport-function.ts';
import { type FunctionName, httpFunctions, queueFunctions, routes } from '#infra/routes.ts';
import { sesSenders } from '#infra/ses-senders.ts';
import type { CatalogSource } from '#shared/campaigns/catalog.ts';
import { keyPartition } from '#shared/store/table.ts';
import { CampaignFunctions } from './campaign-functions.ts';
import {
  ingestBatchSize,
  ingestConsumerMaxReceiveCount,
  ingestFunctionTimeoutSeconds,
  ingestMaxBatchingWindowSeconds,
  ingestMaxConcurrency,
  ingestQueueAgeAlarmPeriods,
  ingestQueueAgeAlarmSeconds,
  ingestRetentionDays,
} from './ingest-settings.ts';
import { defaultSendConcurrency } from './send-settings.ts';

/**
 * Default throttle of every route of the API stage, in requests per second and the burst above it. The
 * write key is public, so without a limit of our own anyone holding it could drive collect, and with it
 * the Lambda, SQS and DynamoDB bills, up to the account's regional API Gateway quota (10,000 requests/s).
 * Requests over the limit get a 429, which Segment clients retry with backoff.
 */
export const apiThrottleRateLimit = 1000;
export const apiThrottleBurstLimit = 2000;

export interface StatelessStackProps extends StackProps {
  table: ITable;
  ingestQueue: IQueue;
  ingestDeadLetterQueue: IQueue;
  sendQueue: IQueue;
  sendDeadLetterQueue: IQueue;
  bus: IEventBus;
  signingSecret: ISecret;
  sesConfigurationSet: IConfigurationSet;
  /** The `engagement:` section of rapport.config.yaml; the functions' defaults apply when absent. */
  engagementSettings?: unknown;
  /**
   * The campaign catalog as read from the repository (campaigns/, segments/, templates, `sending:`).
   * It is checked here, so that an invalid campaign fails the synth and never deploys.
   */
  catalog: CatalogSource;
  /** Send functions at once (at least 2). @default defaultSendConcurrency */
  sendConcurrency?: number;
}

/**
 * The code: the HTTP API with its functions, the ingest consumer, the campaign functions with their
 * schedules and rules, and the alarms that say when ingest or sending gives up, falls behind or fails,
 * and when the API fails its callers. It holds no data, so it can be destroyed and redeployed at will.
 */
export class StatelessStack extends Stack {
  public readonly api: HttpApi;
  public readonly apiStage: HttpStage;
  public readonly functions: Record<FunctionName, RapportFunction>;
  public readonly ingestFunction: RapportFunction;
  public readonly campaigns: CampaignFunctions;

  constructor(scope: Construct, id: string, props: StatelessStackProps) {
    super(scope, id, props);
    // First, so that an invalid catalog fails before anything is bundled.
    const catalog = checkCatalog(props.catalog, props.engagementSettings);
    const senders = sesSenders(catalog, props.catalog);
    const assemblyDirectory = Stage.of(this)?.outdir;
    if (assemblyDirectory === undefined) throw new Error(`${id}: expected to be part of a CDK app`);
    const catalogFile = writeCatalogFile(props.catalog, assemblyDirectory);
    // Exports, chosen explicitly: CloudFormation then refuses to delete or replace the table, queues or
    // bus while these functions still use them.
    CrossStackReferences.of(this).consume(ReferenceStrength.STRONG);

    const sharedEnvironment: Partial<Record<RuntimeEnvName, string>> = {};
    if (props.engagementSettings !== undefined) {
      sharedEnvironment.RAPPORT_ENGAGEMENT = JSON.stringify(props.engagementSettings);
    }

    // What each HTTP function may touch. A Record over FunctionName, so a function added to routes.ts
    // does not compile until it is wired here.
    const bindHttpFunction: Record<FunctionName, (fn: RapportFunction) => void> = {
      // The public write key's function looks up API keys, which live in their own partition, and
      // reads nothing else: a flaw in it cannot reach customer data.
      collect: (fn) => {
        fn.bindTable(props.table, { getItemInPartitions: [keyPartition] });
        fn.bindQueue(props.ingestQueue, 'RAPPORT_INGEST_QUEUE_URL', 'send');
      },
      customers: (fn) => fn.bindTable(props.table, 'read'),
      // The health check describes the table and reads the ingest queue's depth, nothing more.
      health: (fn) => {
        fn.bindTable(props.table, 'describe');
        fn.bindQueue(props.ingestQueue, 'RAPPORT_INGEST_QUEUE_URL', 'readAttributes');
      },
    };

    const functionNames = Object.keys(httpFunctions) as FunctionName[];
    this.functions = Object.fromEntries(
      functionNames.map((name) => {
        const { entry, description } = httpFunctions[name];
        const fn = new RapportFunction(this, functionConstructId(name), {
          entry,
          description,
          environment: sharedEnvironment,
        });
        bindHttpFunction[name](fn);
        return [name, fn];
      }),
    ) as Record<FunctionName, RapportFunction>;

    this.api = new HttpApi(this, 'HttpApi', {
      apiName: 'rapport',
      description: 'rapport: Segment-compatible collection and customer reads',
      // Segment clients run in browsers on the customers' own sites, whose origins are not known here.
      corsPreflight: {
        allowOrigins: ['*'],
        allowMethods: [CorsHttpMethod.POST, CorsHttpMethod.GET, CorsHttpMethod.OPTIONS],
        allowHeaders: ['authorization', 'content-type'],
        maxAge: Duration.days(1),
      },
      // The default stage cannot take access-log settings; the stage below replaces it.
      createDefaultStage: false,
    });

    const accessLogs = new LogGroup(this, 'HttpApiAccessLogs', {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.apiStage = new HttpStage(this, 'HttpApiStage', {
      httpApi: this.api,
      autoDeploy: true,
      throttle: { rateLimit: apiThrottleRateLimit, burstLimit: apiThrottleBurstLimit },
      accessLogSettings: { destination: new LogGroupLogDestination(accessLogs), format: accessLogFormat },
    });

    const integrations = new Map<FunctionName, HttpLambdaIntegration>();
    for (const route of routes) {
      let integration = integrations.get(route.function);
      if (integration === undefined) {
        integration = new HttpLambdaIntegration(
          `${functionConstructId(route.function)}Integration`,
          this.functions[route.function].lambda,
        );
        integrations.set(route.function, integration);
      }
      const [httpRoute] = this.api.addRoutes({
        path: route.path,
        methods: [HttpMethod[route.method]],
        integration,
      });
      if (httpRoute !== undefined) {
        Validations.of(httpRoute).acknowledge({
          id: 'AwsSolutions-APIG4',
          reason:
            'The functions check keys themselves: Segment clients send the write key as Basic auth and reads ' +
            'need an admin key, both stored hashed in the table; an authorizer would add a Lambda call per ' +
            'request. /health is public on purpose.',
        });
      }
    }

    this.ingestFunction = new RapportFunction(this, 'IngestFunction', {
      entry: queueFunctions.ingest.entry,
      description: queueFunctions.ingest.description,
      // Ingest matches events to campaigns: event campaigns' sends and delay-unless timers start here.
      catalogFile,
      timeout: Duration.seconds(ingestFunctionTimeoutSeconds),
      memorySize: 512,
      environment: {
        ...sharedEnvironment,
        RAPPORT_MAX_RECEIVE_COUNT: String(ingestConsumerMaxReceiveCount),
      },
    });
    this.ingestFunction.bindTable(props.table, 'readWrite');
    this.ingestFunction.bindBus(props.bus);
    this.ingestFunction.bindQueue(props.ingestDeadLetterQueue, 'RAPPORT_INGEST_DLQ_URL', 'send');
    this.ingestFunction.bindQueue(props.sendQueue, 'RAPPORT_SEND_QUEUE_URL', 'send');
    this.ingestFunction.consumeQueue(props.ingestQueue, {
      batchSize: ingestBatchSize,
      maxBatchingWindow: Duration.seconds(ingestMaxBatchingWindowSeconds),
      maxConcurrency: ingestMaxConcurrency,
    });

    this.campaigns = new CampaignFunctions(this, 'Campaigns', {
      catalog,
      catalogFile,
      senders,
      environment: sharedEnvironment,
      table: props.table,
      sendQueue: props.sendQueue,
      sendDeadLetterQueue: props.sendDeadLetterQueue,
      ingestQueue: props.ingestQueue,
      bus: props.bus,
      signingSecret: props.signingSecret,
      sesConfigurationSet: props.sesConfigurationSet,
      sendConcurrency: props.sendConcurrency ?? defaultSendConcurrency,
    });

    new Alarm(this, 'IngestDeadLetterAlarm', {
      alarmDescription:
        'Events reached the ingest DLQ: read each message for its failure reason, fix, then redrive.',
      metric: props.ingestDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: 'Maximum',
      }),
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      // SQS publishes no datapoints for an idle queue; silence means no dead letters.
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    new Alarm(this, 'IngestQueueAgeAlarm', {
      alarmDescription:
        'Events wait too long in the ingest queue: the consumer has stalled or cannot keep up. Check the ' +
        `ingest function for errors and throttles; the queue keeps events for ${ingestRetentionDays} days.`,
      metric: props.ingestQueue.metricApproximateAgeOfOldestMessage({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
      threshold: ingestQueueAgeAlarmSeconds,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: ingestQueueAgeAlarmPeriods,
      // An idle queue publishes nothing, and an idle queue is not a stalled one.
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    new Alarm(this, 'IngestErrorsAlarm', {
      alarmDescription:
        'An ingest invocation failed as a whole (crash or timeout) and its batch goes back to the queue; ' +
        'per-record failures are reported without failing the invocation, so any error here is a fault.',
      metric: this.ingestFunction.lambda.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    new Alarm(this, 'HttpApiServerErrorsAlarm', {
      alarmDescription:
        'The HTTP API answered with 5xx: a function failed, timed out or was throttled. Segment clients ' +
        "retry, but events are lost once they give up; see the access logs and the functions' logs.",
      metric: this.api.metricServerError({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    new CfnOutput(this, 'ApiUrl', { value: this.apiStage.url, description: 'Base URL of the rapport API' });
  }
}

/**
 * One JSON line per request, with HTTP API context variables (CDK's default format uses REST API ones,
 * several of which HTTP APIs leave empty).
 */
const accessLogFormat = AccessLogFormat.custom(
  JSON.stringify({
    requestId: '$context.requestId',
    requestTime: '$context.requestTime',
    ip: '$context.identity.sourceIp',
    routeKey: '$context.routeKey',
    status: '$context.status',
    responseLength: '$context.responseLength',
    latencyMs: '$context.responseLatency',
    integrationError: '$context.integrationErrorMessage',
  }),
);

function functionConstructId(name: string): string {
  return `${name.charAt(0).toUpperCase()}${name.slice(1)}Function`;
}
