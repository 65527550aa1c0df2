import type { IngestEvent } from '#events/ingest-event.ts';
import { compareText } from './collation.ts';
import { type JsonValue, toJsonObject } from './json-value.ts';
import { fieldsOf } from './segment-fields.ts';

type JsonObject = { [key: string]: JsonValue };

/** The most traits kept, so that a client that sends data as trait names cannot outgrow the item. */
export const maxTraits = 200;

/** A longer trait name, at any depth, is data sent as a key, not a trait: it is dropped. */
export const maxTraitKeyLength = 100;

/** Longer text, at any depth, is cut to this many UTF-16 code units, never inside a character. */
export const maxTraitTextLength = 500;

/**
 * What the customer told about themselves: the latest identify call's traits, key by key. Segment
 * clients repeat cached traits in `context.traits` of every call, and that copy can be stale, so it
 * only fills in keys no identify call has set.
 *
 * Beyond `maxTraits` keys, the ones this identify call tells are kept first, then the ones already
 * held, then the ones only a context copy brings; within each, the first in code-unit order. The rule
 * looks at which keys there are and never at the order of the stored map's keys, which DynamoDB does
 * not keep, so a replay keeps the same traits as folding on top of a stored state.
 */
export function foldTraits(traits: Record<string, JsonValue>, event: IngestEvent): Record<string, JsonValue> {
  const context = fieldsOf(fieldsOf(event.context)?.traits);
  const own = event.type === 'identify' ? fieldsOf(event.traits) : undefined;
  if (context === undefined && own === undefined) return traits;
  const told = boundedObject(toJsonObject(own ?? {}));
  const merged = Object.fromEntries([
    ...Object.entries(boundedObject(toJsonObject(context ?? {}))),
    ...Object.entries(traits),
    ...Object.entries(told),
  ]);
  return withMostTraits(merged, told, traits);
}

function withMostTraits(merged: JsonObject, told: JsonObject, held: JsonObject): JsonObject {
  const keys = Object.keys(merged);
  if (keys.length <= maxTraits) return merged;
  const rank = (key: string) => (Object.hasOwn(told, key) ? 0 : Object.hasOwn(held, key) ? 1 : 2);
  const kept = new Set(keys.sort((a, b) => rank(a) - rank(b) || compareText(a, b)).slice(0, maxTraits));
  return Object.fromEntries(Object.entries(merged).filter(([key]) => kept.has(key)));
}

function boundedObject(object: JsonObject): JsonObject {
  return Object.fromEntries(
    Object.entries(object)
      .filter(([key]) => key.length <= maxTraitKeyLength)
      .map(([key, value]) => [key, boundedValue(value)]),
  );
}

function boundedValue(value: JsonValue): JsonValue {
  if (typeof value === 'string') return boundedText(value);
  if (Array.isArray(value)) return value.map(boundedValue);
  if (typeof value === 'object' && value !== null) return boundedObject(value);
  return value;
}

function boundedText(text: string): string {
  if (text.length <= maxTraitTextLength) return text;
  const cut = text.slice(0, maxTraitTextLength);
  // Half a surrogate pair is no character, and no valid UTF-8 for DynamoDB to store.
  return /[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut;
}
