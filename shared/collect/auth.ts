import { UnauthorizedError } from '#shared/http.ts';
import { type ApiKey, findKey } from '#shared/keys.ts';

/**
 * Segment clients authenticate with the write key as the HTTP Basic username and an empty password;
 * browsers, which cannot set the header on a beacon, put it in the body as `writeKey`. Both kinds of
 * key may post events: an admin key can do whatever a write key can.
 */
const howToPass =
  'send the write key as the HTTP Basic username with an empty password (Authorization: Basic base64("<writeKey>:")) or as "writeKey" in the JSON body';

/** The key the request presents: the Authorization header's, else the body's. */
export function presentedWriteKey(
  authorization: string | undefined,
  bodyWriteKey: string | undefined,
): string | undefined {
  const fromHeader = authorization === undefined ? undefined : basicUsername(authorization);
  return fromHeader || bodyWriteKey || undefined;
}

function basicUsername(authorization: string): string | undefined {
  const credentials = /^\s*basic\s+([A-Za-z0-9+/_-]+=*)\s*$/i.exec(authorization)?.[1];
  if (credentials === undefined) return undefined;
  const decoded = Buffer.from(credentials, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon === -1 ? decoded : decoded.slice(0, colon);
}

/** The stored key for the presented one; 401 with how to pass it when it is missing, unknown or revoked. */
export async function authenticateWriteKey(
  presented: string | undefined,
  nowMillis: number,
): Promise<ApiKey> {
  if (presented === undefined) throw new UnauthorizedError(`missing write key: ${howToPass}`);
  const key = await findKey(presented, nowMillis);
  if (key === undefined) throw new UnauthorizedError(`unknown or revoked write key: ${howToPass}`);
  return key;
}
