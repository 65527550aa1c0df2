import { describe, expect, test } from 'vitest';
import { defaultEngagementSettings, parseEngagementSettings } from '#shared/engagement/settings.ts';

describe('engagement settings', () => {
  test('defaults apply to whatever is left out', () => {
    expect(defaultEngagementSettings).toEqual({
      mainCurrency: 'USD',
      tiers: [
        { name: 'bronze', minRevenue: '0' },
        { name: 'silver', minRevenue: '500' },
        { name: 'gold', minRevenue: '2000' },
      ],
      spendThresholds: ['100', '500', '1000'],
      interestHalfLifeDays: 14,
      lapsedAfterDays: 90,
      newsletterIgnoredStreak: 5,
      sessionTimeoutMinutes: 30,
      interestWeights: { view: 1, add: 3, purchase: 5 },
    });
    const parsed = parseEngagementSettings({ mainCurrency: 'eur', interestWeights: { view: 2 } }, 'test');
    expect(parsed.mainCurrency).toBe('EUR');
    expect(parsed.interestWeights).toEqual({ view: 2, add: 3, purchase: 5 });
    expect(parseEngagementSettings(undefined, 'test')).toEqual(defaultEngagementSettings);
  });

  test.each([
    [
      {
        tiers: [
          { name: 'bronze', minRevenue: '0' },
          { name: 'silver', minRevenue: 500 },
        ],
      },
      'rapport.config.yaml: engagement.tiers[1].minRevenue: expected a decimal string like "500"',
    ],
    [
      {
        tiers: [
          { name: 'silver', minRevenue: '500' },
          { name: 'gold', minRevenue: '200' },
        ],
      },
      'rapport.config.yaml: engagement.tiers[1].minRevenue: expected tier amounts in ascending order, above "500"',
    ],
    [
      { spendThresholds: ['100', '100'] },
      'rapport.config.yaml: engagement.spendThresholds[1]: expected thresholds in ascending order, above "100"',
    ],
    [
      { mainCurrency: 'JPY', spendThresholds: ['100.50'] },
      'rapport.config.yaml: engagement.spendThresholds[0]: expected at most 0 decimal places for JPY',
    ],
    [
      { mainCurrency: 'dollars' },
      'engagement.mainCurrency: expected a three-letter currency code like "USD"',
    ],
    [
      { newsletterIgnoredStreak: 2.5 },
      'engagement.newsletterIgnoredStreak: expected a positive whole number',
    ],
    [{ interestHalfLifeDays: 0 }, 'engagement.interestHalfLifeDays: expected a positive number like 14'],
    [{ interestWeights: { view: -1 } }, 'engagement.interestWeights.view: expected a number of at least 0'],
    [{ lapsedAfterDay: 30 }, 'engagement: unknown key "lapsedAfterDay"'],
    [
      {
        tiers: [
          { name: 'vip', minRevenue: '0' },
          { name: 'vip', minRevenue: '9' },
        ],
      },
      'engagement.tiers[1].name: expected a unique tier name',
    ],
    ['gold', 'engagement: expected engagement settings like'],
  ])('%j is refused, naming the file, the field and what is expected', (input, message) => {
    expect(() => parseEngagementSettings(input, 'rapport.config.yaml')).toThrow(message);
  });
});
