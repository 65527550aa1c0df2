import { createHash } from 'node:crypto';

/** A stable shard of 0..shards-1 for an id, the same in every runtime. */
export function shardOf(id: string, shards: number): number {
  return createHash('sha256').update(id).digest().readUInt32BE(0) % shards;
}
