import {
  DynamoDBDocumentClient,
  GetCommand,
  type GetCommandInput,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { type ApiKey, clearKeyCache, describeKey, findKey, hashKey, revokeKey } from '#shared/keys.ts';
import { useTestRuntime } from './support/runtime-env.ts';

const dynamo = mockClient(DynamoDBDocumentClient);
useTestRuntime([dynamo]);

const createdAt = '2024-01-01T00:00:00.000Z';
const t0 = Date.UTC(2024, 4, 1, 12, 0, 0);

const shopKey = 'wk_shared000AAAAAAAAAAAAAAAAAAAAAAAA';
const blogKey = 'wk_shared000BBBBBBBBBBBBBBBBBBBBBBBB';
const adminKey = 'ak_adminCCCCCCCCCCCCCCCCCCCCCCCCCCCC';
const oldKey = 'ak_adminDDDDDDDDDDDDDDDDDDDDDDDDDDDD';

const shop = describeKey(shopKey, 'write', 'shop', createdAt);
const blog = describeKey(blogKey, 'write', 'blog', createdAt);
const admin = describeKey(adminKey, 'admin', 'backoffice', createdAt);
const old: ApiKey = {
  ...describeKey(oldKey, 'admin', 'backoffice', createdAt),
  revokedAt: '2024-03-01T00:00:00.000Z',
};

function item(key: ApiKey) {
  return { pk: 'key', sk: key.hash, ...key };
}

beforeEach(() => {
  clearKeyCache();
  const stored = [shop, blog, admin, old];
  dynamo.on(GetCommand).callsFake((input: GetCommandInput) => {
    const key = stored.find((candidate) => candidate.hash === input.Key?.sk);
    return key ? { Item: item(key) } : {};
  });
  // Two pages, so that listing follows LastEvaluatedKey.
  dynamo
    .on(QueryCommand)
    .callsFake((input: QueryCommandInput) =>
      input.ExclusiveStartKey === undefined
        ? { Items: stored.slice(0, 2).map(item), LastEvaluatedKey: { pk: 'key', sk: blog.hash } }
        : { Items: stored.slice(2).map(item) },
    );
  dynamo.on(UpdateCommand).resolves({});
});

describe('findKey', () => {
  it('finds a stored key by the hash of the presented key', async () => {
    await expect(findKey(adminKey, t0)).resolves.toEqual({
      hash: hashKey(adminKey),
      kind: 'admin',
      source: 'backoffice',
      prefix: 'ak_adminCCCC',
      createdAt,
    });
    expect(dynamo).toHaveReceivedCommandExactlyOnceWith(GetCommand, {
      TableName: 'rapport-test',
      Key: { pk: 'key', sk: hashKey(adminKey) },
    });
  });

  it('does not find a revoked key or an unknown one', async () => {
    await expect(findKey(oldKey, t0)).resolves.toBeUndefined();
    await expect(findKey('ak_nobody', t0)).resolves.toBeUndefined();
  });

  it('answers from its cache for 60 s per hash, then asks DynamoDB again', async () => {
    await findKey(shopKey, t0);
    await expect(findKey(shopKey, t0 + 59_999)).resolves.toMatchObject({ source: 'shop' });
    expect(dynamo).toHaveReceivedCommandTimes(GetCommand, 1);

    await findKey(blogKey, t0 + 1);
    expect(dynamo).toHaveReceivedCommandTimes(GetCommand, 2);

    await expect(findKey(shopKey, t0 + 60_000)).resolves.toMatchObject({ source: 'shop' });
    expect(dynamo).toHaveReceivedCommandTimes(GetCommand, 3);
    expect(dynamo).toHaveReceivedNthCommandWith(GetCommand, 3, { Key: { pk: 'key', sk: hashKey(shopKey) } });
  });

  it('remembers an unknown key for the minute too', async () => {
    await findKey('wk_nobody', t0);
    await expect(findKey('wk_nobody', t0 + 30_000)).resolves.toBeUndefined();
    expect(dynamo).toHaveReceivedCommandTimes(GetCommand, 1);
  });

  it('keeps at most a thousand keys, so made-up keys cannot grow it: the oldest is looked up again', async () => {
    for (let index = 0; index <= 1_000; index++) await findKey(`wk_made-up-${index}`, t0);
    expect(dynamo).toHaveReceivedCommandTimes(GetCommand, 1_001);
    await findKey('wk_made-up-1000', t0);
    expect(dynamo).toHaveReceivedCommandTimes(GetCommand, 1_001);
    await findKey('wk_made-up-0', t0);
    expect(dynamo).toHaveReceivedCommandTimes(GetCommand, 1_002);
  });

  it('asks DynamoDB again after clearKeyCache, and then sees a revocation', async () => {
    await expect(findKey(shopKey, t0)).resolves.toBeDefined();
    dynamo.on(GetCommand).resolves({ Item: item({ ...shop, revokedAt: '2024-05-01T12:00:01.000Z' }) });
    await expect(findKey(shopKey, t0 + 1000)).resolves.toBeDefined();
    clearKeyCache();
    await expect(findKey(shopKey, t0 + 2000)).resolves.toBeUndefined();
    expect(dynamo).toHaveReceivedCommandTimes(GetCommand, 2);
  });
});

describe('revokeKey', () => {
  const at = '2024-05-02T09:00:00.000Z';

  it('revokes the one live key with the listed prefix', async () => {
    const result = await revokeKey('ak_adminCCCC', at);
    expect(result).toEqual({ revoked: { ...admin, revokedAt: at }, candidates: [admin] });
    expect(dynamo).toHaveReceivedCommandExactlyOnceWith(UpdateCommand, {
      TableName: 'rapport-test',
      Key: { pk: 'key', sk: admin.hash },
      UpdateExpression: 'SET revokedAt = :at',
      ExpressionAttributeValues: { ':at': at },
    });
    expect(dynamo).toHaveReceivedCommandTimes(QueryCommand, 2);
  });

  it('revokes by the full key and by its hash', async () => {
    await expect(revokeKey(blogKey, at)).resolves.toMatchObject({ revoked: { source: 'blog' } });
    await expect(revokeKey(shop.hash, at)).resolves.toMatchObject({ revoked: { source: 'shop' } });
    expect(dynamo).toHaveReceivedNthCommandWith(UpdateCommand, 1, { Key: { pk: 'key', sk: blog.hash } });
    expect(dynamo).toHaveReceivedNthCommandWith(UpdateCommand, 2, { Key: { pk: 'key', sk: shop.hash } });
  });

  it('revokes nothing for a prefix that two live keys share, and lists them', async () => {
    expect(shop.prefix).toBe(blog.prefix);
    const result = await revokeKey(shop.prefix, at);
    expect(result.revoked).toBeUndefined();
    expect(result.candidates.map((key) => key.source).sort()).toEqual(['blog', 'shop']);
    expect(dynamo).not.toHaveReceivedCommand(UpdateCommand);
  });

  it('revokes nothing for an unknown prefix, a shorter prefix or an already revoked key', async () => {
    for (const match of ['wk_nothing', 'ak_admin', oldKey, old.prefix.replace('DDDD', 'EEEE')]) {
      await expect(revokeKey(match, at)).resolves.toEqual({ candidates: [] });
    }
    expect(dynamo).not.toHaveReceivedCommand(UpdateCommand);
  });

  it('picks the live key when a revoked key shares its prefix', async () => {
    const reissued = describeKey(`${oldKey.slice(0, 12)}ZZZZ`, 'admin', 'backoffice', at);
    dynamo.on(QueryCommand).resolves({ Items: [item(old), item(reissued)] });
    await expect(revokeKey(old.prefix, at)).resolves.toEqual({
      revoked: { ...reissued, revokedAt: at },
      candidates: [reissued],
    });
  });
});
