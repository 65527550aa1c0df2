import { Command, CommanderError } from 'commander';
import { RapportConfigError } from '#infra/rapport-config.ts';
import { ConfigError } from '#shared/config.ts';
import { registerCampaignCommands } from './campaigns.ts';
import { CliError } from './errors.ts';
import { registerKeyCommands } from './keys.ts';
import { NoStackError } from './target.ts';

// rapport pins its AWS SDK versions, so the SDK's notice about future releases needing Node 22 is noise.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** The rapport CLI: `npm run rapport -- <command>`. */
const program = new Command('rapport').description('rapport: serverless marketing automation').exitOverride();
registerKeyCommands(program);
registerCampaignCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode);
  if (
    error instanceof CliError ||
    error instanceof NoStackError ||
    error instanceof ConfigError ||
    error instanceof RapportConfigError
  ) {
    console.error(`rapport: ${error.message}`);
    process.exit(1);
  }
  throw error;
}
