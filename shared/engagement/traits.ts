import type { IngestEvent } from '#events/ingest-event.ts';
import { type JsonValue, toJsonObject } from './json-value.ts';
import { fieldsOf } from './segment-fields.ts';

/**
 * What the customer told about themselves: the latest identify call's traits, key by key. Segment
 * clients repeat cached traits in `context.traits` of every call, and that copy can be stale, so it
 * only fills in keys no identify call has set.
 */
export function foldTraits(traits: Record<string, JsonValue>, event: IngestEvent): Record<string, JsonValue> {
  const context = fieldsOf(fieldsOf(event.context)?.traits);
  const own = event.type === 'identify' ? fieldsOf(event.traits) : undefined;
  if (context === undefined && own === undefined) return traits;
  return Object.fromEntries([
    ...Object.entries(toJsonObject(context ?? {})),
    ...Object.entries(traits),
    ...Object.entries(toJsonObject(own ?? {})),
  ]);
}
