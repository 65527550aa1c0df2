import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureLocalKeys } from '#infra/local/keys.ts';
import { findKey, hashKey } from '#shared/keys.ts';
import { keyPartition } from '#shared/store/table.ts';
import { useEmulators } from './support.ts';

/** The local stack's keys: generated once, kept owner-only in the data dir, stored hashed. */
const emulators = useEmulators();
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'rapport-keys-'));
});

afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe('local keys', () => {
  it('are generated on first start, kept in keys.json (0600) and reused on the next start', async () => {
    const first = await ensureLocalKeys({ dataDir, env: {} });
    expect(first.generated).toBe(true);
    expect(first.write).toMatch(/^wk_/);
    expect(first.admin).toMatch(/^ak_/);
    const file = join(dataDir, 'keys.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ write: first.write, admin: first.admin });

    const second = await ensureLocalKeys({ dataDir, env: {} });
    expect(second).toEqual({ write: first.write, admin: first.admin, generated: false });
  });

  it('are stored hashed for the source "local", and stored again when the table lost them', async () => {
    const keys = await ensureLocalKeys({ dataDir, env: {} });
    expect(await findKey(keys.write, 0)).toMatchObject({
      kind: 'write',
      source: 'local',
      hash: hashKey(keys.write),
    });
    expect(await findKey(keys.admin, 0)).toMatchObject({ kind: 'admin', source: 'local' });

    await emulators.dynamodb.send(
      new DeleteItemCommand({
        TableName: emulators.table,
        Key: { pk: { S: keyPartition }, sk: { S: hashKey(keys.admin) } },
      }),
    );
    await ensureLocalKeys({ dataDir, env: {} });
    // A later "now" steps past the lookup cache of the first findKey.
    expect(await findKey(keys.admin, 10 * 60_000)).toMatchObject({ kind: 'admin', source: 'local' });
  });

  it('come from RAPPORT_WRITE_KEY and RAPPORT_ADMIN_KEY when set, without touching keys.json', async () => {
    const other = await mkdtemp(join(tmpdir(), 'rapport-keys-env-'));
    try {
      const keys = await ensureLocalKeys({
        dataDir: other,
        env: { RAPPORT_WRITE_KEY: 'wk_chosen_by_env', RAPPORT_ADMIN_KEY: 'ak_chosen_by_env' },
      });
      expect(keys).toEqual({ write: 'wk_chosen_by_env', admin: 'ak_chosen_by_env', generated: false });
      await expect(stat(join(other, 'keys.json'))).rejects.toMatchObject({ code: 'ENOENT' });
      expect(await findKey('wk_chosen_by_env', 0)).toMatchObject({ kind: 'write', source: 'local' });
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it('refuse a keys.json that is not JSON, naming the file', async () => {
    const broken = await mkdtemp(join(tmpdir(), 'rapport-keys-broken-'));
    try {
      await writeFile(join(broken, 'keys.json'), '{not json');
      await expect(ensureLocalKeys({ dataDir: broken, env: {} })).rejects.toThrow(
        /keys\.json is not valid JSON/,
      );
    } finally {
      await rm(broken, { recursive: true, force: true });
    }
  });
});
