import { z } from 'zod';
import { utm } from './campaign.ts';
import { duration } from './duration.ts';

/**
 * The `sending:` section of rapport.config.yaml: what every campaign shares. Every field has a
 * default but the sender, which must be an address SES has verified.
 */
const timeOfDay = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, { error: 'expected a time of day like "21:00"' });

const timezone = z.string().refine(isTimeZone, { error: 'expected an IANA time zone like "Europe/Berlin"' });

export const sendingSettings = z.strictObject(
  {
    /** "Shop <hello@shop.example>"; campaigns may override it. */
    from: z.string({ error: 'expected a verified sender like "Shop <hello@shop.example>"' }).min(3),
    replyTo: z.string().min(3).optional(),
    /** Where the customer's links point: the rapport API, which serves unsubscribe and link tracking. */
    linkBaseUrl: z.url({
      error: 'expected the https URL of the rapport API, like "https://api.shop.example"',
    }),
    /** The mailbox of the List-Unsubscribe mailto. */
    unsubscribeMailbox: z.email({ error: 'expected an address like "unsubscribe@shop.example"' }),
    frequencyCap: z
      .strictObject({
        max: z.number().int().min(1, { error: 'expected a whole number of at least 1' }).default(3),
        per: duration.default({ text: '7d', millis: 7 * 86_400_000 }),
      })
      .prefault({}),
    quietHours: z
      .strictObject({
        start: timeOfDay.default('21:00'),
        end: timeOfDay.default('08:00'),
        /** For customers whose traits carry no `timezone`. */
        defaultTimezone: timezone.default('UTC'),
      })
      .nullable()
      .prefault({}),
    utm: utm.prefault({ source: 'rapport', medium: 'email' }),
    /** Links in templates may point only here (and the link base URL). */
    linkDomains: z
      .array(z.string().regex(/^[a-z0-9.-]+$/i, { error: 'expected a host name like "shop.example"' }))
      .default([]),
    /** Emails per second across all senders: the account's SES maximum send rate, or less. */
    maxSendRate: z.number().positive({ error: 'expected emails per second, like 14' }).default(14),
    /** Categories to cross-sell with a category: `{ paint: [canvas, brushes] }`. */
    complementaryCategories: z.record(z.string(), z.array(z.string())).default({}),
  },
  { error: 'expected sending settings like { from: "Shop <hello@shop.example>", linkBaseUrl: ... }' },
);

export type SendingSettings = z.output<typeof sendingSettings>;

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}
