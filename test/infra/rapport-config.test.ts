import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RapportConfigError, readEngagementSettings } from '#infra/rapport-config.ts';

const directory = mkdtempSync(join(tmpdir(), 'rapport-config-'));

afterAll(() => rmSync(directory, { recursive: true, force: true }));

function configFile(name: string, content: string): string {
  const path = join(directory, name);
  writeFileSync(path, content);
  return path;
}

describe('readEngagementSettings', () => {
  it('returns nothing when the file does not exist', () => {
    expect(readEngagementSettings(join(directory, 'missing.yaml'))).toBeUndefined();
  });

  it('returns nothing when the file has no engagement section', () => {
    expect(readEngagementSettings(configFile('other.yaml', 'campaigns: []\n'))).toBeUndefined();
    expect(readEngagementSettings(configFile('empty.yaml', ''))).toBeUndefined();
  });

  it('returns the engagement section as written', () => {
    const path = configFile(
      'engagement.yaml',
      'engagement:\n  mainCurrency: EUR\n  tiers:\n    - { name: gold, minRevenue: "1000" }\n',
    );
    expect(readEngagementSettings(path)).toEqual({
      mainCurrency: 'EUR',
      tiers: [{ name: 'gold', minRevenue: '1000' }],
    });
  });

  it('fails the synth on a bad setting, naming the file and the field', () => {
    const path = configFile('bad-setting.yaml', 'engagement:\n  lapsedAfterDays: soon\n');
    expect(() => readEngagementSettings(path)).toThrow(`${path}: engagement`);
    expect(() => readEngagementSettings(path)).toThrow('lapsedAfterDays');
  });

  it('fails when engagement is not a mapping', () => {
    const path = configFile('scalar.yaml', 'engagement: fast\n');
    expect(() => readEngagementSettings(path)).toThrow(RapportConfigError);
  });

  it('fails on YAML it cannot parse, naming the file', () => {
    const path = configFile('broken.yaml', 'engagement: [unclosed\n');
    expect(() => readEngagementSettings(path)).toThrow(`${path}: not valid YAML`);
  });
});
