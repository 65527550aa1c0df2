import type { Campaign } from '../campaigns/campaign.ts';

/**
 * A customer's send ledger: the mail sent to them lately, by campaign and time (ISO), for the
 * frequency cap; and, for re-entry, when each campaign last took them in. Entries whose time does not
 * parse count toward no cap.
 */
export interface LedgerEntry {
  campaignId: string;
  at: string;
}

/** Whether `cap.max` sends already went out in the `cap.per` before `at`: the window (at - per, at]. */
export function frequencyCapped(
  recent: readonly LedgerEntry[],
  at: Date,
  cap: { max: number; per: { millis: number } },
): boolean {
  const now = at.getTime();
  const sent = recent.filter((entry) => {
    const time = Date.parse(entry.at);
    return time > now - cap.per.millis && time <= now;
  });
  return sent.length >= cap.max;
}

/**
 * When the customer last entered the campaign: mailed by it or held out of it. `entered` is the
 * durable record of that per campaign (the ledger's `recent` forgets old sends); the campaign's sends
 * in `recent` count too, so that either record alone is enough.
 */
export function lastEnteredAt(
  campaignId: string,
  recent: readonly LedgerEntry[],
  entered: Readonly<Record<string, string>> = {},
): string | undefined {
  // Own keys only: a campaign may be called "constructor".
  const times = [
    ...(Object.hasOwn(entered, campaignId) ? [entered[campaignId]] : []),
    ...recent.filter((entry) => entry.campaignId === campaignId).map((entry) => entry.at),
  ];
  let latest: string | undefined;
  for (const at of times) {
    if (typeof at !== 'string') continue;
    const later =
      latest === undefined || Number.isNaN(Date.parse(latest)) || Date.parse(at) > Date.parse(latest);
    if (later) latest = at;
  }
  return latest;
}

/**
 * Whether the campaign may not take the customer in again yet, given when it last did. `once`: it
 * did, ever (even at a time that does not parse). `every D`: less than D before `at`, or after `at`
 * (an earlier fire time evaluated late), so that two entries are always at least D apart.
 */
export function reentryBlocked(
  lastEntered: string | undefined,
  reentry: Campaign['reentry'],
  at: Date,
): boolean {
  if (lastEntered === undefined) return false;
  if (reentry === 'once') return true;
  return Date.parse(lastEntered) > at.getTime() - reentry.every.millis;
}

/**
 * The sends the frequency cap may still count: those after `keepMillis` before `at` (the cap's
 * window; later ones too, for a fire time evaluated late). Times that do not parse are dropped.
 */
export function pruneLedger(recent: readonly LedgerEntry[], at: Date, keepMillis: number): LedgerEntry[] {
  const oldest = at.getTime() - keepMillis;
  return recent.filter((entry) => Date.parse(entry.at) > oldest);
}
