/**
 * The single-table layout. Every item has a string partition key `pk` and sort key `sk`.
 *
 * | item              | pk              | sk              |
 * |-------------------|-----------------|-----------------|
 * | API key           | `key`           | sha256 of key   |
 * | customer profile  | `c#<id>`        | `state`         |
 * | timeline event    | `c#<profileId>` | `e#<messageId>` |
 *
 * A profile is keyed by a userId or, before sign-up, an anonymousId. When identify or alias links two
 * ids, the merged profile becomes a redirect (`mergedInto`) and its events stay where they are: the
 * surviving profile lists it in `members`, and its timeline is the union of its members' partitions.
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
