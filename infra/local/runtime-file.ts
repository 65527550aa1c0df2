import { existsSync, readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * While `npm start` runs, it records the environment its handlers use in the data dir, so that the
 * CLI (`npm run rapport -- keys ...`) reaches the same emulators. It is removed on a clean stop.
 */
export function runtimeFile(dataDir: string): string {
  return join(dataDir, 'runtime.json');
}

export async function recordRuntime(
  dataDir: string,
  env: Record<string, string>,
  pid: number,
): Promise<void> {
  await writeFile(runtimeFile(dataDir), `${JSON.stringify({ pid, env }, null, 2)}\n`, { mode: 0o600 });
}

export async function forgetRuntime(dataDir: string): Promise<void> {
  await rm(runtimeFile(dataDir), { force: true });
}

/** The recorded environment of a local stack that is still running, if there is one. */
export function runningStackEnv(dataDir: string): Record<string, string> | undefined {
  const file = runtimeFile(dataDir);
  if (!existsSync(file)) return undefined;
  const recorded = JSON.parse(readFileSync(file, 'utf8')) as { pid: number; env: Record<string, string> };
  try {
    process.kill(recorded.pid, 0);
  } catch {
    return undefined;
  }
  return recorded.env;
}
