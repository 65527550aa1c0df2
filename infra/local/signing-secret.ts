import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The local stack's secret for signed links and promo codes: RAPPORT_SIGNING_SECRET, else one
 * generated on first start and kept in `<dataDir>/signing-secret` (owner-only), so that links in
 * mail already sent keep working after a restart. Without a data dir it lasts as long as the stack.
 */
export async function ensureSigningSecret(
  dataDir: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<string> {
  if (env.RAPPORT_SIGNING_SECRET) return env.RAPPORT_SIGNING_SECRET;
  const file = dataDir ? join(dataDir, 'signing-secret') : undefined;
  if (file) {
    const saved = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return '';
      throw error;
    });
    if (saved.trim().length >= 32) return saved.trim();
  }
  const secret = randomBytes(48).toString('base64url');
  if (file) {
    await mkdir(join(file, '..'), { recursive: true });
    const temporary = `${file}.${process.pid}.tmp`;
    await writeFile(temporary, `${secret}\n`, { mode: 0o600 });
    await chmod(temporary, 0o600);
    await rename(temporary, file);
  }
  return secret;
}
