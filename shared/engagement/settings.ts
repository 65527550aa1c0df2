import { z } from 'zod';
import { ConfigError } from '../config.ts';
import { currencyExponent, normalizeCurrency, toMinor } from '../money.ts';

/**
 * How engagement state is scored and classified. Amounts are decimal strings of the main currency, so
 * that a marketer writes "500" in config and no float ever stands for money.
 */
const decimalString = (example: string) =>
  z.string({ error: `expected a decimal string like "${example}"` }).regex(/^\d+(\.\d+)?$/, {
    error: `expected a decimal string like "${example}"`,
  });

const positiveNumber = (example: number) =>
  z.number({ error: `expected a positive number like ${example}` }).positive({
    error: `expected a positive number like ${example}`,
  });

const positiveInteger = (example: number) =>
  z
    .number({ error: `expected a positive whole number like ${example}` })
    .int({
      error: `expected a positive whole number like ${example}`,
    })
    .positive({ error: `expected a positive whole number like ${example}` });

const weight = (example: number) =>
  z.number({ error: `expected a number of at least 0 like ${example}` }).min(0, {
    error: `expected a number of at least 0 like ${example}`,
  });

const tier = z.strictObject({
  name: z
    .string({ error: 'expected a tier name like "gold"' })
    .min(1, { error: 'expected a tier name like "gold"' }),
  minRevenue: decimalString('500'),
});

export const engagementSettings = z
  .strictObject(
    {
      mainCurrency: z
        .string({ error: 'expected a three-letter currency code like "USD"' })
        .transform((code, ctx) => {
          const normalized = normalizeCurrency(code);
          if (normalized === undefined) {
            ctx.addIssue({ code: 'custom', message: 'expected a three-letter currency code like "USD"' });
            return z.NEVER;
          }
          return normalized;
        })
        .default('USD'),
      tiers: z
        .array(tier, { error: 'expected a list of tiers like [{ name: "gold", minRevenue: "2000" }]' })
        .default([
          { name: 'bronze', minRevenue: '0' },
          { name: 'silver', minRevenue: '500' },
          { name: 'gold', minRevenue: '2000' },
        ]),
      spendThresholds: z
        .array(decimalString('500'), { error: 'expected a list of decimal strings like ["100", "500"]' })
        .default(['100', '500', '1000']),
      interestHalfLifeDays: positiveNumber(14).default(14),
      lapsedAfterDays: positiveNumber(90).default(90),
      newsletterIgnoredStreak: positiveInteger(5).default(5),
      sessionTimeoutMinutes: positiveNumber(30).default(30),
      interestWeights: z
        .strictObject(
          { view: weight(1).default(1), add: weight(3).default(3), purchase: weight(5).default(5) },
          { error: 'expected weights like { view: 1, add: 3, purchase: 5 }' },
        )
        .prefault({}),
    },
    { error: 'expected engagement settings like { mainCurrency: "USD", lapsedAfterDays: 90 }' },
  )
  .superRefine((settings, ctx) => {
    const currency = settings.mainCurrency;
    const tierAmounts = settings.tiers.map((tier) => tier.minRevenue);
    const issues = [
      ...amountIssues(tierAmounts, currency, 'tier amounts', (index) => ['tiers', index, 'minRevenue']),
      ...amountIssues(settings.spendThresholds, currency, 'thresholds', (index) => [
        'spendThresholds',
        index,
      ]),
      ...duplicateTierNames(settings.tiers.map((tier) => tier.name)),
    ];
    for (const issue of issues) ctx.addIssue({ code: 'custom', ...issue });
  });

interface SettingsIssue {
  path: (string | number)[];
  message: string;
}

/** Amounts must fit the main currency's minor unit and rise strictly, or tiers and thresholds overlap. */
function amountIssues(
  amounts: readonly string[],
  currency: string,
  what: string,
  pathOf: (index: number) => (string | number)[],
): SettingsIssue[] {
  const exponent = currencyExponent(currency) ?? 0;
  return amounts.flatMap((amount, index): SettingsIssue[] => {
    const minor = toMinor(amount, currency);
    if (minor === undefined || (amount.split('.')[1] ?? '').length > exponent) {
      return [
        { path: pathOf(index), message: `expected at most ${exponent} decimal places for ${currency}` },
      ];
    }
    const previous = amounts[index - 1];
    const previousMinor = previous === undefined ? undefined : toMinor(previous, currency);
    if (previousMinor !== undefined && minor <= previousMinor) {
      return [{ path: pathOf(index), message: `expected ${what} in ascending order, above "${previous}"` }];
    }
    return [];
  });
}

function duplicateTierNames(names: readonly string[]): SettingsIssue[] {
  return names.flatMap((name, index) =>
    names.indexOf(name) === index
      ? []
      : [{ path: ['tiers', index, 'name'], message: 'expected a unique tier name' }],
  );
}

export type EngagementSettings = z.output<typeof engagementSettings>;

/**
 * Parses settings given as plain data (a config file's `engagement` section, or JSON from the
 * environment). Each problem is reported with the origin, the field and what would be accepted.
 */
export function parseEngagementSettings(input: unknown, origin: string): EngagementSettings {
  const parsed = engagementSettings.safeParse(input ?? {});
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map(
    (issue) => `${origin}: ${settingsPath(issue.path)}: ${problemOf(issue)}`,
  );
  throw new ConfigError(problems.join('\n'));
}

function problemOf(issue: z.core.$ZodIssue): string {
  if (issue.code !== 'unrecognized_keys') return issue.message;
  return `unknown ${issue.keys.length === 1 ? 'key' : 'keys'} ${issue.keys.map((key) => `"${key}"`).join(', ')}`;
}

function settingsPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (text, key) => (typeof key === 'number' ? `${text}[${key}]` : `${text}.${String(key)}`),
    'engagement',
  );
}

export const defaultEngagementSettings: EngagementSettings = engagementSettings.parse({});
