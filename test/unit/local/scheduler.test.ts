import { describe, expect, it } from 'vitest';
import { parseRate, ScheduleExpressionError, Scheduler } from '#infra/local/scheduler.ts';

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

  it('rejects cron with "not supported yet"', () => {
    expect(() => parseRate('cron(0 10 * * ? *)')).toThrow(/cron\(\) schedules are not supported yet/);
  });

  it.each([
    ['rate(1 minutes)', /write rate\(1 minute\)/],
    ['rate(5 minute)', /write rate\(5 minutes\)/],
    ['rate(0 minutes)', /at least 1/],
    ['rate(5 seconds)', /not a schedule expression/],
    ['every 5 minutes', /not a schedule expression/],
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

  it('refuses a second job of the same name and an unsupported expression', () => {
    const scheduler = new Scheduler({ clock: () => start });
    scheduler.register({ name: 'a', expression: 'rate(1 day)', run: () => {} });
    expect(() => scheduler.register({ name: 'a', expression: 'rate(1 day)', run: () => {} })).toThrow(
      /already/,
    );
    expect(() => scheduler.register({ name: 'b', expression: 'cron(0 8 * * ? *)', run: () => {} })).toThrow(
      /not supported yet/,
    );
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
