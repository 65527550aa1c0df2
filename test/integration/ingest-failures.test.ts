import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { handler } from '#functions/ingest.ts';
import { ingestMessageBody, ingestMessageEvents } from '#shared/ingest-queue.ts';
import { getProfile } from '#shared/store/profiles.ts';
import { minutesAfterStart, track } from '../unit/engagement/events.ts';
import { useEmulators } from './support.ts';

/** Partial batch failures against the emulators: a poison record never costs its batch. */
const env = useEmulators({ maxReceiveCount: 3 });

function record(messageId: string, body: string, receiveCount: number): SQSRecord {
  return {
    messageId,
    receiptHandle: `handle-${messageId}`,
    body,
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: '0',
      SenderId: 'test',
      ApproximateFirstReceiveTimestamp: '0',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:ingest',
    awsRegion: 'us-east-1',
  };
}

function sqsEvent(...records: SQSRecord[]): SQSEvent {
  return { Records: records };
}

const order = (customer: string) =>
  track(
    'Order Completed',
    minutesAfterStart(1),
    { order_id: `${customer}-1`, revenue: 5, currency: 'USD' },
    {
      userId: customer,
    },
  );

describe('the ingest consumer', () => {
  it('reports only the poison record and commits the rest of its batch', async () => {
    const response = await handler(
      sqsEvent(
        record('good-1', JSON.stringify(order('batch-a')), 1),
        record('poison-1', '{"type":"track"', 1),
        record('bad-shape-1', JSON.stringify({ type: 'track', messageId: 'x' }), 1),
        record('good-2', JSON.stringify(order('batch-b')), 1),
      ),
    );
    expect(response.batchItemFailures).toEqual([
      { itemIdentifier: 'poison-1' },
      { itemIdentifier: 'bad-shape-1' },
    ]);
    for (const customer of ['batch-a', 'batch-b']) {
      const profile = await getProfile(customer);
      expect(profile?.kind === 'live' && profile.state.orders.count).toBe(1);
    }
  });

  it('moves a record that fails on its last receive to the DLQ with the reason', async () => {
    const body = JSON.stringify({ type: 'track', messageId: 'no-ids', timestamp: 'yesterday' });
    const response = await handler(sqsEvent(record('poison-2', body, env.maxReceiveCount)));
    expect(response.batchItemFailures).toEqual([]);

    const received = await env.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: env.ingestDlqUrl,
        MessageAttributeNames: ['All'],
        WaitTimeSeconds: 1,
      }),
    );
    const [dead] = received.Messages ?? [];
    expect(dead?.Body).toBe(body);
    const reason = dead?.MessageAttributes?.failureReason?.StringValue ?? '';
    expect(reason).toContain('timestamp');
    expect(reason).toContain('source');
    expect(dead?.MessageAttributes?.originalMessageId?.StringValue).toBe('poison-2');
  });

  it('commits the good events of a packed record and dead-letters only its failed one', async () => {
    const poison = { type: 'track', messageId: 'm-poison', userId: 'pack-c', timestamp: 'yesterday' };
    const body = ingestMessageBody([order('pack-a'), poison, order('pack-b')]);
    const response = await handler(sqsEvent(record('pack-1', body, env.maxReceiveCount)));
    expect(response.batchItemFailures).toEqual([]);
    for (const customer of ['pack-a', 'pack-b']) {
      const profile = await getProfile(customer);
      expect(profile?.kind === 'live' && profile.state.orders.count).toBe(1);
    }
    expect(await getProfile('pack-c')).toBeUndefined();

    const received = await env.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: env.ingestDlqUrl,
        MessageAttributeNames: ['All'],
        WaitTimeSeconds: 1,
      }),
    );
    const [dead] = received.Messages ?? [];
    expect(ingestMessageEvents(dead?.Body ?? '')).toEqual([poison]);
    expect(dead?.MessageAttributes?.failureReason?.StringValue).toMatch(
      /^event 1 of the message is not an ingest event: timestamp: /,
    );
    expect(dead?.MessageAttributes?.originalMessageId?.StringValue).toBe('pack-1');
  });
});
