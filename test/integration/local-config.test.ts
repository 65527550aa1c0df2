import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startLocalStack } from '#infra/local/stack.ts';
import { StartupError } from '#infra/local/startup-error.ts';

describe('npm start with a wrong rapport.config.yaml', () => {
  it('stops before starting anything, naming the file, the field and what was expected', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rapport-config-'));
    const configFile = join(dir, 'rapport.config.yaml');
    await writeFile(configFile, 'engagement:\n  lapsedAfterDays: soon\n');
    const start = startLocalStack({ configFile, inMemory: true, port: 0, quiet: true, env: {} });
    await expect(start).rejects.toBeInstanceOf(StartupError);
    await expect(start).rejects.toThrow(new RegExp(`${configFile}.*engagement\\.lapsedAfterDays`, 's'));
  });
});
