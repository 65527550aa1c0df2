import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { EventBridgeEvent } from 'aws-lambda';

/**
 * The local lifecycle bus. EventBridge has no offline emulator, so this speaks just enough of its
 * JSON protocol (PutEvents) for the real EventBridgeClient to publish to it, and routes each event to
 * in-process subscribers on source and detail-type, the fields the CDK rules match on.
 */
export type BusEvent = EventBridgeEvent<string, unknown>;
export type BusSubscriber = (event: BusEvent) => unknown;

export interface BusRule {
  source: string;
  detailType: string;
}

export interface RecordedEvent extends BusEvent {
  eventBusName: string;
}

export interface LocalBus {
  endpoint: string;
  /** Returns a function that removes the subscription. */
  subscribe(rule: BusRule, subscriber: BusSubscriber): () => void;
  /** The latest events, oldest first (also served as `GET /events`). */
  events(): RecordedEvent[];
  /** Resolves when every delivery started so far has finished. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

export interface LocalBusOptions {
  port?: number;
  region?: string;
  /** How many events `events()` keeps. */
  capacity?: number;
  logError?: (line: string) => void;
}

interface PutEventsEntry {
  Source?: unknown;
  DetailType?: unknown;
  Detail?: unknown;
  EventBusName?: unknown;
  Time?: unknown;
  Resources?: unknown;
}

type EntryResult = { EventId: string } | { ErrorCode: string; ErrorMessage: string };

/** EventBridge accepts at most this many entries in one PutEvents call. */
const maxEntries = 10;
const maxRequestBytes = 256 * 1024;

export async function startLocalBus(options: LocalBusOptions = {}): Promise<LocalBus> {
  const region = options.region ?? 'us-east-1';
  const capacity = options.capacity ?? 1000;
  const logError = options.logError ?? ((line: string) => console.error(line));
  const subscriptions = new Set<{ rule: BusRule; subscriber: BusSubscriber }>();
  const pending = new Set<Promise<void>>();
  let recorded: RecordedEvent[] = [];

  function publish(entry: PutEventsEntry, receivedAt: Date): EntryResult {
    if (typeof entry.Source !== 'string' || entry.Source === '') return invalid('Source');
    if (typeof entry.DetailType !== 'string' || entry.DetailType === '') return invalid('DetailType');
    if (typeof entry.Detail !== 'string') return invalid('Detail');
    let detail: unknown;
    try {
      detail = JSON.parse(entry.Detail);
    } catch {
      return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
    }
    if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) {
      return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
    }
    const event: BusEvent = {
      version: '0',
      id: randomUUID(),
      'detail-type': entry.DetailType,
      source: entry.Source,
      account: '000000000000',
      time: isoSeconds(typeof entry.Time === 'number' ? new Date(entry.Time * 1000) : receivedAt),
      region,
      resources: Array.isArray(entry.Resources) ? entry.Resources.map(String) : [],
      detail,
    };
    const eventBusName = typeof entry.EventBusName === 'string' ? entry.EventBusName : 'default';
    recorded.push({ ...event, eventBusName });
    if (recorded.length > capacity) recorded = recorded.slice(-capacity);
    deliver(event);
    return { EventId: event.id };
  }

  /** Delivery is asynchronous, as on EventBridge: the publisher never waits for a subscriber. */
  function deliver(event: BusEvent): void {
    for (const { rule, subscriber } of subscriptions) {
      if (rule.source !== event.source || rule.detailType !== event['detail-type']) continue;
      const delivery = (async () => {
        try {
          await subscriber(event);
        } catch (error) {
          logError(
            `bus: subscriber to ${rule.source}/${rule.detailType} failed on ${event.id}: ${describe(error)}`,
          );
        }
      })();
      pending.add(delivery);
      delivery.finally(() => pending.delete(delivery));
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      logError(`bus: ${describe(error)}`);
      if (!res.headersSent) reply(res, 500, { __type: 'InternalException', message: 'internal error' });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://bus');
    if (req.method === 'GET' && url.pathname === '/events') {
      const source = url.searchParams.get('source');
      const detailType = url.searchParams.get('detailType');
      const events = recorded.filter(
        (event) =>
          (!source || event.source === source) && (!detailType || event['detail-type'] === detailType),
      );
      reply(res, 200, { events });
      return;
    }
    if (req.method !== 'POST' || url.pathname !== '/') {
      reply(res, 404, { __type: 'UnknownOperationException', message: `no ${req.method} ${url.pathname}` });
      return;
    }
    const target = req.headers['x-amz-target'];
    if (target !== 'AWSEvents.PutEvents') {
      reply(res, 400, { __type: 'UnknownOperationException', message: `unsupported operation ${target}` });
      return;
    }
    const text = await readText(req);
    if (text === undefined) {
      reply(res, 413, { __type: 'ValidationException', message: `request exceeds ${maxRequestBytes} bytes` });
      return;
    }
    let body: { Entries?: unknown };
    try {
      body = JSON.parse(text);
    } catch {
      reply(res, 400, { __type: 'SerializationException', message: 'request body is not JSON' });
      return;
    }
    const entries = body.Entries;
    if (!Array.isArray(entries) || entries.length === 0 || entries.length > maxEntries) {
      reply(res, 400, {
        __type: 'ValidationException',
        message: `Entries must hold between 1 and ${maxEntries} entries`,
      });
      return;
    }
    const receivedAt = new Date();
    const results = entries.map((entry: PutEventsEntry) => publish(entry, receivedAt));
    reply(res, 200, {
      FailedEntryCount: results.filter((result) => 'ErrorCode' in result).length,
      Entries: results,
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  let closing: Promise<void> | undefined;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    subscribe(rule, subscriber) {
      const subscription = { rule, subscriber };
      subscriptions.add(subscription);
      return () => {
        subscriptions.delete(subscription);
      };
    },
    events: () => [...recorded],
    async settled() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function invalid(field: string): EntryResult {
  return { ErrorCode: 'InvalidArgument', ErrorMessage: `Parameter ${field} is not valid.` };
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
  res.end(JSON.stringify(body));
}

async function readText(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  // Read to the end even when too large, so that the client still gets its error reply.
  for await (const chunk of req) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size <= maxRequestBytes) chunks.push(buffer);
  }
  return size > maxRequestBytes ? undefined : Buffer.concat(chunks).toString('utf8');
}

/** EventBridge writes event times to the second: `2026-11-02T10:00:00Z`. */
function isoSeconds(at: Date): string {
  return `${at.toISOString().slice(0, 19)}Z`;
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
