import { stableHash32 } from '../stable-hash.ts';

/** A stable shard of 0..shards-1 for an id, the same in every runtime. */
export function shardOf(id: string, shards: number): number {
  return stableHash32(id) % shards;
}
