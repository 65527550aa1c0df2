import { performance } from 'node:perf_hooks';
import { dynamoClient } from '#shared/clients/dynamodb.ts';
import { sesClient } from '#shared/clients/ses.ts';
import { sqsClient } from '#shared/clients/sqs.ts';
import { type DurationSummary, DurationTable } from './stats.ts';

/**
 * Timers around the AWS calls the code under test makes through the shared clients (DynamoDB, SQS,
 * SES), by command, from the command's start to its result; the capacity DynamoDB reported for
 * each; and when each call started and ended, so that a bench can tell when each email went to SES. Attach after the clients' endpoints are set: a reset of
 * the clients drops the timers.
 */
export interface CallSpan {
  start: number;
  end: number;
}

export class AwsCallTimers {
  private readonly durations = new DurationTable();
  private readonly spans = new Map<string, CallSpan[]>();
  private readonly units = new Map<string, number>();

  attach(): void {
    const step = { step: 'initialize', name: 'benchAwsCallTimer', priority: 'high', override: true } as const;
    dynamoClient().middlewareStack.add(this.timer('DynamoDB'), step);
    sqsClient().middlewareStack.add(this.timer('SQS'), step);
    sesClient().middlewareStack.add(this.timer('SES'), step);
  }

  clear(): void {
    this.durations.clear();
    this.spans.clear();
    this.units.clear();
  }

  /** By call ("DynamoDB BatchGetItem"), the one with the most time first. */
  summary(): Record<string, DurationSummary> {
    return this.durations.summary();
  }

  /** Capacity units DynamoDB reported (ReturnConsumedCapacity), by call. */
  capacityUnits(): Record<string, number> {
    return Object.fromEntries(this.units);
  }

  /** When each call of that name that succeeded started and ended (performance.now()), in the order they ended. */
  spansOf(name: string): CallSpan[] {
    return [...(this.spans.get(name) ?? [])];
  }

  private timer(service: string) {
    return <A, R>(next: (args: A) => Promise<R>, context: { commandName?: string }) =>
      async (args: A): Promise<R> => {
        const name = `${service} ${(context.commandName ?? 'unknown').replace(/Command$/, '')}`;
        const start = performance.now();
        try {
          const result = await next(args);
          const units = consumedUnits(result);
          if (units > 0) this.units.set(name, (this.units.get(name) ?? 0) + units);
          const span = { start, end: performance.now() };
          const spans = this.spans.get(name);
          if (spans) spans.push(span);
          else this.spans.set(name, [span]);
          return result;
        } finally {
          this.durations.record(name, performance.now() - start);
        }
      };
  }
}

/** The capacity units in a command's output: one ConsumedCapacity or a list of them. */
function consumedUnits(result: unknown): number {
  const output = (result as { output?: { ConsumedCapacity?: unknown } } | undefined)?.output;
  const consumed = output?.ConsumedCapacity;
  const entries = Array.isArray(consumed) ? consumed : consumed ? [consumed] : [];
  return entries.reduce(
    (sum: number, entry: { CapacityUnits?: number }) => sum + (entry.CapacityUnits ?? 0),
    0,
  );
}
