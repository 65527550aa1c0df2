import type { IngestEvent } from '#events/ingest-event.ts';
import { type JsonValue, toJsonObject } from './json-value.ts';
import { fieldsOf } from './segment-fields.ts';

/**
 * What the customer told about themselves, merged key by key with the later event winning. Segment
 * clients repeat the user's traits in `context.traits` of every call; an identify call's own traits
 * are newer than those and win over them.
 */
export function foldTraits(traits: Record<string, JsonValue>, event: IngestEvent): Record<string, JsonValue> {
  const context = fieldsOf(fieldsOf(event.context)?.traits);
  const own = event.type === 'identify' ? fieldsOf(event.traits) : undefined;
  if (context === undefined && own === undefined) return traits;
  return Object.fromEntries([
    ...Object.entries(traits),
    ...Object.entries(toJsonObject(context ?? {})),
    ...Object.entries(toJsonObject(own ?? {})),
  ]);
}
