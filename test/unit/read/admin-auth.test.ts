import { GetCommand } from '@aws-sdk/lib-dynamodb';
import 'aws-sdk-client-mock-vitest/extend';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { requireAdminKey } from '#shared/admin-auth.ts';
import { ForbiddenError, UnauthorizedError } from '#shared/http.ts';
import { hashKey } from '#shared/keys.ts';
import { adminKey, basicAuth, mockAws, receivedAtMillis, revokedKey, writeKey } from '../collect/fixtures.ts';
import { apiEvent, bearer } from '../support/api-event.ts';

let aws: ReturnType<typeof mockAws>;

beforeEach(() => {
  aws = mockAws();
});

afterEach(() => aws.restore());

function withHeaders(headers: Record<string, string>) {
  return apiEvent({ route: '/v1/customers/{id}', pathParameters: { id: 'u1' }, headers });
}

describe('requireAdminKey', () => {
  it('is a 401 that says how to send the key when there is no Authorization header', async () => {
    const attempt = requireAdminKey(withHeaders({}), receivedAtMillis);
    await expect(attempt).rejects.toBeInstanceOf(UnauthorizedError);
    await expect(attempt).rejects.toMatchObject({
      statusCode: 401,
      message: 'an admin key is required: send the header "Authorization: Bearer <admin key>"',
    });
    expect(aws.dynamo).not.toHaveReceivedCommand(GetCommand);
  });

  it('is the same 401 for a header that is not a bearer token', async () => {
    for (const authorization of [basicAuth(adminKey), 'Bearer', 'Bearer ', `Token ${adminKey}`]) {
      await expect(requireAdminKey(withHeaders({ authorization }), receivedAtMillis)).rejects.toMatchObject({
        statusCode: 401,
        message: expect.stringContaining('Authorization: Bearer <admin key>'),
      });
    }
    expect(aws.dynamo).not.toHaveReceivedCommand(GetCommand);
  });

  it('is a 401 for an unknown key and for a revoked one, after looking it up by hash', async () => {
    for (const key of ['ak_nobody', revokedKey]) {
      const attempt = requireAdminKey(withHeaders(bearer(key)), receivedAtMillis);
      await expect(attempt).rejects.toBeInstanceOf(UnauthorizedError);
      await expect(attempt).rejects.toThrow('unknown or revoked admin key');
      expect(aws.dynamo).toHaveReceivedCommandWith(GetCommand, { Key: { pk: 'key', sk: hashKey(key) } });
    }
  });

  it('is a 403 for a valid write key, which can only post events', async () => {
    const attempt = requireAdminKey(withHeaders(bearer(writeKey)), receivedAtMillis);
    await expect(attempt).rejects.toBeInstanceOf(ForbiddenError);
    await expect(attempt).rejects.toMatchObject({
      statusCode: 403,
      message: 'write keys can only post events; reading customer data needs an admin key',
    });
  });

  it('returns the stored admin key, whatever the case of the header and the scheme', async () => {
    await expect(requireAdminKey(withHeaders(bearer(adminKey)), receivedAtMillis)).resolves.toEqual({
      hash: hashKey(adminKey),
      kind: 'admin',
      source: 'backoffice',
      prefix: adminKey.slice(0, 12),
      createdAt: '2024-01-01T00:00:00.000Z',
    });
    const shouted = withHeaders({ Authorization: `BEARER   ${adminKey}  ` });
    await expect(requireAdminKey(shouted, receivedAtMillis)).resolves.toMatchObject({ kind: 'admin' });
  });
});
