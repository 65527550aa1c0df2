import type { z } from 'zod';
import { isSegmentType, type SegmentEvent, segmentEventSchemas, segmentTypes } from '#events/segment.ts';
import { storableProblems } from './storable.ts';

export type Validation = { valid: true; event: SegmentEvent } | { valid: false; errors: string[] };

/** `properties.products[0].price`: the way a client developer would write the path in code. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const key of path) {
    if (typeof key === 'number') text += `[${key}]`;
    else text += text === '' ? String(key) : `.${String(key)}`;
  }
  return text;
}

/** One line per problem. A rule over several fields names them in its own message and has no path. */
export function describeIssue(issue: z.core.$ZodIssue): string {
  const path = fieldPath(issue.path);
  return path === '' ? issue.message : `${path}: ${issue.message}`;
}

/** Check one event against the schema of its type; the type itself is checked first, as it picks the schema. */
export function validateEvent(event: Record<string, unknown>): Validation {
  const type = event.type;
  if (!isSegmentType(type)) {
    const expected = `expected one of ${segmentTypes.join(', ')}`;
    return { valid: false, errors: [`type: ${type === undefined ? `required, ${expected}` : expected}`] };
  }
  const parsed = segmentEventSchemas[type].safeParse(event);
  if (!parsed.success) return { valid: false, errors: capped(parsed.error.issues.map(describeIssue)) };
  // Checked on what was parsed: numeric strings have become numbers by now.
  const unstorable = storableProblems(parsed.data);
  if (unstorable.length > 0) return { valid: false, errors: capped(unstorable) };
  return { valid: true, event: parsed.data };
}

const maxErrorsPerEvent = 10;

/** A few problems are enough to fix an event; thousands would only bloat the response. */
function capped(errors: string[]): string[] {
  if (errors.length <= maxErrorsPerEvent) return errors;
  return [...errors.slice(0, maxErrorsPerEvent), `and ${errors.length - maxErrorsPerEvent} more problems`];
}
