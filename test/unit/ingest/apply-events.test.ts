import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand, type PutEventsCommandInput } from '@aws-sdk/client-eventbridge';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import type { IngestEvent } from '#events/ingest-event.ts';
import type { LifecycleEvent } from '#events/lifecycle.ts';
import { defaultEngagementSettings as settings } from '#shared/engagement/settings.ts';
import {
  type EngagementState,
  foldEvent,
  foldEvents,
  sortsAfterWatermark,
} from '#shared/engagement/state.ts';
import { lifecycleTransitions } from '#shared/engagement/transitions.ts';
import { applyEvents, planFold, type TimelineWrite } from '#shared/ingest/apply-events.ts';
import { emptyOutbox, type LiveProfile, type Outbox } from '#shared/store/profiles.ts';
import { minutesAfterStart as at, page, track } from '../engagement/events.ts';
import { useTestRuntime } from '../support/runtime-env.ts';

const dynamo = mockClient(DynamoDBDocumentClient);
const eventBridge = mockClient(EventBridgeClient);
useTestRuntime([dynamo, eventBridge]);

/** What each partition holds, as the timeline Query sees it. */
let timeline: Map<string, IngestEvent[]>;
/** The order in which the state was written and lifecycle events were published. */
let effects: string[];

beforeEach(() => {
  timeline = new Map();
  effects = [];
  dynamo.on(QueryCommand).callsFake((input: QueryCommandInput) => {
    const partition = String(input.ExpressionAttributeValues?.[':pk']);
    return { Items: (timeline.get(partition) ?? []).map((event) => ({ event })) };
  });
  dynamo.on(PutCommand).callsFake(() => {
    effects.push('write state');
    return {};
  });
  dynamo.on(UpdateCommand).callsFake(() => {
    effects.push('clear outbox');
    return {};
  });
  eventBridge.on(PutEventsCommand).callsFake((input: PutEventsCommandInput) => {
    effects.push('publish');
    return { FailedEntryCount: 0, Entries: (input.Entries ?? []).map(() => ({ EventId: 'e' })) };
  });
});

const visit = page(at(0), {}, { messageId: 'm-visit' });
const view = track('Product Viewed', at(1), { product_id: 'p1', name: 'Kettle' }, { messageId: 'm-view' });
const later = track('Product Added', at(5), { product_id: 'p1', price: 30 }, { messageId: 'm-add' });
const late = track('Product Viewed', at(0.5), { product_id: 'p2' }, { messageId: 'm-late' });
const order = track(
  'Order Completed',
  at(3),
  { order_id: 'o1', revenue: '120.50', currency: 'USD' },
  { messageId: 'm-order' },
);
const afterOrder = page(at(6), {}, { messageId: 'm-after-order' });

function profileOf(events: IngestEvent[], version: number, outbox: Outbox = emptyOutbox): LiveProfile {
  timeline.set('c#u1', [...events]);
  return {
    kind: 'live',
    id: 'u1',
    version,
    members: ['u1'],
    foldedMembers: ['u1'],
    state: foldEvents('u1', events, settings),
    outbox,
    indexed: [],
  };
}

function stored(...events: IngestEvent[]): TimelineWrite[] {
  return events.map((event) => ({ event, outcome: 'stored' }));
}

/** The writes also land on the timeline, as storeTimelineEvents does before applyEvents runs. */
function onTimeline(writes: TimelineWrite[]): TimelineWrite[] {
  const partition = timeline.get('c#u1') ?? [];
  for (const { event, outcome } of writes) if (outcome === 'stored') partition.push(event);
  timeline.set('c#u1', partition);
  return writes;
}

function conditionFailed() {
  return new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
}

function statePut(state: EngagementState, expectedVersion: number, outbox: Outbox) {
  return {
    Item: {
      pk: 'c#u1',
      sk: 'state',
      version: expectedVersion + 1,
      members: ['u1'],
      foldedMembers: ['u1'],
      state: JSON.stringify(state),
      outbox,
      indexed: [],
    },
    ...(expectedVersion === 0
      ? { ConditionExpression: 'attribute_not_exists(pk)' }
      : {
          ConditionExpression: 'version = :expected',
          ExpressionAttributeValues: { ':expected': expectedVersion },
        }),
  };
}

/** The DynamoDB commands sent, in order. */
function dynamoCommands(): string[] {
  return dynamo.calls().map((call) => String(call.args[0].constructor.name));
}

function publishedDetails(): unknown[] {
  return eventBridge
    .commandCalls(PutEventsCommand)
    .flatMap((call) => call.args[0].input.Entries ?? [])
    .map((entry) => JSON.parse(entry.Detail ?? 'null'));
}

describe('applyEvents: incremental or replay', () => {
  it('folds events that all sort after the watermark on top of the stored state, without a Query', async () => {
    const profile = profileOf([visit, view], 2);
    await applyEvents({ id: 'u1', profile }, onTimeline(stored(later)), settings);
    expect(dynamo).not.toHaveReceivedCommand(QueryCommand);
    const after = foldEvent(profile.state, later, settings);
    expect(after).toEqual(foldEvents('u1', [visit, view, later], settings));
    expect(dynamo).toHaveReceivedCommandExactlyOnceWith(PutCommand, statePut(after, 2, { events: [] }));
  });

  it('starts a new customer from the empty state, on condition that no profile exists yet', async () => {
    await applyEvents({ id: 'u1' }, onTimeline(stored(view, visit)), settings);
    expect(dynamo).not.toHaveReceivedCommand(QueryCommand);
    expect(dynamo).toHaveReceivedCommandExactlyOnceWith(
      PutCommand,
      statePut(foldEvents('u1', [visit, view], settings), 0, { events: [] }),
    );
  });

  it('replays the whole timeline for an event that sorts before the watermark', async () => {
    const profile = profileOf([visit, view], 2);
    await applyEvents({ id: 'u1', profile }, onTimeline(stored(late, later)), settings);
    expect(dynamo).toHaveReceivedCommandExactlyOnceWith(QueryCommand, {
      ExpressionAttributeValues: { ':pk': 'c#u1', ':prefix': 'e#' },
      ConsistentRead: true,
    });
    expect(dynamo).toHaveReceivedCommandWith(
      PutCommand,
      statePut(foldEvents('u1', [visit, late, view, later], settings), 2, { events: [] }),
    );
  });

  it('replays for a duplicate, even next to new events that sort after the watermark', async () => {
    const profile = profileOf([visit, view], 2);
    const writes = onTimeline([{ event: view, outcome: 'duplicate' }, ...stored(later)]);
    await applyEvents({ id: 'u1', profile }, writes, settings);
    expect(dynamo).toHaveReceivedCommandTimes(QueryCommand, 1);
    expect(dynamo).toHaveReceivedCommandWith(
      PutCommand,
      statePut(foldEvents('u1', [visit, view, later], settings), 2, { events: [] }),
    );
  });

  it('replays every member partition when told to', async () => {
    const profile = { ...profileOf([view], 2), members: ['a1', 'u1'], foldedMembers: ['a1', 'u1'] };
    const anonymousVisit = { ...visit, userId: undefined, anonymousId: 'a1' };
    timeline.set('c#a1', [anonymousVisit]);
    const plan = await planFold({ id: 'u1', profile }, onTimeline(stored(later)), true, settings);
    expect(dynamo).toHaveReceivedCommandTimes(QueryCommand, 2);
    expect(plan).toMatchObject({
      kind: 'write',
      write: {
        members: ['a1', 'u1'],
        foldedMembers: ['a1', 'u1'],
        state: foldEvents('u1', [anonymousVisit, view, later], settings),
      },
    });
  });

  it('replays every member partition after a merge, though the new events sort after the watermark', async () => {
    // a1 was merged into u1 (members) and its events are not in the state yet (foldedMembers).
    const profile = { ...profileOf([view], 2), members: ['a1', 'u1'], foldedMembers: ['u1'] };
    const anonymousVisit = { ...visit, userId: undefined, anonymousId: 'a1' };
    timeline.set('c#a1', [anonymousVisit]);
    expect(sortsAfterWatermark(profile.state, later)).toBe(true);
    await applyEvents({ id: 'u1', profile }, onTimeline(stored(later)), settings);
    expect(dynamo).toHaveReceivedCommandTimes(QueryCommand, 2);
    expect(dynamo).toHaveReceivedCommandWith(QueryCommand, {
      ExpressionAttributeValues: { ':pk': 'c#a1', ':prefix': 'e#' },
    });
    expect(dynamo).toHaveReceivedCommandExactlyOnceWith(PutCommand, {
      Item: expect.objectContaining({
        version: 3,
        members: ['a1', 'u1'],
        foldedMembers: ['a1', 'u1'],
        state: JSON.stringify(foldEvents('u1', [anonymousVisit, view, later], settings)),
      }),
      ExpressionAttributeValues: { ':expected': 2 },
    });
  });

  it('writes nothing when a replay ends where the stored state is', async () => {
    const profile = profileOf([visit, view], 2);
    await applyEvents({ id: 'u1', profile }, [{ event: view, outcome: 'duplicate' }], settings);
    expect(dynamo).toHaveReceivedCommandTimes(QueryCommand, 1);
    expect(dynamo).not.toHaveReceivedCommand(PutCommand);
    expect(eventBridge).not.toHaveReceivedCommand(PutEventsCommand);
  });
});

describe('applyEvents: version conflicts', () => {
  it('reads the profile again and replays the timeline, though the new events sort after its watermark', async () => {
    const profile = profileOf([visit], 2);
    // Meanwhile another worker folded `view` and wrote version 3.
    timeline.set('c#u1', [visit, view, later]);
    dynamo.on(PutCommand).rejectsOnce(conditionFailed()).resolves({});
    const fresh = foldEvents('u1', [visit, view], settings);
    dynamo.on(GetCommand).resolves({
      Item: {
        pk: 'c#u1',
        sk: 'state',
        version: 3,
        members: ['u1'],
        foldedMembers: ['u1'],
        state: fresh,
        outbox: emptyOutbox,
      },
    });
    await applyEvents({ id: 'u1', profile }, stored(later), settings);
    expect(dynamo).toHaveReceivedCommandExactlyOnceWith(GetCommand, {
      Key: { pk: 'c#u1', sk: 'state' },
      ConsistentRead: true,
    });
    expect(dynamo).toHaveReceivedCommandTimes(PutCommand, 2);
    const outbox = { events: [] };
    expect(dynamo).toHaveReceivedNthCommandWith(
      PutCommand,
      1,
      statePut(foldEvents('u1', [visit, later], settings), 2, outbox),
    );
    expect(dynamo).toHaveReceivedNthCommandWith(
      PutCommand,
      2,
      statePut(foldEvents('u1', [visit, view, later], settings), 3, outbox),
    );
    // The first attempt was incremental; only the retry read the timeline.
    expect(dynamoCommands()).toEqual(['PutCommand', 'GetCommand', 'QueryCommand', 'PutCommand']);
  });

  it('replays on the retry so that a copy another worker folded concurrently counts once', async () => {
    // Both workers found m-order new on the timeline; the other one, with a copy stamped a little
    // earlier, wrote version 3 first. Folding ours on top of that would count the order twice.
    const profile = profileOf([visit], 2);
    const theirs = { ...order, timestamp: at(2.9) };
    timeline.set('c#u1', [visit, theirs]);
    const fresh = foldEvents('u1', [visit, theirs], settings);
    expect(sortsAfterWatermark(fresh, order)).toBe(true);
    expect(foldEvent(fresh, order, settings)).not.toEqual(fresh);
    dynamo.on(PutCommand).rejectsOnce(conditionFailed()).resolves({});
    dynamo.on(GetCommand).resolves({
      Item: {
        pk: 'c#u1',
        sk: 'state',
        version: 3,
        members: ['u1'],
        foldedMembers: ['u1'],
        state: fresh,
        outbox: emptyOutbox,
      },
    });
    await applyEvents({ id: 'u1', profile }, stored(order), settings);
    expect(dynamo).toHaveReceivedCommandTimes(QueryCommand, 1);
    // The replay ends where the other worker left the state: nothing more to write or publish.
    expect(dynamo).toHaveReceivedCommandTimes(PutCommand, 1);
    expect(eventBridge).not.toHaveReceivedCommand(PutEventsCommand);
  });

  it('replays on the retry when the fresh state has moved past the new events', async () => {
    const profile = profileOf([visit], 2);
    timeline.set('c#u1', [visit, view, later]);
    dynamo.on(PutCommand).rejectsOnce(conditionFailed()).resolves({});
    const concurrent = track('Product Viewed', at(9), { product_id: 'p9' }, { messageId: 'm-concurrent' });
    dynamo.on(GetCommand).resolves({
      Item: {
        pk: 'c#u1',
        sk: 'state',
        version: 3,
        members: ['u1'],
        foldedMembers: ['u1'],
        state: foldEvents('u1', [visit, concurrent], settings),
        outbox: emptyOutbox,
      },
    });
    timeline.get('c#u1')?.push(concurrent);
    await applyEvents({ id: 'u1', profile }, stored(later), settings);
    expect(dynamo).toHaveReceivedCommandTimes(QueryCommand, 1);
    expect(dynamo).toHaveReceivedLastCommandWith(
      PutCommand,
      statePut(foldEvents('u1', [visit, view, later, concurrent], settings), 3, { events: [] }),
    );
  });

  it('gives up after ten conflicts, so that the batch is retried', async () => {
    const profile = profileOf([visit], 2);
    onTimeline(stored(later));
    dynamo.on(PutCommand).rejects(conditionFailed());
    dynamo.on(GetCommand).resolves({
      Item: {
        pk: 'c#u1',
        sk: 'state',
        version: 2,
        members: ['u1'],
        foldedMembers: ['u1'],
        state: profile.state,
        outbox: emptyOutbox,
      },
    });
    await expect(applyEvents({ id: 'u1', profile }, stored(later), settings)).rejects.toThrow(
      'profile u1 is updated too often concurrently; the batch will be retried',
    );
    expect(dynamo).toHaveReceivedCommandTimes(PutCommand, 10);
    expect(dynamo).toHaveReceivedCommandTimes(GetCommand, 9);
    expect(dynamo).toHaveReceivedCommandTimes(QueryCommand, 9);
    expect(eventBridge).not.toHaveReceivedCommand(PutEventsCommand);
  });

  it('lets an error that is not a conflict through without retrying', async () => {
    const profile = profileOf([visit], 2);
    const throttled = new Error('throttled');
    dynamo.on(PutCommand).rejects(throttled);
    await expect(applyEvents({ id: 'u1', profile }, stored(later), settings)).rejects.toBe(throttled);
    expect(dynamo).toHaveReceivedCommandTimes(PutCommand, 1);
    expect(dynamo).not.toHaveReceivedCommand(GetCommand);
  });
});

describe('applyEvents: lifecycle events and the outbox', () => {
  const before = foldEvents('u1', [visit], settings);
  const after = foldEvents('u1', [visit, order], settings);
  const transitions: LifecycleEvent[] = lifecycleTransitions(before, after, settings);

  it('keeps the transitions in the outbox with the state, publishes them, then clears them', async () => {
    expect(transitions.map((event) => event.detailType)).toEqual([
      'First Order Placed',
      'Customer Tier Changed',
      'Spend Threshold Crossed',
    ]);
    const profile = profileOf([visit], 2);
    await applyEvents({ id: 'u1', profile }, onTimeline(stored(order)), settings);
    expect(dynamo).toHaveReceivedCommandWith(PutCommand, statePut(after, 2, { events: transitions }));
    expect(publishedDetails()).toEqual(transitions.map((event) => event.detail));
    expect(dynamo).toHaveReceivedCommandExactlyOnceWith(UpdateCommand, {
      Key: { pk: 'c#u1', sk: 'state' },
      ConditionExpression: 'version = :version',
      ExpressionAttributeValues: { ':empty': emptyOutbox, ':version': 3 },
    });
    expect(effects).toEqual(['write state', 'publish', 'clear outbox']);
  });

  it('writes no outbox and clears nothing when the change causes no lifecycle event', async () => {
    const profile = profileOf([visit], 2);
    await applyEvents({ id: 'u1', profile }, onTimeline(stored(later)), settings);
    expect(effects).toEqual(['write state']);
  });

  it('publishes an outbox left by a writer that died before publishing, even when nothing changed', async () => {
    const profile = profileOf([visit, order], 3, { events: transitions });
    await applyEvents({ id: 'u1', profile }, [{ event: order, outcome: 'duplicate' }], settings);
    expect(dynamo).not.toHaveReceivedCommand(PutCommand);
    expect(publishedDetails()).toEqual(transitions.map((event) => event.detail));
    expect(effects).toEqual(['publish', 'clear outbox']);
  });

  it('carries a left-over outbox forward when the next change is for another message', async () => {
    const profile = profileOf([visit, order], 3, { events: transitions });
    await applyEvents({ id: 'u1', profile }, onTimeline(stored(afterOrder)), settings);
    const state = foldEvents('u1', [visit, order, afterOrder], settings);
    expect(dynamo).toHaveReceivedCommandWith(PutCommand, statePut(state, 3, { events: transitions }));
    expect(publishedDetails()).toEqual(transitions.map((event) => event.detail));
    expect(effects).toEqual(['write state', 'publish', 'clear outbox']);
  });

  it('leaves an outbox in place when the profile changed after the write (its new writer owns it)', async () => {
    const profile = profileOf([visit], 2);
    dynamo.on(UpdateCommand).rejects(conditionFailed());
    await applyEvents({ id: 'u1', profile }, onTimeline(stored(order)), settings);
    expect(publishedDetails()).toEqual(transitions.map((event) => event.detail));
  });

  it('publishes nothing when the state write conflicts, until the retry has written', async () => {
    const profile = profileOf([visit], 2);
    onTimeline(stored(order));
    dynamo
      .on(PutCommand)
      .callsFakeOnce(() => {
        effects.push('conflict');
        throw conditionFailed();
      })
      .callsFake(() => {
        effects.push('write state');
        return {};
      });
    dynamo.on(GetCommand).resolves({
      Item: {
        pk: 'c#u1',
        sk: 'state',
        version: 2,
        members: ['u1'],
        foldedMembers: ['u1'],
        state: before,
        outbox: emptyOutbox,
      },
    });
    await applyEvents({ id: 'u1', profile }, stored(order), settings);
    expect(effects).toEqual(['conflict', 'write state', 'publish', 'clear outbox']);
    expect(publishedDetails()).toEqual(transitions.map((event) => event.detail));
  });
});

describe('planFold: members merged in and not folded yet', () => {
  const anonymousVisit = { ...visit, userId: undefined, anonymousId: 'a1', messageId: 'm-a1-visit' };

  /** u1 as a merge leaves it: a1 among its members, not among the members its state holds. */
  function merged(events: IngestEvent[], version: number): LiveProfile {
    return { ...profileOf(events, version), members: ['a1', 'u1'], foldedMembers: ['u1'] };
  }

  it('replays every member partition, though the new events sort after the watermark', async () => {
    const profile = merged([visit, view], 4);
    timeline.set('c#a1', [anonymousVisit]);
    const plan = await planFold({ id: 'u1', profile }, onTimeline(stored(later)), false, settings);
    expect(dynamo).toHaveReceivedCommandTimes(QueryCommand, 2);
    expect(plan).toEqual({
      kind: 'write',
      write: {
        id: 'u1',
        members: ['a1', 'u1'],
        foldedMembers: ['a1', 'u1'],
        state: foldEvents('u1', [visit, anonymousVisit, view, later], settings),
        outbox: { events: [] },
        indexed: [],
        indexChanges: { puts: [], deletes: [] },
        expectedVersion: 4,
      },
    });
  });

  it('replays and writes when no event is new (a redelivery after the merge)', async () => {
    const profile = merged([visit, view], 4);
    timeline.set('c#a1', [anonymousVisit]);
    const plan = await planFold(
      { id: 'u1', profile },
      [{ event: view, outcome: 'duplicate' }],
      false,
      settings,
    );
    expect(dynamo).toHaveReceivedCommandTimes(QueryCommand, 2);
    expect(plan).toMatchObject({
      kind: 'write',
      write: {
        foldedMembers: ['a1', 'u1'],
        state: foldEvents('u1', [visit, anonymousVisit, view], settings),
        expectedVersion: 4,
      },
    });
  });

  it('writes even when the replay leaves the state as it was, to record the members as folded', async () => {
    // a1 had no events of its own: the replay changes nothing but foldedMembers.
    const profile = merged([visit, view], 4);
    const plan = await planFold(
      { id: 'u1', profile },
      [{ event: view, outcome: 'duplicate' }],
      false,
      settings,
    );
    expect(dynamo).toHaveReceivedCommandTimes(QueryCommand, 2);
    expect(plan).toEqual({
      kind: 'write',
      write: {
        id: 'u1',
        members: ['a1', 'u1'],
        foldedMembers: ['a1', 'u1'],
        state: profile.state,
        outbox: { events: [] },
        indexed: [],
        indexChanges: { puts: [], deletes: [] },
        expectedVersion: 4,
      },
    });
  });

  it('replays a profile stored before folded members were recorded, once', async () => {
    const legacy = { ...profileOf([visit, view], 4), foldedMembers: [] };
    const plan = await planFold(
      { id: 'u1', profile: legacy },
      [{ event: view, outcome: 'duplicate' }],
      false,
      settings,
    );
    expect(plan).toMatchObject({ kind: 'write', write: { foldedMembers: ['u1'], state: legacy.state } });
    const folded = profileOf([visit, view], 5);
    const again = await planFold(
      { id: 'u1', profile: folded },
      [{ event: view, outcome: 'duplicate' }],
      false,
      settings,
    );
    expect(again).toEqual({
      kind: 'unchanged',
      id: 'u1',
      version: 5,
      pending: emptyOutbox,
      state: folded.state,
    });
  });

  it('keeps the outbox left over and adds the transitions the merged events cause', async () => {
    const profile = { ...merged([visit], 4), outbox: { events: [] } };
    const anonymousOrder = { ...order, userId: undefined, anonymousId: 'a1' };
    timeline.set('c#a1', [anonymousOrder]);
    const plan = await planFold({ id: 'u1', profile }, [], false, settings);
    const after = foldEvents('u1', [visit, anonymousOrder], settings);
    expect(plan).toMatchObject({
      kind: 'write',
      write: {
        foldedMembers: ['a1', 'u1'],
        state: after,
        outbox: { events: lifecycleTransitions(profile.state, after, settings) },
      },
    });
  });
});
