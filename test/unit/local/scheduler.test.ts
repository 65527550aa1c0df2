import { describe, expect, it } from 'vitest';
import { Scheduler } from '#infra/local/scheduler.ts';
import { parseRate, ScheduleExpressionError } from '#shared/campaigns/schedule-expression.ts';

const start = new Date('2026-11-02T10:00:00.000Z');
const minutes = (n: number): Date => new Date(start.getTime() + n * 60_000);

function fakeClock(at: Date): { now: () => Date; set: (next: Date) => void } {
  let current = at;
  return { now: () => current, set: (next) => (current = next) };
}

describe('parseRate', () => {
  it.each([
    ['rate(1 minute)', 60_000],
    ['rate(5 minutes)', 300_000],
    ['rate(1 hour)', 3_600_000],
    ['rate(2 hours)', 7_200_000],
    ['rate(1 day)', 86_400_000],
    [' rate( 7 days ) ', 604_800_000],
  ])('reads %s', (expression, millis) => {
    expect(parseRate(expression)).toBe(millis);
  });

  it.each([
    ['rate(1 minutes)', /write rate\(1 minute\)/],
    ['rate(5 minute)', /write rate\(5 minutes\)/],
    ['rate(0 minutes)', /at least 1/],
    ['rate(5 seconds)', /not a rate expression/],
    ['every 5 minutes', /not a rate expression/],
  ])('rejects %s with a fix', (expression, message) => {
    expect(() => parseRate(expression)).toThrow(ScheduleExpressionError);
    expect(() => parseRate(expression)).toThrow(message);
  });
});

describe('Scheduler', () => {
  it('runs a rate job one period after registration, then every period, with its fire time', async () => {
    const clock = fakeClock(start);
    const scheduler = new Scheduler({ clock: clock.now });
    const fired: string[] = [];
    scheduler.register({
      name: 'digest',
      expression: 'rate(5 minutes)',
      run: (at) => void fired.push(at.toISOString()),
    });

    expect(await scheduler.tick(minutes(4))).toEqual([]);
    expect(await scheduler.tick(minutes(5))).toEqual([{ name: 'digest', fireTime: minutes(5), ok: true }]);
    expect(await scheduler.tick(minutes(7))).toEqual([]);
    await scheduler.tick(minutes(10.5));
    expect(fired).toEqual([minutes(5).toISOString(), minutes(10).toISOString()]);
    expect(scheduler.jobs()).toEqual([
      { name: 'digest', expression: 'rate(5 minutes)', nextFire: minutes(15) },
    ]);
  });

  it('runs a cron job at its fire times in UTC', async () => {
    const clock = fakeClock(start);
    const scheduler = new Scheduler({ clock: clock.now });
    const fired: string[] = [];
    scheduler.register({
      name: 'weekly',
      expression: 'cron(0 9 ? * MON *)',
      run: (at) => void fired.push(at.toISOString()),
    });
    // start is Monday 2026-11-02 10:00: the first fire is the next Monday at 09:00.
    expect(scheduler.jobs()[0]?.nextFire).toEqual(new Date('2026-11-09T09:00:00.000Z'));
    await scheduler.tick(new Date('2026-11-09T08:59:00.000Z'));
    await scheduler.tick(new Date('2026-11-09T09:00:30.000Z'));
    await scheduler.tick(new Date('2026-11-24T12:00:00.000Z'));
    expect(fired).toEqual(['2026-11-09T09:00:00.000Z', '2026-11-23T09:00:00.000Z']);
  });

  it('runs a job once for the latest of several missed fire times', async () => {
    const scheduler = new Scheduler({ clock: () => start });
    const fired: Date[] = [];
    scheduler.register({ name: 'hourly', expression: 'rate(1 hour)', run: (at) => void fired.push(at) });

    await scheduler.tick(minutes(60 * 5 + 30));
    expect(fired).toEqual([minutes(300)]);
    expect(scheduler.jobs()[0]?.nextFire).toEqual(minutes(360));
  });

  it('keeps running the other jobs when one fails, and logs the failure', async () => {
    const errors: string[] = [];
    const scheduler = new Scheduler({ clock: () => start, logError: (line) => errors.push(line) });
    const fired: string[] = [];
    scheduler.register({
      name: 'broken',
      expression: 'rate(1 minute)',
      run: () => {
        throw new Error('boom');
      },
    });
    scheduler.register({ name: 'fine', expression: 'rate(1 minute)', run: () => void fired.push('fine') });

    const runs = await scheduler.tick(minutes(1));
    expect(runs.map((run) => [run.name, run.ok])).toEqual([
      ['broken', false],
      ['fine', true],
    ]);
    expect(fired).toEqual(['fine']);
    expect(errors).toEqual([
      expect.stringContaining('job broken failed at 2026-11-02T10:01:00.000Z: Error: boom'),
    ]);
  });

  it('skips a job still running from an earlier tick', async () => {
    const scheduler = new Scheduler({ clock: () => start });
    let release = (): void => {};
    let runs = 0;
    scheduler.register({
      name: 'slow',
      expression: 'rate(1 minute)',
      run: () => {
        runs++;
        if (runs > 1) return;
        return new Promise<void>((resolve) => {
          release = resolve;
        });
      },
    });

    const first = scheduler.tick(minutes(1));
    expect(await scheduler.tick(minutes(2))).toEqual([]);
    release();
    await first;
    await scheduler.tick(minutes(3));
    expect(runs).toBe(2);
  });

  it('refuses a second job of the same name and an expression that is not a schedule', () => {
    const scheduler = new Scheduler({ clock: () => start });
    scheduler.register({ name: 'a', expression: 'rate(1 day)', run: () => {} });
    expect(() => scheduler.register({ name: 'a', expression: 'rate(1 day)', run: () => {} })).toThrow(
      /already/,
    );
    expect(() =>
      scheduler.register({ name: 'b', expression: 'at(2026-11-03T08:00:00)', run: () => {} }),
    ).toThrow(/not a schedule expression/);
    expect(scheduler.unregister('a')).toBe(true);
    expect(scheduler.jobs()).toEqual([]);
  });

  it('ticks on its interval with the injected clock once started', async () => {
    const clock = fakeClock(start);
    const scheduler = new Scheduler({ clock: clock.now });
    const fired: Date[] = [];
    scheduler.register({ name: 'tick', expression: 'rate(1 minute)', run: (at) => void fired.push(at) });
    clock.set(minutes(1));
    scheduler.start(5);
    await expect.poll(() => fired.length).toBe(1);
    await scheduler.stop();
    expect(fired).toEqual([minutes(1)]);
  });
});
