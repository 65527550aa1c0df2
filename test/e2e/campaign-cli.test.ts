import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { recordRuntime } from '#infra/local/runtime-file.ts';
import { type LocalStack, startLocalStack } from '#infra/local/stack.ts';
import { isHeldOut } from '#shared/guards/holdout.ts';

/**
 * The marketer's side of the loop, as a terminal sees it: the real CLI, run as a child process,
 * finds a running local stack through the runtime.json in its data dir and validates, dry-runs,
 * previews, ticks and counts the repo's campaigns for customers posted through the gateway.
 */
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const hour = 3_600_000;
const day = 24 * hour;

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** `npm run rapport -- <args>` without npm; never throws, so that a test can check a failing exit. */
function rapport(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      join(repoRoot, 'node_modules/.bin/tsx'),
      [join(repoRoot, 'cli/main.ts'), ...args],
      { cwd: options.cwd ?? repoRoot, env: options.env ?? process.env, timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/**
 * Monday of last week at 10:00 UTC: in the past, so that the gateway takes the events as they are, and
 * an hour after the weekly newsletter's Monday 09:00 fire time.
 */
function mondayLastWeek(now: number): number {
  const today = Math.floor(now / day) * day;
  const sinceMonday = (new Date(today).getUTCDay() + 6) % 7;
  return today - (sinceMonday + 7) * day + 10 * hour;
}

const iso = (millis: number): string => new Date(millis).toISOString();

describe('rapport campaigns validate', () => {
  it('passes the repo and names every campaign', async () => {
    const names = (await readdir(join(repoRoot, 'campaigns'))).filter((file) => file.endsWith('.yaml'));
    const ids = await Promise.all(
      names.map(async (file) => {
        const document = parse(await readFile(join(repoRoot, 'campaigns', file), 'utf8')) as { id: string };
        return document.id;
      }),
    );

    const run = await rapport(['campaigns', 'validate']);

    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    for (const id of ids) expect(run.stdout).toMatch(new RegExp(`^ok {2}${id} `, 'm'));
    expect(run.stdout).toContain(`${ids.length} campaigns are valid`);
  });

  it('fails on a campaign with a bad field, naming its file and the field', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rapport-validate-'));
    try {
      await mkdir(join(dir, 'campaigns'));
      await writeFile(
        join(dir, 'rapport.config.yaml'),
        [
          'sending:',
          '  from: "shop <shop@shop.example>"',
          '  linkBaseUrl: "http://127.0.0.1:3000"',
          '  unsubscribeMailbox: unsubscribe@shop.example',
          '',
        ].join('\n'),
      );
      await writeFile(
        join(dir, 'campaigns', 'late-cart.yaml'),
        [
          'id: late-cart',
          'name: Late cart',
          'trigger:',
          '  kind: delay-unless',
          '  on: [Product Added]',
          '  after: soon',
          'message:',
          '  subject: Your cart',
          '  template: late-cart',
          '',
        ].join('\n'),
      );

      const run = await rapport(['campaigns', 'validate'], { cwd: dir });

      expect(run.code).toBe(1);
      expect(run.stderr).toContain('campaigns/late-cart.yaml: trigger.after: expected a duration like "1h"');
      expect(run.stdout).not.toContain('campaigns are valid');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the campaign commands against a running local stack', () => {
  let stack: LocalStack;
  let dataDir: string;
  let cliEnv: NodeJS.ProcessEnv;
  const runId = randomUUID().slice(0, 8);
  // Fixed ids, checked below to be outside cart recovery's holdout; the addresses are new each run.
  const ada = { id: 'cli-ada', email: `ada+${runId}@example.com`, firstName: 'Ada' };
  const grace = { id: 'cli-grace', email: `grace+${runId}@example.com`, firstName: 'Grace' };
  const added = mondayLastWeek(Date.now());
  const newsletterFiredAt = iso(added - hour);

  const cli = (args: string[]): Promise<CliRun> => rapport(args, { env: cliEnv });

  async function outboxFor(address: string): Promise<{ subject: string; body: { text?: string } }[]> {
    const response = await fetch(`${stack.endpoints.sesOutbox}store`);
    const { emails } = (await response.json()) as {
      emails: { subject: string; destination: { to: string[] }; body: { text?: string } }[];
    };
    return emails.filter((email) => email.destination.to.some((to) => to.includes(address)));
  }

  async function post(path: string, body: Record<string, unknown>): Promise<void> {
    const response = await fetch(`${stack.url}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Basic ${Buffer.from(`${stack.keys.write}:`).toString('base64')}`,
      },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(200);
  }

  beforeAll(async () => {
    stack = await startLocalStack({ inMemory: true, port: 0, quiet: true });
    // The events are from last week: the wall-clock scheduler would fire their timers on its own.
    // Business time here moves only by `rapport tick --at`.
    await stack.scheduler.stop();
    dataDir = await mkdtemp(join(tmpdir(), 'rapport-cli-'));
    await recordRuntime(dataDir, stack.env, process.pid);
    // The stack set its variables on this process; the CLI must find the stack through runtime.json alone.
    cliEnv = Object.fromEntries(
      Object.entries(process.env).filter(([name]) => !(name in stack.env) && !name.startsWith('RAPPORT_')),
    );
    cliEnv.RAPPORT_DATA_DIR = dataDir;

    for (const customer of [ada, grace]) {
      await post('/v1/identify', {
        userId: customer.id,
        traits: { email: customer.email, firstName: customer.firstName, subscribed: true },
        timestamp: iso(added - 5 * 60_000),
      });
    }
    await post('/v1/track', {
      userId: ada.id,
      event: 'Product Added',
      properties: {
        product_id: 'easel-1',
        name: 'Field Easel',
        category: 'Easels',
        price: 69.9,
        quantity: 1,
      },
      timestamp: iso(added),
    });
    await stack.drain();
  });

  afterAll(async () => {
    await stack?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('dry-runs the weekly newsletter: audience, guards and a sample, and sends nothing', async () => {
    const at = iso(added + 7 * day - hour);

    const dryRun = await cli(['campaigns', 'dry-run', 'weekly-newsletter', '--at', at]);

    expect(dryRun.stderr).toBe('');
    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout).toContain(`campaign weekly-newsletter as of ${at}: 2 in the audience`);
    expect(dryRun.stdout).toMatch(/^ {2}send +2$/m);
    expect(dryRun.stdout).toMatch(/--- sample: cli-(ada|grace) ---/);
    expect(dryRun.stdout).toMatch(/Subject: (Ada|Grace), this week at the studio/);
    await stack.drain();
    expect(await outboxFor(ada.email)).toEqual([]);
    expect(await outboxFor(grace.email)).toEqual([]);
  });

  it("previews cart recovery for a customer, with the product from the customer's cart", async () => {
    const preview = await cli(['campaigns', 'preview', 'cart-recovery', '--customer', ada.id]);

    expect(preview.stderr).toBe('');
    expect(preview.code).toBe(0);
    expect(preview.stdout).toContain('Subject: Ada, your cart is waiting');
    expect(preview.stdout).toContain('1 × Field Easel');
  });

  it('ticks past the cart timer and the newsletter fire time, which then send; stats count the send', async () => {
    // The precondition of "1 sent": one in ten customers is in cart recovery's holdout.
    expect(isHeldOut('cart-recovery', ada.id, 10)).toBe(false);
    const at = iso(added + hour + 5 * 60_000);

    const tick = await cli(['tick', '--at', at]);

    expect(tick.stderr).toBe('');
    expect(tick.code).toBe(0);
    expect(tick.stdout).toContain(
      `fired weekly-newsletter for ${newsletterFiredAt}: 2 of 2 candidates queued`,
    );
    expect(tick.stdout).toContain(`timers due by ${at}: 1 (1 sends queued, 0 cancelled, 0 moved on)`);

    await stack.drain();
    const adaMail = await outboxFor(ada.email);
    expect(adaMail.map((email) => email.subject).sort()).toEqual([
      'Ada, this week at the studio',
      'Ada, your cart is waiting',
    ]);
    expect(adaMail.find((email) => email.subject.includes('cart'))?.body.text).toContain('Field Easel');
    expect((await outboxFor(grace.email)).map((email) => email.subject)).toEqual([
      'Grace, this week at the studio',
    ]);

    const stats = await cli(['campaigns', 'stats', 'cart-recovery']);
    expect(stats.code).toBe(0);
    expect(stats.stdout).toMatch(/^sent +1$/m);
  });

  it('refuses to run an event campaign, which has no audience to select at a time', async () => {
    const result = await cli(['campaigns', 'run', 'order-thank-you']);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('campaign order-thank-you fires on events (on Order Completed)');
  });
});
