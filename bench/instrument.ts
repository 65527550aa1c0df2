import { basename, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { dynamoClient } from '#shared/clients/dynamodb.ts';
import { sqsClient } from '#shared/clients/sqs.ts';
import { ingestMessageEvents } from '#shared/ingest-queue.ts';

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
    const isIngest = basename(entry, '.ts') === 'ingest';
    return async (...args: unknown[]): Promise<unknown> => {
      const records = isIngest ? this.ingestBatches.observe(args[0]) : [];
      const start = performance.now();
      try {
        const result = await call(...args);
        this.ingestBatches.settled(records, result);
        return result;
      } finally {
        this.handlers.record(name, performance.now() - start);
      }
    };
  };

  /** Events the ingest handler has taken, less those it reported failed, since the last clear. */
  ingestedEvents(): number {
    return this.ingestBatches.ingested;
  }

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

/**
 * How many events, and how many distinct customer ids, each ingest invocation gets, and how many
 * events it took (a record's events are done unless the handler reports the record failed). Events
 * are counted from each message's `events` attribute; the bodies are read for customer ids only when
 * the summary is asked for, after the measured phase.
 */
class QueueBatchShape {
  private readonly batches: string[][] = [];
  private events = 0;
  ingested = 0;

  /** Notes an invocation's batch; returns its records, each with its id and how many events it carries. */
  observe(event: unknown): { id: unknown; events: number }[] {
    const records = recordsOf(event);
    this.batches.push(records.map((record) => record.body));
    for (const record of records) this.events += record.events;
    return records;
  }

  /** Counts the events of the records the invocation did not report failed. */
  settled(records: readonly { id: unknown; events: number }[], result: unknown): void {
    const failures = parseObject(result)?.batchItemFailures;
    const failed = new Set(
      (Array.isArray(failures) ? failures : []).map((failure) => parseObject(failure)?.itemIdentifier),
    );
    for (const record of records) if (!failed.has(record.id)) this.ingested += record.events;
  }

  clear(): void {
    this.batches.length = 0;
    this.events = 0;
    this.ingested = 0;
  }

  summary(): IngestBatchShape {
    const invocations = this.batches.length;
    const ids = this.batches.reduce((sum, bodies) => sum + new Set(bodies.flatMap(customerIdsOf)).size, 0);
    const per = (value: number): number => round(value / Math.max(1, invocations), 2);
    return { invocations, eventsPerInvocation: per(this.events), customerIdsPerInvocation: per(ids) };
  }
}

/** The records of an SQS event, each with its id, its body and how many events it carries. */
function recordsOf(event: unknown): { id: unknown; body: string; events: number }[] {
  const records = parseObject(event)?.Records;
  if (!Array.isArray(records)) return [];
  return records.map((value) => {
    const record = parseObject(value);
    const body = String(record?.body);
    const counted = Number(parseObject(parseObject(record?.messageAttributes)?.events)?.stringValue);
    return {
      id: record?.messageId,
      body,
      events: Number.isInteger(counted) ? counted : eventsIn(body).length,
    };
  });
}

function eventsIn(body: string): unknown[] {
  try {
    return ingestMessageEvents(body);
  } catch {
    return [];
  }
}

function customerIdsOf(body: string): string[] {
  return eventsIn(body).flatMap((event) => {
    const fields = parseObject(event);
    const id = fields?.userId ?? fields?.anonymousId;
    return typeof id === 'string' ? [id] : [];
  });
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
