import {
  CfnOutput,
  CrossStackReferences,
  Duration,
  ReferenceStrength,
  RemovalPolicy,
  Stack,
  type StackProps,
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
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { RapportFunction, type RuntimeEnvName } from '#infra/constructs/rapport-function.ts';
import { type FunctionName, httpFunctions, queueFunctions, routes } from '#infra/routes.ts';
import {
  ingestBatchSize,
  ingestConsumerMaxReceiveCount,
  ingestFunctionTimeoutSeconds,
  ingestMaxBatchingWindowSeconds,
} from './ingest-settings.ts';

export interface StatelessStackProps extends StackProps {
  table: ITable;
  ingestQueue: IQueue;
  ingestDeadLetterQueue: IQueue;
  bus: IEventBus;
  /** The `engagement:` section of rapport.config.yaml; the functions' defaults apply when absent. */
  engagementSettings?: unknown;
}

/**
 * The code: the HTTP API with its functions, the ingest consumer, and the alarm that says when ingest
 * gives up on events. It holds no data, so it can be destroyed and redeployed at will.
 */
export class StatelessStack extends Stack {
  public readonly api: HttpApi;
  public readonly apiStage: HttpStage;
  public readonly functions: Record<FunctionName, RapportFunction>;
  public readonly ingestFunction: RapportFunction;

  constructor(scope: Construct, id: string, props: StatelessStackProps) {
    super(scope, id, props);
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
      collect: (fn) => {
        fn.bindTable(props.table, 'read');
        fn.bindQueue(props.ingestQueue, 'RAPPORT_INGEST_QUEUE_URL', 'send');
      },
      customers: (fn) => fn.bindTable(props.table, 'read'),
      // The health check describes the table and reads the ingest queue's depth.
      health: (fn) => {
        fn.bindTable(props.table, 'read');
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
    this.ingestFunction.consumeQueue(props.ingestQueue, {
      batchSize: ingestBatchSize,
      maxBatchingWindow: Duration.seconds(ingestMaxBatchingWindowSeconds),
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
