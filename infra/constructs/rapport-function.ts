import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { type ICommandHooks, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IConfigurationSet } from 'aws-cdk-lib/aws-ses';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { RuntimeConfig } from '#shared/config.ts';
import { bundledCatalogPath } from '../campaign-catalog.ts';
import type { SesSenders } from '../ses-senders.ts';

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
  /**
   * The campaign catalog's JSON file (see campaign-catalog.ts), bundled next to the code as catalog.json
   * and named by RAPPORT_CATALOG. Without it the function sees no campaigns.
   */
  catalogFile?: string;
  /** @default none: the function shares the account's unreserved concurrency */
  reservedConcurrentExecutions?: number;
  /** Retries of a failed asynchronous invocation (0 to 2). @default 2, Lambda's own default */
  retryAttempts?: number;
}

export interface QueueConsumerOptions {
  batchSize: number;
  /** @default none: a batch goes as soon as there are records */
  maxBatchingWindow?: Duration;
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
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      retryAttempts: props.retryAttempts,
      environment: {
        // Stack traces point at the TypeScript source rather than the minified bundle.
        NODE_OPTIONS: '--enable-source-maps',
        ...(props.catalogFile === undefined ? {} : { RAPPORT_CATALOG: bundledCatalogPath }),
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
        commandHooks: props.catalogFile === undefined ? undefined : new CatalogBundling(props.catalogFile),
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
   * Lets the function send email through SES as the catalog's senders, and only as them (the From
   * address is checked too, since a domain identity covers every address at the domain), with the
   * configuration set, which it is told (RAPPORT_SES_CONFIGURATION_SET).
   */
  bindSending(configurationSet: IConfigurationSet, senders: SesSenders): void {
    const stack = Stack.of(this);
    this.lambda.addToRolePolicy(
      new PolicyStatement({
        actions: ['ses:SendEmail'],
        resources: [
          ...senders.identities.map((identity) =>
            stack.formatArn({ service: 'ses', resource: 'identity', resourceName: identity }),
          ),
          stack.formatArn({
            service: 'ses',
            resource: 'configuration-set',
            resourceName: configurationSet.configurationSetName,
          }),
        ],
        conditions: { StringEqualsIgnoreCase: { 'ses:FromAddress': senders.addresses } },
      }),
    );
    this.setEnvironment('RAPPORT_SES_CONFIGURATION_SET', configurationSet.configurationSetName);
  }

  /**
   * Gives the function the signing secret (RAPPORT_SIGNING_SECRET) as a CloudFormation dynamic reference,
   * resolved at deploy time: the function needs no access to Secrets Manager, and no call at cold start.
   * A changed secret reaches the function with its next deployment.
   */
  bindSigningSecret(secret: ISecret): void {
    this.setEnvironment('RAPPORT_SIGNING_SECRET', secret.secretValue.unsafeUnwrap());
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

/**
 * Copies the catalog into the bundle after esbuild has run. The file's name carries a hash of its
 * content, and the bundle's asset hash is taken from its output, so a changed catalog is a new asset.
 */
class CatalogBundling implements ICommandHooks {
  constructor(readonly catalogFile: string) {}

  beforeBundling(): string[] {
    return [];
  }

  beforeInstall(): string[] {
    return [];
  }

  afterBundling(_inputDir: string, outputDir: string): string[] {
    return [`cp ${shellQuoted(this.catalogFile)} ${shellQuoted(join(outputDir, 'catalog.json'))}`];
  }
}

function shellQuoted(path: string): string {
  return `'${path.replaceAll("'", "'\\''")}'`;
}
