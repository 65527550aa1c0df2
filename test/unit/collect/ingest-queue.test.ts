import { SendMessageBatchCommand, type SendMessageBatchCommandInput } from '@aws-sdk/client-sqs';
import 'aws-sdk-client-mock-vitest/extend';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { IngestEvent } from '#events/ingest-event.ts';
import { ServiceUnavailableError } from '#shared/http.ts';
import {
  enqueueEvents,
  ingestMessageBody,
  ingestMessageEvents,
  ingestMessages,
} from '#shared/ingest-queue.ts';
import { type QueueMessage, queueBody, sqsBatches } from '#shared/queue.ts';
import { acceptAll, mockAws, queuedBodies, queueUrl } from './fixtures.ts';

function events(count: number, padding = ''): IngestEvent[] {
  return Array.from({ length: count }, (_, i) => ({
    messageId: `m${i}`,
    type: 'track',
    userId: 'u1',
    event: 'Product Viewed',
    properties: padding ? { padding } : undefined,
    timestamp: '2024-05-01T12:00:00.000Z',
    receivedAt: '2024-05-01T12:00:00.000Z',
    source: 'shop',
  }));
}

/** The events as JSON gives them back. */
function asJson(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}

/** Twenty events of about 32 KB: three messages (8, 8 and 4 events), each too big to share a batch. */
function paddedEvents(): IngestEvent[] {
  return events(20, 'x'.repeat(32_000));
}

/** Queue messages made directly, each `bodyChars` of padding long. */
function queueMessages(count: number, bodyChars = 0): QueueMessage[] {
  return Array.from({ length: count }, (_, i) => ({
    body: queueBody({ n: i, padding: 'x'.repeat(bodyChars) }),
    messageId: `m${i}`,
  }));
}

/** SQS's limit on one message, less the 1 KiB the packing leaves for the attributes. */
const maxBodyBytes = 256 * 1024 - 1024;

/** SQS failing the entries with these ids, `times` times each, and taking every other entry. */
function failing(ids: readonly string[], times: number, senderFault = false) {
  const left = new Map(ids.map((id) => [id, times]));
  return (input: SendMessageBatchCommandInput) => {
    const entries = input.Entries ?? [];
    const failed = entries.filter((entry) => (left.get(entry.Id ?? '') ?? 0) > 0);
    for (const entry of failed) left.set(entry.Id ?? '', (left.get(entry.Id ?? '') ?? 0) - 1);
    return {
      Successful: entries
        .filter((entry) => !failed.includes(entry))
        .map((entry) => ({ Id: entry.Id, MessageId: `m-${entry.Id}` })),
      Failed: failed.map((entry) => ({
        Id: entry.Id,
        Code: 'InternalError',
        SenderFault: senderFault,
        Message: 'secret detail',
      })),
    };
  };
}

const fast = { backoffMillis: 1 };

describe('sqsBatches', () => {
  it('makes batches of at most 10 entries, keeping the messages in order', () => {
    const messages = queueMessages(25);
    const batches = sqsBatches(messages);
    expect(batches.map((batch) => batch.length)).toEqual([10, 10, 5]);
    expect(batches.flat().map((entry) => entry.MessageBody)).toEqual(messages.map((message) => message.body));
    expect(batches.flat().map((entry) => entry.MessageAttributes?.messageId?.StringValue)).toEqual(
      messages.map((message) => message.messageId),
    );
  });

  it('sends further attributes, numbers as Number attributes, and counts them in the batch size', () => {
    const body = 'x'.repeat(128 * 1024);
    const message = (index: number) => ({
      body,
      messageId: `m${index}`,
      attributes: { events: 3, note: 'n' },
    });
    const batches = sqsBatches([message(0), message(1)]);
    expect(batches[0]?.[0]?.MessageAttributes).toEqual({
      messageId: { DataType: 'String', StringValue: 'm0' },
      events: { DataType: 'Number', StringValue: '3' },
      note: { DataType: 'String', StringValue: 'n' },
    });
    // Two bodies of exactly 128 KiB fit in 256 KiB only without their attributes.
    expect(batches.map((batch) => batch.length)).toEqual([1, 1]);
  });

  it('keeps each batch under 256 KB', () => {
    const batches = sqsBatches(queueMessages(10, 32_000));
    expect(batches.map((batch) => batch.length)).toEqual([8, 2]);
    for (const batch of batches) {
      const bytes = batch.reduce(
        (sum, entry) =>
          sum +
          Buffer.byteLength(entry.MessageBody ?? '') +
          'messageId'.length +
          'String'.length +
          Buffer.byteLength(entry.MessageAttributes?.messageId?.StringValue ?? ''),
        0,
      );
      expect(bytes).toBeLessThanOrEqual(256 * 1024);
    }
  });

  it('sends the bodies queueBody made, without the characters SQS refuses and meaning the same', () => {
    const body = queueBody({ event: 'odd\uFFFF\uFFFE' });
    const sent = sqsBatches([{ body, messageId: 'm0' }])[0]?.[0]?.MessageBody ?? '';
    expect(sent).toBe(body);
    expect(sent).not.toMatch(/[\uFFFE\uFFFF]/);
    expect(JSON.parse(sent).event).toBe('odd\uFFFF\uFFFE');
  });
});

describe('ingestMessages', () => {
  it('packs small events into one message, in order, with the first messageId as attribute', () => {
    const messages = ingestMessages(events(25));
    expect(messages).toHaveLength(1);
    expect(messages[0]?.messageId).toBe('m0');
    expect(ingestMessageEvents(messages[0]?.body ?? '')).toEqual(asJson(events(25)));
  });

  it('makes no message for no events', () => {
    expect(ingestMessages([])).toEqual([]);
  });

  it('splits events too big for one message, each message as full as it can be', () => {
    const sent = events(10, 'x'.repeat(32_000));
    const messages = ingestMessages(sent);
    expect(messages.length).toBeGreaterThan(1);
    const packed = messages.map((message) => ingestMessageEvents(message.body));
    for (const [index, message] of messages.entries()) {
      expect(Buffer.byteLength(message.body)).toBeLessThanOrEqual(maxBodyBytes);
      expect(message.messageId).toBe((packed[index]?.[0] as IngestEvent | undefined)?.messageId);
      const next = packed[index + 1]?.[0];
      if (next !== undefined) {
        const withNext = ingestMessageBody([...(packed[index] ?? []), next]);
        expect(Buffer.byteLength(withNext)).toBeGreaterThan(maxBodyBytes);
      }
    }
    expect(packed.flat()).toEqual(asJson(sent));
  });

  it('gives an event too big for any message a message of its own', () => {
    const [small, huge, last] = events(3);
    if (!small || !huge || !last) throw new Error('no events');
    const big = { ...huge, properties: { padding: 'x'.repeat(300_000) } };
    const messages = ingestMessages([small, big, last]);
    expect(messages.map((message) => message.messageId)).toEqual(['m0', 'm1', 'm2']);
    expect(Buffer.byteLength(messages[1]?.body ?? '')).toBeGreaterThan(maxBodyBytes);
    expect(messages.map((message) => ingestMessageEvents(message.body))).toEqual([
      [asJson(small)],
      [asJson(big)],
      [asJson(last)],
    ]);
  });

  it('escapes the characters SQS refuses, reading back the same events', () => {
    const [odd, plain] = events(2);
    if (!odd || !plain) throw new Error('no events');
    const messages = ingestMessages([{ ...odd, event: 'odd\uFFFF\uFFFE' }, plain]);
    expect(messages).toHaveLength(1);
    const body = messages[0]?.body ?? '';
    expect(body).not.toMatch(/[\uFFFE\uFFFF]/);
    expect(ingestMessageEvents(body)).toEqual([asJson({ ...odd, event: 'odd\uFFFF\uFFFE' }), asJson(plain)]);
  });
});

describe('ingestMessageEvents', () => {
  it("reads a pack's events", () => {
    expect(ingestMessageEvents('{"events":[{"messageId":"a"},{"messageId":"b"}]}')).toEqual([
      { messageId: 'a' },
      { messageId: 'b' },
    ]);
    expect(ingestMessageEvents('{"events":[]}')).toEqual([]);
  });

  it('reads a bare event as a message of one', () => {
    const [event] = events(1);
    expect(ingestMessageEvents(JSON.stringify(event))).toEqual([asJson(event)]);
  });

  it('throws a SyntaxError on a body that is not JSON', () => {
    expect(() => ingestMessageEvents('{"events": [')).toThrow(SyntaxError);
    expect(() => ingestMessageEvents('not json')).toThrow(SyntaxError);
  });
});

describe('ingestMessageBody', () => {
  it('round-trips through ingestMessageEvents, escaping what SQS refuses', () => {
    const values = [...(asJson(events(2)) as unknown[]), { note: 'odd\uFFFE\uFFFF' }, 'text', 3];
    const body = ingestMessageBody(values);
    expect(body).not.toMatch(/[\uFFFE\uFFFF]/);
    expect(ingestMessageEvents(body)).toEqual(values);
  });

  it('is the body ingestMessages gives the same events', () => {
    expect(ingestMessageBody(events(3))).toBe(ingestMessages(events(3))[0]?.body);
  });
});

describe('enqueueEvents', () => {
  let aws: ReturnType<typeof mockAws>;
  beforeEach(() => {
    aws = mockAws();
    vi.spyOn(console, 'error').mockImplementation(() => {});
  });
  afterEach(() => {
    aws.restore();
    vi.restoreAllMocks();
  });

  const sentEntries = () =>
    aws.sqs.commandCalls(SendMessageBatchCommand).map((call) => call.args[0].input.Entries ?? []);
  const sentIds = () => sentEntries().map((entries) => entries.map((entry) => entry.Id));

  it('sends the events in one message, with the first messageId and the count as attributes', async () => {
    await enqueueEvents(events(12));
    expect(aws.sqs).toHaveReceivedCommandTimes(SendMessageBatchCommand, 1);
    expect(aws.sqs).toHaveReceivedCommandWith(SendMessageBatchCommand, {
      QueueUrl: queueUrl,
      Entries: [
        expect.objectContaining({
          MessageAttributes: {
            messageId: { DataType: 'String', StringValue: 'm0' },
            events: { DataType: 'Number', StringValue: '12' },
          },
        }),
      ],
    });
    expect(queuedBodies(aws.sqs)).toEqual(asJson(events(12)));
  });

  it('sends one entry per message when the events take several', async () => {
    await enqueueEvents(paddedEvents());
    expect(sentIds()).toEqual([['0'], ['1'], ['2']]);
    const entries = sentEntries().flat();
    expect(entries.map((entry) => entry.MessageAttributes?.messageId?.StringValue)).toEqual([
      'm0',
      'm8',
      'm16',
    ]);
    for (const entry of entries) {
      expect(Buffer.byteLength(entry.MessageBody ?? '')).toBeLessThanOrEqual(maxBodyBytes);
    }
    expect(queuedBodies(aws.sqs)).toEqual(asJson(paddedEvents()));
  });

  it('retries the messages SQS failed until they are in', async () => {
    aws.sqs.on(SendMessageBatchCommand).callsFake(failing(['1'], 2));
    await enqueueEvents(paddedEvents(), fast);
    expect(sentIds()).toEqual([['0'], ['1'], ['2'], ['1'], ['1']]);
    const [, failed, , retried, lastTry] = sentEntries();
    expect(retried?.[0]?.MessageBody).toBe(failed?.[0]?.MessageBody);
    expect(lastTry?.[0]?.MessageBody).toBe(failed?.[0]?.MessageBody);
  });

  it('retries a batch whose call failed outright', async () => {
    aws.sqs.on(SendMessageBatchCommand).rejectsOnce(new Error('socket hang up')).callsFake(acceptAll);
    await enqueueEvents(events(2), fast);
    expect(sentIds()).toEqual([['0'], ['0']]);
  });

  it('is a 503 telling to retry when a message still fails, without SQS details', async () => {
    aws.sqs.on(SendMessageBatchCommand).callsFake(failing(['1'], 100));
    const sent = enqueueEvents(paddedEvents(), { attempts: 3, backoffMillis: 1 });
    await expect(sent).rejects.toBeInstanceOf(ServiceUnavailableError);
    await expect(sent).rejects.toThrow(/^could not queue every event; retry the request$/);
    // The three messages go out in parallel; only the failing one is tried again, three times in all.
    expect(sentIds()).toEqual([['0'], ['1'], ['2'], ['1'], ['1']]);
  });

  it("does not retry a message refused as the sender's fault", async () => {
    aws.sqs.on(SendMessageBatchCommand).callsFake(failing(['1'], 1, true));
    await expect(enqueueEvents(paddedEvents(), fast)).rejects.toThrow(
      /^could not queue every event; retry the request$/,
    );
    expect(sentIds()).toEqual([['0'], ['1'], ['2']]);
  });

  it('counts a message SQS does not confirm as not sent', async () => {
    // SQS lists every entry but the second as taken, and none as failed.
    aws.sqs.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => {
      const taken = (input.Entries ?? []).filter((entry) => entry.Id !== '1');
      return acceptAll({ ...input, Entries: taken });
    });
    const sent = enqueueEvents(paddedEvents(), { attempts: 2, backoffMillis: 1 });
    await expect(sent).rejects.toBeInstanceOf(ServiceUnavailableError);
    expect(sentIds()).toEqual([['0'], ['1'], ['2'], ['1']]);
  });

  it('counts a call answered with nothing as not sent', async () => {
    aws.sqs.on(SendMessageBatchCommand).resolves({});
    await expect(enqueueEvents(events(1), { attempts: 2, backoffMillis: 1 })).rejects.toBeInstanceOf(
      ServiceUnavailableError,
    );
    expect(aws.sqs).toHaveReceivedCommandTimes(SendMessageBatchCommand, 2);
  });
});
