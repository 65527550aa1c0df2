import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resetClients } from '#shared/clients.ts';
import { resetRuntimeConfig } from '#shared/config.ts';

/** Where a running local stack records its environment, so that the CLI can reach it. */
export function runtimeFile(dataDir: string): string {
  return join(dataDir, 'runtime.json');
}

export class NoStackError extends Error {
  override name = 'NoStackError';
}

/**
 * Points this process at a rapport stack: the environment when RAPPORT_TABLE is set (AWS, or any
 * explicit endpoints), else the local stack that `npm start` is running.
 */
export function useStack(env: NodeJS.ProcessEnv = process.env): string {
  if (env.RAPPORT_TABLE) return `table ${env.RAPPORT_TABLE}`;
  const dataDir = env.RAPPORT_DATA_DIR ?? '.rapport';
  const file = runtimeFile(dataDir);
  if (!existsSync(file)) {
    throw new NoStackError(
      `no running rapport stack found (${file} is missing): start one with "npm start", or set RAPPORT_TABLE and AWS credentials to work on a deployed stack`,
    );
  }
  const recorded = JSON.parse(readFileSync(file, 'utf8')) as { env: Record<string, string> };
  Object.assign(env, recorded.env);
  resetRuntimeConfig();
  resetClients();
  return `local stack in ${dataDir}`;
}
