import { performance } from 'node:perf_hooks';
import { CreateTableCommand, DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  type BatchWriteCommandOutput,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { tableDefinition } from '#shared/store/schema.ts';
import { type CpuReaders, type PhaseUsage, phaseUsage, usageMark } from './cpu.ts';
import { fmt, log } from './format.ts';
import { inPool } from './pool.ts';
import type { SyntheticData } from './synthetic.ts';

/**
 * The raw BatchWriteItem ceiling of the same DynamoDB Local: as many timeline-sized items as events,
 * written 25 a request into a fresh table, with no ingest logic around them.
 */
export interface TimelineItem {
  pk: string;
  sk: string;
  /** Event time in epoch milliseconds, as shared/store/timeline.ts keeps it. */
  at: number;
  event: Record<string, unknown>;
}

export interface CeilingMeasurement extends TableWrite {
  usage: PhaseUsage;
}

interface TableWrite {
  items: number;
  ms: number;
  requests: number;
  unprocessedRetries: number;
  capacity: { writeUnits: number };
}

export const ceilingBatchSize = 25;
/**
 * The items ingest stores on the timeline (shared/store/timeline.ts), with the fields collect adds to
 * each event, so that the ceiling writes items of the same sizes.
 */
export function timelineItems(data: SyntheticData): TimelineItem[] {
  return data.events.map(({ event, millis }) => ({
    pk: `c#${event.userId ?? event.anonymousId ?? ''}`,
    sk: `e#${event.messageId}`,
    at: millis,
    event: { ...event, receivedAt: '2026-11-22T17:05:09.123Z', source: 'local' },
  }));
}

export async function measureCeiling(
  dynamo: DynamoDBDocumentClient,
  items: readonly TimelineItem[],
  concurrency: number,
  readers: CpuReaders,
): Promise<CeilingMeasurement> {
  log(`measuring the ceiling: BatchWriteItem of ${fmt(items.length)} items, ${concurrency} concurrent`);
  const before = usageMark(readers);
  const written = await writeToFreshTable(dynamo, `bench-ceiling-${process.pid}`, items, concurrency);
  return { ...written, usage: phaseUsage(before, usageMark(readers), 0, items.length) };
}

/** Creates the table (the stack's key schema), writes the items 25 a request, and deletes it again. */
async function writeToFreshTable(
  dynamo: DynamoDBDocumentClient,
  table: string,
  items: readonly TimelineItem[],
  concurrency: number,
): Promise<TableWrite> {
  await dynamo.send(new CreateTableCommand({ TableName: table, ...tableDefinition }));
  try {
    const chunks: TimelineItem[][] = [];
    for (let start = 0; start < items.length; start += ceilingBatchSize) {
      chunks.push(items.slice(start, start + ceilingBatchSize));
    }
    let unprocessedRetries = 0;
    let writeUnits = 0;
    const start = performance.now();
    await inPool(chunks, concurrency, async (chunk) => {
      const written = await writeChunk(dynamo, table, chunk);
      unprocessedRetries += written.retries;
      writeUnits += written.writeUnits;
    });
    return {
      items: items.length,
      ms: performance.now() - start,
      requests: chunks.length,
      unprocessedRetries,
      capacity: { writeUnits },
    };
  } finally {
    await dynamo.send(new DeleteTableCommand({ TableName: table }));
  }
}

/** One BatchWriteItem, then its unprocessed items again with backoff, up to 8 rounds. */
async function writeChunk(
  dynamo: DynamoDBDocumentClient,
  table: string,
  chunk: readonly TimelineItem[],
): Promise<{ retries: number; writeUnits: number }> {
  let retries = 0;
  let writeUnits = 0;
  let requests = chunk.map((Item) => ({ PutRequest: { Item } }));
  for (let round = 0; requests.length > 0; round++) {
    if (round === 8) throw new Error(`${table}: DynamoDB kept returning unprocessed items`);
    if (round > 0) {
      retries++;
      await new Promise((resolve) => setTimeout(resolve, 25 * 2 ** round));
    }
    const result: BatchWriteCommandOutput = await dynamo.send(
      new BatchWriteCommand({ RequestItems: { [table]: requests }, ReturnConsumedCapacity: 'TOTAL' }),
    );
    for (const consumed of result.ConsumedCapacity ?? []) writeUnits += consumed.CapacityUnits ?? 0;
    requests = (result.UnprocessedItems?.[table] ?? []).flatMap((request) =>
      request.PutRequest?.Item ? [{ PutRequest: { Item: request.PutRequest.Item as TimelineItem } }] : [],
    );
  }
  return { retries, writeUnits };
}
