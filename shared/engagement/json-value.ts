/**
 * Traits are free-form JSON from the client, and engagement state is stored as a DynamoDB map, which
 * takes no undefined, NaN or Infinity. A value is reduced to plain JSON before it is kept.
 */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

const maxDepth = 8;

/** The value as plain JSON, or undefined when nothing of it can be kept. */
export function toJsonValue(value: unknown, depth = 0): JsonValue | undefined {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'object' || depth >= maxDepth) return undefined;
  if (Array.isArray(value)) return value.map((item) => toJsonValue(item, depth + 1) ?? null);
  return toJsonObject(value, depth + 1);
}

/** An object's entries as plain JSON, dropping the ones that cannot be kept. */
export function toJsonObject(value: object, depth = 0): { [key: string]: JsonValue } {
  const entries: [string, JsonValue][] = [];
  for (const [key, item] of Object.entries(value)) {
    const json = toJsonValue(item, depth);
    if (json !== undefined) entries.push([key, json]);
  }
  // fromEntries defines own properties, so a key such as "__proto__" stays data.
  return Object.fromEntries(entries);
}
