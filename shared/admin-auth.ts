import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { ForbiddenError, header, UnauthorizedError } from './http.ts';
import { type ApiKey, findKey } from './keys.ts';

/**
 * Reads of customer data need an admin key as a bearer token. Write keys are public (they sit in
 * browser JavaScript), so one presented here is refused even though it is valid.
 */
export async function requireAdminKey(event: APIGatewayProxyEventV2, nowMillis: number): Promise<ApiKey> {
  const authorization = header(event, 'authorization') ?? '';
  const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
  const presented = match?.[1];
  if (!presented) {
    throw new UnauthorizedError(
      'an admin key is required: send the header "Authorization: Bearer <admin key>"',
    );
  }
  const key = await findKey(presented, nowMillis);
  if (!key) throw new UnauthorizedError('unknown or revoked admin key');
  if (key.kind !== 'admin') {
    throw new ForbiddenError('write keys can only post events; reading customer data needs an admin key');
  }
  return key;
}
