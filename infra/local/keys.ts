import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { describeKey, generateKey, type KeyKind, storeKey } from '#shared/keys.ts';
import { StartupError } from './startup-error.ts';

/**
 * The API keys of the local stack's one source, "local". RAPPORT_WRITE_KEY and RAPPORT_ADMIN_KEY
 * choose them; otherwise they are generated once and kept in `<dataDir>/keys.json` (owner-only), so a
 * restart prints the same keys. Each start stores their hashes when missing, which covers a table that
 * is new (in memory, or a wiped data dir) while the keys file survived.
 */
export const localSource = 'local';

export interface LocalKeys {
  write: string;
  admin: string;
  /** Whether this start generated a key the operator has not seen before. */
  generated: boolean;
}

export interface LocalKeyOptions {
  /** Where keys.json lives; without it, generated keys last only as long as the stack. */
  dataDir?: string;
  env?: NodeJS.ProcessEnv;
  now?: () => Date;
}

type KeyFile = Partial<Record<KeyKind, string>>;

const envNames: Record<KeyKind, string> = { write: 'RAPPORT_WRITE_KEY', admin: 'RAPPORT_ADMIN_KEY' };

export async function ensureLocalKeys(options: LocalKeyOptions = {}): Promise<LocalKeys> {
  const env = options.env ?? process.env;
  const file = options.dataDir ? join(options.dataDir, 'keys.json') : undefined;
  const saved = file ? await readKeyFile(file) : {};
  const chosen: KeyFile = {};
  const toSave: KeyFile = { ...saved };
  let generated = false;
  for (const kind of ['write', 'admin'] as const) {
    const key = env[envNames[kind]] || saved[kind];
    if (key) {
      chosen[kind] = key;
      continue;
    }
    chosen[kind] = generateKey(kind);
    toSave[kind] = chosen[kind];
    generated = true;
  }
  const { write, admin } = chosen;
  if (!write || !admin) throw new Error('a local key is missing');
  if (file && generated) await writeKeyFile(file, toSave);

  const createdAt = (options.now ?? (() => new Date()))().toISOString();
  await storeIfMissing(write, 'write', createdAt);
  await storeIfMissing(admin, 'admin', createdAt);
  return { write, admin, generated };
}

async function storeIfMissing(key: string, kind: KeyKind, createdAt: string): Promise<void> {
  try {
    await storeKey(describeKey(key, kind, localSource, createdAt));
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
}

async function readKeyFile(file: string): Promise<KeyFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null) throw new Error('not an object');
    const keys: KeyFile = {};
    for (const kind of ['write', 'admin'] as const) {
      const value: unknown = (parsed as Record<string, unknown>)[kind];
      if (typeof value === 'string' && value !== '') keys[kind] = value;
    }
    return keys;
  } catch {
    throw new StartupError(`${file} is not valid JSON: fix it, or delete it to generate new local keys`);
  }
}

/** Written to a temporary file and renamed, so a crash never leaves half a keys file. */
async function writeKeyFile(file: string, keys: KeyFile): Promise<void> {
  await mkdir(join(file, '..'), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(keys, null, 2)}\n`, { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, file);
}
