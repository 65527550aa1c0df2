import { runningStackEnv, runtimeFile } from '#infra/local/runtime-file.ts';
import { resetClients } from '#shared/clients/options.ts';
import { resetRuntimeConfig } from '#shared/config.ts';

export class NoStackError extends Error {
  override name = 'NoStackError';
}

/**
 * Points this process at a rapport stack: the environment when RAPPORT_TABLE is set (AWS, or any
 * explicit endpoints), else the local stack that `npm start` is running.
 */
export function useStack(env: NodeJS.ProcessEnv = process.env): string {
  if (env.RAPPORT_TABLE) return `table ${env.RAPPORT_TABLE}`;
  const dataDir = env.RAPPORT_DATA_DIR || '.rapport';
  const recorded = runningStackEnv(dataDir);
  if (!recorded) {
    throw new NoStackError(
      `no running rapport stack found (no live ${runtimeFile(dataDir)}): start one with "npm start", or set RAPPORT_TABLE and AWS credentials to work on a deployed stack`,
    );
  }
  Object.assign(env, recorded);
  resetRuntimeConfig();
  resetClients();
  return `local stack in ${dataDir}`;
}
