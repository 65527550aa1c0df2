import { relative, resolve } from 'node:path';
import { PortInUseError } from './gateway.ts';
import { forgetRuntime, recordRuntime } from './runtime-file.ts';
import { type LocalStack, startLocalStack } from './stack.ts';
import { StartupError } from './startup-error.ts';

// rapport pins its AWS SDK versions, so the SDK's notice about future releases needing Node 22 is noise.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/**
 * `npm start`: rapport on this machine. PORT picks the gateway port (default 3000) and
 * RAPPORT_DATA_DIR where data and keys are kept (default .rapport/). Ctrl-C drains the ingest queue
 * and stops every emulator.
 */
async function main(): Promise<void> {
  const startedAt = Date.now();
  const port = parsePort(process.env.PORT);
  const dataDir = resolve(process.env.RAPPORT_DATA_DIR || '.rapport');
  let stack: LocalStack;
  try {
    stack = await startLocalStack({ dataDir, port });
  } catch (error) {
    fail(error, port);
    return;
  }
  await recordRuntime(dataDir, stack.env, process.pid);
  stopOnSignal(stack, dataDir);
  console.log(banner(stack, dataDir, Date.now() - startedAt));
}

function parsePort(value: string | undefined): number {
  if (value === undefined || value === '') return 3000;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    fail(new StartupError(`PORT must be a port number (0 to 65535), not "${value}"`), 3000);
  }
  return port;
}

function fail(error: unknown, port: number): never {
  if (error instanceof PortInUseError) {
    console.error(
      `rapport: ${error.message}; pick another port: PORT=${port === 65_535 ? 3001 : port + 1} npm start`,
    );
  } else if (error instanceof StartupError) {
    console.error(`rapport: ${error.message}`);
  } else {
    console.error('rapport: could not start:', error);
  }
  process.exit(1);
}

function stopOnSignal(stack: LocalStack, dataDir: string): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      // A second Ctrl-C skips the drain; the exit hook still kills java.
      console.error(`rapport: ${signal} again, exiting without draining`);
      process.exit(1);
    }
    stopping = true;
    console.log('\nrapport: draining the ingest and send queues and stopping (Ctrl-C again to force)');
    Promise.all([stack.stop(), forgetRuntime(dataDir)]).then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('rapport: stopping failed:', error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

function banner(stack: LocalStack, dataDir: string, tookMs: number): string {
  const { url, keys, endpoints } = stack;
  const fromHere = relative(process.cwd(), dataDir);
  const shownDir = fromHere === '' ? '.' : fromHere.startsWith('..') ? dataDir : fromHere;
  const keyNote = stack.keysGenerated
    ? `generated and saved in ${shownDir}/keys.json (set RAPPORT_WRITE_KEY / RAPPORT_ADMIN_KEY to choose your own)`
    : 'kept from an earlier start or set in the environment';
  const event = JSON.stringify({
    userId: 'ada',
    event: 'Product Viewed',
    properties: { product_id: 'easel-1', name: 'Field Easel', category: 'Easels', price: 69.9 },
  });
  return [
    '',
    `rapport is running (ready in ${(tookMs / 1000).toFixed(1)} s)`,
    '',
    `  API          ${url}`,
    `  SES outbox   ${endpoints.sesOutbox}`,
    `  bus events   ${endpoints.bus}/events`,
    `  data         ${shownDir}/`,
    `  campaigns    ${campaignsLine(stack)}`,
    '',
    `  write key    ${keys.write}   (public: sites post events with it)`,
    `  admin key    ${keys.admin}   (secret: reads customer data)`,
    `  keys         ${keyNote}`,
    '',
    'Post an event with the write key, then read the customer with the admin key:',
    '',
    `  curl -s -u '${keys.write}:' -H 'content-type: application/json' \\`,
    `    -d '${event}' ${url}/v1/track`,
    `  curl -s -H 'authorization: Bearer ${keys.admin}' ${url}/v1/customers/ada`,
    '',
    'Manage keys while it runs: npm run rapport -- keys list',
    'Ctrl-C stops.',
  ].join('\n');
}

await main();

function campaignsLine(stack: LocalStack): string {
  const enabled = stack.catalog.campaigns.filter((campaign) => campaign.enabled).length;
  if (stack.catalog.campaigns.length === 0) return 'none (add them in campaigns/)';
  return `${enabled} running from campaigns/ (check them: npm run rapport -- campaigns validate)`;
}
