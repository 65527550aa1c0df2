import { createHash, randomBytes } from 'node:crypto';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { dynamoClient } from './clients/dynamodb.ts';
import { runtimeConfig } from './config.ts';
import { keyPartition } from './store/table.ts';

/**
 * API keys. A write key is public (it sits in browser JavaScript) and can only post events; an admin
 * key reads customer data. Only the SHA-256 of a key is stored.
 */
export type KeyKind = 'write' | 'admin';

export interface ApiKey {
  hash: string;
  kind: KeyKind;
  source: string;
  /** The first characters of the key, so that an operator can tell keys apart in `keys list`. */
  prefix: string;
  createdAt: string;
  revokedAt?: string;
}

const kindPrefix: Record<KeyKind, string> = { write: 'wk_', admin: 'ak_' };

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function generateKey(kind: KeyKind): string {
  return `${kindPrefix[kind]}${randomBytes(24).toString('base64url')}`;
}

export function describeKey(key: string, kind: KeyKind, source: string, createdAt: string): ApiKey {
  return { hash: hashKey(key), kind, source, prefix: key.slice(0, 12), createdAt };
}

export async function storeKey(apiKey: ApiKey): Promise<void> {
  await dynamoClient().send(
    new PutCommand({
      TableName: runtimeConfig().RAPPORT_TABLE,
      Item: { pk: keyPartition, sk: apiKey.hash, ...apiKey },
      ConditionExpression: 'attribute_not_exists(pk)',
    }),
  );
}

export async function listKeys(): Promise<ApiKey[]> {
  const keys: ApiKey[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await dynamoClient().send(
      new QueryCommand({
        TableName: runtimeConfig().RAPPORT_TABLE,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': keyPartition },
        ExclusiveStartKey: start,
      }),
    );
    for (const item of page.Items ?? []) keys.push(toApiKey(item));
    start = page.LastEvaluatedKey;
  } while (start);
  return keys;
}

/**
 * Revoke the key named by its listed prefix, its hash, or the full key itself. A prefix that matches
 * more than one live key revokes nothing and returns the candidates, so that the caller can be precise.
 */
export async function revokeKey(
  match: string,
  at: string,
): Promise<{ revoked?: ApiKey; candidates: ApiKey[] }> {
  const live = (await listKeys()).filter((key) => !key.revokedAt);
  const candidates = live.filter(
    (key) => key.prefix === match || key.hash === match || key.hash === hashKey(match),
  );
  const [only] = candidates;
  if (candidates.length !== 1 || !only) return { candidates };
  await dynamoClient().send(
    new UpdateCommand({
      TableName: runtimeConfig().RAPPORT_TABLE,
      Key: { pk: keyPartition, sk: only.hash },
      UpdateExpression: 'SET revokedAt = :at',
      ExpressionAttributeValues: { ':at': at },
    }),
  );
  return { revoked: { ...only, revokedAt: at }, candidates };
}

const cacheMillis = 60_000;
const maxCachedKeys = 1_000;
const cache = new Map<string, { key: ApiKey | undefined; until: number }>();

/**
 * The stored key for a presented key, or undefined when it is unknown or revoked. Lookups are cached
 * for a minute per process, so a revocation takes at most that long to reach every function.
 */
export async function findKey(presented: string, nowMillis: number): Promise<ApiKey | undefined> {
  const hash = hashKey(presented);
  const hit = cache.get(hash);
  if (hit && hit.until > nowMillis) return hit.key;
  const result = await dynamoClient().send(
    new GetCommand({ TableName: runtimeConfig().RAPPORT_TABLE, Key: { pk: keyPartition, sk: hash } }),
  );
  const key = result.Item && !result.Item.revokedAt ? toApiKey(result.Item) : undefined;
  // Bounded, so that requests with made-up keys cannot grow it: the oldest entry goes first.
  if (cache.size >= maxCachedKeys) cache.delete(cache.keys().next().value ?? hash);
  cache.set(hash, { key, until: nowMillis + cacheMillis });
  return key;
}

export function clearKeyCache(): void {
  cache.clear();
}

function toApiKey(item: Record<string, unknown>): ApiKey {
  return {
    hash: String(item.hash),
    kind: item.kind === 'admin' ? 'admin' : 'write',
    source: String(item.source),
    prefix: String(item.prefix),
    createdAt: String(item.createdAt),
    ...(typeof item.revokedAt === 'string' ? { revokedAt: item.revokedAt } : {}),
  };
}
