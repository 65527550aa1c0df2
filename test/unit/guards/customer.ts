import type { JsonValue } from '#shared/engagement/json-value.ts';
import { type EngagementState, emptyState } from '#shared/engagement/state.ts';

/** A customer who may be mailed, unless the options say otherwise. */
export function customer(
  options: { subscribed?: boolean; suppressed?: boolean; traits?: Record<string, JsonValue> } = {},
): EngagementState {
  const state = emptyState('u1');
  return {
    ...state,
    traits: options.traits ?? { email: 'ada@example.com' },
    email: {
      ...state.email,
      subscribed: options.subscribed ?? true,
      suppressed: options.suppressed ?? false,
    },
  };
}
