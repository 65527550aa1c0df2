import { GetCommand } from '@aws-sdk/lib-dynamodb';
import 'aws-sdk-client-mock-vitest/extend';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { authenticateWriteKey, presentedWriteKey } from '#shared/collect/auth.ts';
import { UnauthorizedError } from '#shared/http.ts';
import { hashKey } from '#shared/keys.ts';
import { adminKey, basicAuth, mockAws, receivedAtMillis, revokedKey, writeKey } from './fixtures.ts';

describe('presentedWriteKey', () => {
  it('reads the Basic username, with or without the empty password', () => {
    expect(presentedWriteKey(basicAuth('wk_1'), undefined)).toBe('wk_1');
    expect(presentedWriteKey(`basic ${Buffer.from('wk_2').toString('base64')}`, undefined)).toBe('wk_2');
    expect(presentedWriteKey(basicAuth('wk_3', 'ignored'), undefined)).toBe('wk_3');
  });

  it('falls back to the body writeKey, and prefers the header', () => {
    expect(presentedWriteKey(undefined, 'wk_body')).toBe('wk_body');
    expect(presentedWriteKey('Bearer token', 'wk_body')).toBe('wk_body');
    expect(presentedWriteKey(basicAuth(''), 'wk_body')).toBe('wk_body');
    expect(presentedWriteKey(basicAuth('wk_header'), 'wk_body')).toBe('wk_header');
  });

  it('finds nothing when neither carries a key', () => {
    expect(presentedWriteKey(undefined, undefined)).toBeUndefined();
    expect(presentedWriteKey('Basic', '')).toBeUndefined();
  });
});

describe('authenticateWriteKey', () => {
  let aws: ReturnType<typeof mockAws>;
  beforeEach(() => {
    aws = mockAws();
  });
  afterEach(() => aws.restore());

  it('returns the stored key of a write or an admin key, looked up by hash', async () => {
    await expect(authenticateWriteKey(writeKey, receivedAtMillis)).resolves.toMatchObject({
      kind: 'write',
      source: 'shop',
    });
    await expect(authenticateWriteKey(adminKey, receivedAtMillis)).resolves.toMatchObject({ kind: 'admin' });
    expect(aws.dynamo).toHaveReceivedCommandWith(GetCommand, {
      TableName: 'rapport-test',
      Key: { pk: 'key', sk: hashKey(writeKey) },
    });
  });

  it('is a 401 saying how to pass the key when it is missing', async () => {
    const error = authenticateWriteKey(undefined, receivedAtMillis);
    await expect(error).rejects.toBeInstanceOf(UnauthorizedError);
    await expect(error).rejects.toThrow(
      'missing write key: send the write key as the HTTP Basic username with an empty password (Authorization: Basic base64("<writeKey>:")) or as "writeKey" in the JSON body',
    );
    expect(aws.dynamo).not.toHaveReceivedCommand(GetCommand);
  });

  it('is a 401 for an unknown or a revoked key', async () => {
    await expect(authenticateWriteKey('wk_nobody', receivedAtMillis)).rejects.toThrow(
      /^unknown or revoked write key: send/,
    );
    await expect(authenticateWriteKey(revokedKey, receivedAtMillis)).rejects.toBeInstanceOf(
      UnauthorizedError,
    );
  });
});
