import type { IngestEvent } from '#events/ingest-event.ts';

/** Builders of ingest events for tests: a customer "u1" on shop.example, at times given as ISO strings. */
let counter = 0;

function base(at: string, overrides: Partial<IngestEvent>): IngestEvent {
  counter += 1;
  return {
    messageId: `m-${String(counter).padStart(6, '0')}`,
    type: 'track',
    userId: 'u1',
    timestamp: at,
    receivedAt: at,
    source: 'shop',
    ...overrides,
  };
}

export function track(
  event: string,
  at: string,
  properties: Record<string, unknown> = {},
  overrides: Partial<IngestEvent> = {},
): IngestEvent {
  return base(at, { type: 'track', event, properties, ...overrides });
}

export function page(
  at: string,
  context: Record<string, unknown> = {},
  overrides: Partial<IngestEvent> = {},
): IngestEvent {
  return base(at, { type: 'page', name: 'Home', context, ...overrides });
}

export function identify(
  at: string,
  traits: Record<string, unknown>,
  overrides: Partial<IngestEvent> = {},
): IngestEvent {
  return base(at, { type: 'identify', traits, ...overrides });
}

/** ISO time `minutes` after 2025-03-01T10:00:00Z. */
export function minutesAfterStart(minutes: number): string {
  return new Date(Date.UTC(2025, 2, 1, 10, 0, 0) + minutes * 60_000).toISOString();
}

export function daysAfterStart(days: number): string {
  return minutesAfterStart(days * 24 * 60);
}
