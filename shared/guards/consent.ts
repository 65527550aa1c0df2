import type { JsonValue } from '../engagement/json-value.ts';
import type { EngagementState } from '../engagement/state.ts';

/**
 * Whether the customer may be mailed at all. A suppression (a bounce or a complaint) outranks consent:
 * even a customer who subscribes again is not mailed once the address has bounced or complained.
 */
export type ConsentProblem = 'suppressed' | 'unsubscribed' | 'no-email';

export function consentProblem(state: EngagementState): ConsentProblem | undefined {
  if (state.email.suppressed) return 'suppressed';
  if (!state.email.subscribed) return 'unsubscribed';
  if (emailAddressOf(state.traits) === undefined) return 'no-email';
  return undefined;
}

/** The longest address SMTP carries (RFC 5321: a 254-character path). */
const maxAddressLength = 254;

/**
 * One @, a local part and a dotted domain, with nothing that would break a header (spaces, commas,
 * angle brackets, quotes). Whether the address exists is for SES to find out: a bounce suppresses it.
 */
const plausibleAddress = /^[^\s@<>(),;:"[\]\\]+@[^\s@<>(),;:"[\]\\.]+(\.[^\s@<>(),;:"[\]\\.]+)+$/u;

/** The customer's `email` trait, trimmed, when it is a plausible address to send to. */
export function emailAddressOf(traits: Record<string, JsonValue>): string | undefined {
  const email = traits.email;
  if (typeof email !== 'string') return undefined;
  const address = email.trim();
  return address.length <= maxAddressLength && plausibleAddress.test(address) ? address : undefined;
}
