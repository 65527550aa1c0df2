import { createHash } from 'node:crypto';

/**
 * A 32-bit number from the SHA-256 of a text: the same in every process and runtime, and spread
 * evenly, so that it can pick a shard or a share of customers.
 */
export function stableHash32(text: string): number {
  return createHash('sha256').update(text).digest().readUInt32BE(0);
}
