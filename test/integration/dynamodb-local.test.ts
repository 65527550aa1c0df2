import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, javaMissingMessage, startDynamoDbLocal } from '#infra/local/dynamodb-local.ts';
import { tableDefinition } from '#shared/store/schema.ts';

/** DynamoDB Local as a child process: it answers, keeps data on disk, and never outlives its stop(). */
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'rapport-dynamodb-'));
});

afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Processes whose command line names this port, read from /proc (Linux). */
async function processesOnPort(port: number): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes('DynamoDBLocal.jar') && cmdline.split('\0').includes(String(port)))
      found.push(entry);
  }
  return found;
}

function client(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

describe('DynamoDB Local', () => {
  it('keeps tables across a restart with a data path, and leaves no java process behind', async () => {
    const storage = { dbPath: join(dataDir, 'dynamodb') };
    const first = await startDynamoDbLocal({ storage });
    const firstClient = client(first.endpoint);
    await firstClient.send(new CreateTableCommand({ TableName: 'kept', ...tableDefinition }));
    firstClient.destroy();
    expect(isRunning(first.pid)).toBe(true);
    await first.stop();
    await first.stop();
    expect(isRunning(first.pid)).toBe(false);

    const second = await startDynamoDbLocal({ storage });
    const secondClient = client(second.endpoint);
    const { TableNames } = await secondClient.send(new ListTablesCommand({}));
    secondClient.destroy();
    await second.stop();
    expect(TableNames).toEqual(['kept']);
    expect(isRunning(second.pid)).toBe(false);
  });

  it('kills java when it does not answer in time', async () => {
    const port = await freePort();
    await expect(
      startDynamoDbLocal({ storage: { inMemory: true }, port, startTimeoutMs: 1 }),
    ).rejects.toThrow(/did not answer within 1 ms/);
    expect(await processesOnPort(port)).toEqual([]);
  });

  it('says how to get Java when there is none', async () => {
    await expect(
      startDynamoDbLocal({ storage: { inMemory: true }, javaCommand: 'java-that-is-not-installed' }),
    ).rejects.toThrow(javaMissingMessage);
  });
});
