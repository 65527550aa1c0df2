import type { Command } from 'commander';
import { describeKey, generateKey, type KeyKind, listKeys, revokeKey, storeKey } from '#shared/keys.ts';
import { CliError } from './errors.ts';
import { useStack } from './target.ts';

/** `rapport keys ...`: create, list and revoke API keys. Keys are shown once and stored hashed. */
export function registerKeyCommands(program: Command): void {
  const keys = program
    .command('keys')
    .description('manage API keys (write keys post events, admin keys read)');

  keys
    .command('create')
    .description('create a key and print it once')
    .requiredOption('--source <name>', 'the site or shop the key is for')
    .requiredOption('--kind <kind>', 'write | admin', parseKind)
    .action(async (options: { source: string; kind: KeyKind }) => {
      useStack();
      const key = generateKey(options.kind);
      const apiKey = describeKey(key, options.kind, options.source, new Date().toISOString());
      await storeKey(apiKey);
      console.log(key);
      console.error(
        `created ${options.kind} key ${apiKey.prefix}… for source "${options.source}"; it is not shown again`,
      );
    });

  keys
    .command('list')
    .description('list keys (prefix, kind, source, created, revoked)')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      useStack();
      const all = (await listKeys()).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
      if (options.json) {
        console.log(
          JSON.stringify(
            all.map(({ hash: _hash, ...rest }) => rest),
            null,
            2,
          ),
        );
        return;
      }
      console.table(
        all.map((key) => ({
          prefix: key.prefix,
          kind: key.kind,
          source: key.source,
          created: key.createdAt,
          revoked: key.revokedAt ?? '',
        })),
      );
    });

  keys
    .command('revoke')
    .description('revoke a key by the prefix shown in "keys list", or by the key itself')
    .argument('<key-or-prefix>')
    .action(async (match: string) => {
      useStack();
      const { revoked, candidates } = await revokeKey(match, new Date().toISOString());
      if (revoked) {
        console.log(`revoked ${revoked.kind} key ${revoked.prefix}… of source "${revoked.source}"`);
        return;
      }
      const reason =
        candidates.length === 0
          ? `no live key matches "${match}"`
          : `"${match}" matches ${candidates.length} keys; give the whole key`;
      throw new CliError(reason);
    });
}

function parseKind(value: string): KeyKind {
  if (value === 'write' || value === 'admin') return value;
  throw new CliError(`--kind: expected "write" or "admin", got "${value}"`);
}
