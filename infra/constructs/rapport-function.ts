import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { RuntimeConfig } from '#shared/config.ts';

/** The environment variables a function reads, named by shared/config.ts so a typo fails to compile. */
export type RuntimeEnvName = keyof RuntimeConfig;

type QueueUrlEnvName = Extract<RuntimeEnvName, `${string}_QUEUE_URL` | `${string}_DLQ_URL`>;

/**
 * `read` and `readWrite` cover every item; `describe` only DescribeTable, as the health check needs;
 * `{ getItemInPartitions }` only GetItem, on items whose partition key is one of those listed (IAM's
 * `dynamodb:LeadingKeys` condition), as collect needs to look up API keys and nothing else.
 */
export type TableAccess = 'read' | 'readWrite' | 'describe' | { getItemInPartitions: readonly string[] };

/** `send` to produce messages; `readAttributes` to report the queue's depth, as the health check does. */
export type QueueAccess = 'send' | 'readAttributes';

export interface RapportFunctionProps {
  /** Entry file, relative to the repository root (as declared in infra/routes.ts). */
  entry: string;
  description: string;
  /** @default 10 seconds: HTTP handlers answer well inside API Gateway's 30 s limit */
  timeout?: Duration;
  /** @default 256 MB */
  memorySize?: number;
  environment?: Partial<Record<RuntimeEnvName, string>>;
  /** @default one month */
  logRetention?: RetentionDays;
}

export interface QueueConsumerOptions {
  batchSize: number;
  maxBatchingWindow: Duration;
  /** Most concurrent invocations the event source starts (2 to 1,000). */
  maxConcurrency: number;
}

const repositoryRoot = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Bundled code is ESM, but some dependencies are CommonJS and call `require` at run time; ESM has no
 * `require`, so the bundle starts by making one.
 */
const createRequireBanner =
  "import { createRequire as rapportCreateRequire } from 'node:module'; const require = rapportCreateRequire(import.meta.url);";

/**
 * A rapport Lambda function: the one place that holds the defaults every function shares (runtime,
 * architecture, bundling, source maps, logging), plus helpers that bind a table, queue or bus to the
 * function by granting access and setting the env var in a single call.
 */
export class RapportFunction extends Construct {
  public readonly lambda: NodejsFunction;
  public readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: RapportFunctionProps) {
    super(scope, id);

    // The function's own log group gives the retention without the log-retention custom resource, and
    // dies with the stateless stack that owns the function.
    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // An own role instead of the AWSLambdaBasicExecutionRole managed policy: that policy lets the
    // function write to every log group in the account, this one only to its own.
    const role = new Role(this, 'Role', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
    this.logGroup.grantWrite(role);

    this.lambda = new NodejsFunction(this, 'Function', {
      entry: join(repositoryRoot, props.entry),
      projectRoot: repositoryRoot,
      depsLockFilePath: join(repositoryRoot, 'package-lock.json'),
      description: props.description,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(10),
      role,
      logGroup: this.logGroup,
      environment: {
        // Stack traces point at the TypeScript source rather than the minified bundle.
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      bundling: {
        // No Docker engine is needed: esbuild from node_modules bundles on the machine.
        forceDockerBundling: false,
        format: OutputFormat.ESM,
        mainFields: ['module', 'main'],
        banner: createRequireBanner,
        target: 'node24',
        minify: true,
        sourceMap: true,
        // The SDK versions the tests ran against are the ones deployed, not whatever the runtime ships.
        bundleAwsSDK: true,
      },
    });
  }

  /** Grants the table access and tells the function the table's name (RAPPORT_TABLE). */
  bindTable(table: ITable, access: TableAccess): void {
    if (access === 'readWrite') {
      table.grantReadWriteData(this.lambda);
    } else if (access === 'read') {
      table.grantReadData(this.lambda);
    } else if (access === 'describe') {
      table.grant(this.lambda, 'dynamodb:DescribeTable');
    } else {
      // On the table alone, not its indexes: GetItem reads only the base table.
      this.lambda.addToRolePolicy(
        new PolicyStatement({
          actions: ['dynamodb:GetItem'],
          resources: [table.tableArn],
          conditions: {
            'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [...access.getItemInPartitions] },
          },
        }),
      );
    }
    this.setEnvironment('RAPPORT_TABLE', table.tableName);
  }

  /** Grants the queue access and tells the function the queue's URL under `envName`. */
  bindQueue(queue: IQueue, envName: QueueUrlEnvName, access: QueueAccess): void {
    if (access === 'send') {
      queue.grantSendMessages(this.lambda);
    } else {
      queue.grant(this.lambda, 'sqs:GetQueueAttributes');
    }
    this.setEnvironment(envName, queue.queueUrl);
  }

  /** Lets the function put events on the bus, and tells it the bus's name (RAPPORT_BUS_NAME). */
  bindBus(bus: IEventBus): void {
    bus.grantPutEventsTo(this.lambda);
    this.setEnvironment('RAPPORT_BUS_NAME', bus.eventBusName);
  }

  /**
   * Makes the function the queue's consumer. It always reports partial batch failures, so one bad
   * record never sends a whole batch back to the queue.
   */
  consumeQueue(queue: IQueue, options: QueueConsumerOptions): void {
    this.lambda.addEventSource(
      new SqsEventSource(queue, {
        batchSize: options.batchSize,
        maxBatchingWindow: options.maxBatchingWindow,
        maxConcurrency: options.maxConcurrency,
        reportBatchItemFailures: true,
      }),
    );
  }

  setEnvironment(name: RuntimeEnvName, value: string): void {
    this.lambda.addEnvironment(name, value);
  }
}
