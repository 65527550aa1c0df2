import { basename, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { dynamoClient } from '#shared/clients/dynamodb.ts';
import { sqsClient } from '#shared/clients/sqs.ts';

import { round } from './format.ts';
import { parseObject } from './json.ts';
import { repoRoot } from './repo-root.ts';
import { type DurationSummary, DurationTable } from './stats.ts';

/** What the timers hold after the measured phase. */
export interface HandlerTimers {
  handlers: Record<string, DurationSummary>;
  ingestBatches: IngestBatchShape;
  awsTotal: Record<string, DurationSummary>;
  awsWire: Record<string, DurationSummary>;
}

export interface IngestBatchShape {
  invocations: number;
  eventsPerInvocation: number;
  customerIdsPerInvocation: number;
}

/**
 * Timers around the code under test: every handler invocation (wall clock, awaits included), the shape
 * of each ingest batch, and the AWS calls the handlers make, `total` from the command's start
 * (marshalling included) to its result and `wire` one HTTP round trip.
 */
export class Instruments {
  private readonly handlers = new DurationTable();
  private readonly ingestBatches = new QueueBatchShape();
  private readonly awsTotal = new DurationTable();
  private readonly awsWire = new DurationTable();

  /** Loads each handler as the stack would, wrapped in a timer; pass it to startLocalStack. */
  readonly loadHandler = async (entry: string): Promise<unknown> => {
    const module: Record<string, unknown> = await import(pathToFileURL(join(repoRoot, entry)).href);
    const handler = module.handler;
    if (typeof handler !== 'function') return handler;
    const call = handler as (...args: unknown[]) => unknown;
    const name = `${basename(entry, '.ts')} handler`;
    return async (...args: unknown[]): Promise<unknown> => {
      this.ingestBatches.observe(args[0]);
      const start = performance.now();
      try {
        return await call(...args);
      } finally {
        this.handlers.record(name, performance.now() - start);
      }
    };
  };

  /** Times the handlers' AWS calls, through the one place that builds their clients. */
  timeHandlerClients(): void {
    const dynamo = dynamoClient();
    const sqs = sqsClient();
    const total = { step: 'initialize', name: 'benchTotalTimer', priority: 'high', override: true } as const;
    const wire = {
      step: 'finalizeRequest',
      name: 'benchWireTimer',
      priority: 'low',
      override: true,
    } as const;
    dynamo.middlewareStack.add(timer(this.awsTotal, 'DynamoDB'), total);
    dynamo.middlewareStack.add(timer(this.awsWire, 'DynamoDB'), wire);
    sqs.middlewareStack.add(timer(this.awsTotal, 'SQS'), total);
    sqs.middlewareStack.add(timer(this.awsWire, 'SQS'), wire);
  }

  clear(): void {
    this.handlers.clear();
    this.ingestBatches.clear();
    this.awsTotal.clear();
    this.awsWire.clear();
  }

  summary(): HandlerTimers {
    return {
      handlers: this.handlers.summary(),
      ingestBatches: this.ingestBatches.summary(),
      awsTotal: this.awsTotal.summary(),
      awsWire: this.awsWire.summary(),
    };
  }
}

/** How many events, and how many distinct customer ids, each ingest invocation gets. */
class QueueBatchShape {
  private invocations = 0;
  private records = 0;
  private ids = 0;

  observe(event: unknown): void {
    const records = parseObject(event)?.Records;
    if (!Array.isArray(records)) return;
    const ids = new Set<string>();
    for (const record of records) {
      const body = parseObject(parseObject(record)?.body);
      const id = body?.userId ?? body?.anonymousId;
      if (typeof id === 'string') ids.add(id);
    }
    this.invocations++;
    this.records += records.length;
    this.ids += ids.size;
  }

  clear(): void {
    this.invocations = 0;
    this.records = 0;
    this.ids = 0;
  }

  summary(): IngestBatchShape {
    const per = (value: number): number => round(value / Math.max(1, this.invocations), 2);
    return {
      invocations: this.invocations,
      eventsPerInvocation: per(this.records),
      customerIdsPerInvocation: per(this.ids),
    };
  }
}

/** An SDK middleware that records how long the rest of the stack takes, by command. */
function timer(table: DurationTable, service: string) {
  return <A, R>(next: (args: A) => Promise<R>, context: { commandName?: string }) =>
    async (args: A): Promise<R> => {
      const start = performance.now();
      try {
        return await next(args);
      } finally {
        const command = (context.commandName ?? 'unknown').replace(/Command$/, '');
        table.record(`${service} ${command}`, performance.now() - start);
      }
    };
}
