/**
 * The single-table layout. Every item has a string partition key `pk` and sort key `sk`.
 *
 * | item              | pk              | sk              |
 * |-------------------|-----------------|-----------------|
 * | API key           | `key`           | sha256 of key   |
 * | customer profile  | `c#<id>`        | `state`         |
 * | timeline event    | `c#<profileId>` | `e#<messageId>` |
 * | audience member   | `aud#<campaignId>#<shard>` | `<customerId>`, or `<web.lastSeenAt>#<customerId>` |
 * | date index entry  | `date#<field>#<MM-DD>` | `<YYYY-MM-DD>#<customerId>` |
 * | campaign timer    | `c#<profileId>` | `timer#<campaignId>#<key>` |
 * | due-timer pointer | `due#<shard>` | `<dueAt>#<profileId>#<timer sk>` |
 * | deferred send     | `c#<profileId>` | `defer#<campaignId>#<occurrence>` |
 * | send claim        | `c#<profileId>` | `send#<campaignId>#<occurrence>` |
 * | send ledger       | `c#<profileId>` | `sends` |
 * | campaign counters | `stats#<campaignId>` | `<shard>` |
 * | schedule cursor   | `schedule#<campaignId>` | `cursor` |
 * | pacing slot       | `pace` | `<epoch second>` |
 * | indexed catalog   | `catalog` | `indexed` |
 *
 * A profile is keyed by a userId or, before sign-up, an anonymousId. Its engagement state is kept as
 * JSON text in `state`: it is only ever read and written whole, and as text it costs DynamoDB (and
 * the SDK's marshalling) a fraction of the work of a map of a hundred nested attributes. When identify or alias links two
 * ids, the merged profile becomes a redirect (`mergedInto`) and its events stay where they are: the
 * surviving profile lists it in `members`, and its timeline is the union of its members' partitions.
 *
 * Campaigns keep their indexes on write, so that choosing an audience reads only its members:
 * membership items per schedule campaign and date index entries per date field are written in the
 * same transaction as the state that puts them there (see shared/audience/indexes.ts). Sharded
 * partitions spread what would otherwise be one hot key.
 */
export const keyPartition = 'key';
export const stateSortKey = 'state';
export const eventSortPrefix = 'e#';

export function customerPartition(id: string): string {
  return `c#${id}`;
}

export function eventSortKey(messageId: string): string {
  return `${eventSortPrefix}${messageId}`;
}

/** Shards of the audience and due-timer partitions: one partition takes at most 1,000 writes/s. */
export const indexShards = 8;

export function membershipPartition(campaignId: string, shard: number): string {
  return `aud#${campaignId}#${shard}`;
}

export function dateIndexPartition(field: string, monthDay: string): string {
  return `date#${field}#${monthDay}`;
}

export function timerSortKey(campaignId: string, key: string): string {
  return `timer#${campaignId}#${key}`;
}

export function duePartition(shard: number): string {
  return `due#${shard}`;
}

export function deferralSortKey(campaignId: string, occurrence: string): string {
  return `defer#${campaignId}#${occurrence}`;
}

export function sendClaimSortKey(campaignId: string, occurrence: string): string {
  return `send#${campaignId}#${occurrence}`;
}

export const sendLedgerSortKey = 'sends';

export function statsPartition(campaignId: string): string {
  return `stats#${campaignId}`;
}

export function scheduleCursorPartition(campaignId: string): string {
  return `schedule#${campaignId}`;
}

export const pacePartition = 'pace';
