import { z } from 'zod';

/**
 * Durations as marketers write them: a whole number and a unit, "30m", "1h", "7d", "2w". One unit
 * per duration keeps them unambiguous ("1h30m" is "90m").
 */
const unitMillis = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

const durationPattern = /^(\d+)\s*(m|h|d|w)$/;

export const durationHint = 'expected a duration like "1h" (a number, then m, h, d or w)';

/** Milliseconds of a duration like "1h"; undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const match = durationPattern.exec(text.trim());
  if (!match?.[1] || !match[2]) return undefined;
  const value = Number(match[1]);
  return value > 0 ? value * unitMillis[match[2] as keyof typeof unitMillis] : undefined;
}

/** A duration field: written "1h", parsed to { text, millis }. */
export const duration = z.string({ error: durationHint }).transform((text, ctx) => {
  const millis = parseDuration(text);
  if (millis === undefined) {
    ctx.addIssue({ code: 'custom', message: durationHint });
    return z.NEVER;
  }
  return { text: text.trim(), millis };
});

export type Duration = z.output<typeof duration>;

/** A signed offset such as "-3d" or "30d": the time before or after a date. */
export const offset = z.string({ error: 'expected an offset like "30d" or "-3d"' }).transform((text, ctx) => {
  const trimmed = text.trim();
  const negative = trimmed.startsWith('-');
  const millis = parseDuration(negative ? trimmed.slice(1) : trimmed.replace(/^\+/, ''));
  if (trimmed === '0d' || trimmed === '0') return { text: '0d', millis: 0 };
  if (millis === undefined) {
    ctx.addIssue({ code: 'custom', message: 'expected an offset like "30d" or "-3d"' });
    return z.NEVER;
  }
  return { text: trimmed, millis: negative ? -millis : millis };
});
