import { createHash } from 'node:crypto';

/**
 * Ingest deduplicates on the messageId. A client that sends none must still get an identical retry
 * recognized, so the id is derived from what the event says: the same content gives the same id, any
 * different content (another time, another product) a different one. Fields that change from one
 * attempt to the next (sentAt is stamped per request) are left out.
 */
const perAttemptFields = new Set(['sentAt', 'receivedAt', 'writeKey']);

export const derivedMessageIdPrefix = 'rapport-';

/** JSON with object keys sorted at every depth, so that key order in the request does not matter. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item ?? null)).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const members = Object.entries(value)
      .filter(([, member]) => member !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, member]) => `${JSON.stringify(key)}:${canonicalJson(member)}`);
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function deriveMessageId(event: Record<string, unknown>): string {
  const content = Object.fromEntries(Object.entries(event).filter(([key]) => !perAttemptFields.has(key)));
  return `${derivedMessageIdPrefix}${createHash('sha256').update(canonicalJson(content)).digest('hex')}`;
}
