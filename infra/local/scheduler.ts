import {
  latestFireAtOrBefore,
  nextFireAfter,
  parseScheduleExpression,
  type ScheduleExpression,
} from '#shared/campaigns/schedule-expression.ts';

/**
 * The local stand-in for EventBridge schedules: named jobs with the same schedule expressions, run by
 * `tick(at)`. Jobs receive their scheduled fire time, never the wall clock, so a test drives the
 * scheduler with a fake clock and a demo can fast-forward it.
 */
export interface ScheduledJob {
  name: string;
  /** An AWS schedule expression: `rate(...)` or `cron(...)`, in UTC. */
  expression: string;
  run(fireTime: Date): unknown;
}

export interface SchedulerOptions {
  clock?: () => Date;
  logError?: (line: string) => void;
}

export interface JobRun {
  name: string;
  fireTime: Date;
  ok: boolean;
}

interface Entry {
  job: ScheduledJob;
  schedule: ScheduleExpression;
  nextFire: number;
  running: boolean;
}

export class Scheduler {
  private readonly entries = new Map<string, Entry>();
  private readonly clock: () => Date;
  private readonly logError: (line: string) => void;
  private timer: NodeJS.Timeout | undefined;
  private readonly ticking = new Set<Promise<JobRun[]>>();

  constructor(options: SchedulerOptions = {}) {
    this.clock = options.clock ?? (() => new Date());
    this.logError = options.logError ?? ((line) => console.error(line));
  }

  /**
   * Adds a job; its first run is at its first fire time after now. Rate schedules count from the
   * Unix epoch (see schedule-expression.ts), so every runtime agrees on their fire times.
   */
  register(job: ScheduledJob): void {
    if (this.entries.has(job.name)) throw new Error(`a job named ${job.name} is already scheduled`);
    const schedule = parseScheduleExpression(job.expression);
    this.entries.set(job.name, {
      job,
      schedule,
      nextFire: this.nextAfter(schedule, this.clock().getTime()),
      running: false,
    });
  }

  private nextAfter(schedule: ScheduleExpression, millis: number): number {
    return nextFireAfter(schedule, new Date(millis))?.getTime() ?? Number.POSITIVE_INFINITY;
  }

  unregister(name: string): boolean {
    return this.entries.delete(name);
  }

  jobs(): { name: string; expression: string; nextFire: Date }[] {
    return [...this.entries.values()].map((entry) => ({
      name: entry.job.name,
      expression: entry.job.expression,
      nextFire: new Date(entry.nextFire),
    }));
  }

  /**
   * Runs every job that is due at `at`. A job whose fire times were missed (a laptop asleep) runs once,
   * for the latest of them, rather than once per missed period; a job still running from an earlier
   * tick is skipped. A failing job is logged and does not stop the others.
   */
  async tick(at: Date = this.clock()): Promise<JobRun[]> {
    const now = at.getTime();
    const due = [...this.entries.values()].filter((entry) => !entry.running && entry.nextFire <= now);
    return Promise.all(
      due.map(async (entry): Promise<JobRun> => {
        const fireTime = latestFireAtOrBefore(entry.schedule, new Date(now)) ?? new Date(entry.nextFire);
        entry.nextFire = this.nextAfter(entry.schedule, now);
        entry.running = true;
        try {
          await entry.job.run(fireTime);
          return { name: entry.job.name, fireTime, ok: true };
        } catch (error) {
          this.logError(
            `scheduler: job ${entry.job.name} failed at ${fireTime.toISOString()}: ${String(error)}`,
          );
          return { name: entry.job.name, fireTime, ok: false };
        } finally {
          entry.running = false;
        }
      }),
    );
  }

  /** Ticks on a timer with the injected clock. */
  start(intervalMs = 1_000): void {
    if (this.timer) return;
    // Ticks may overlap: a slow job only delays itself, because tick() skips a job still running.
    this.timer = setInterval(() => {
      const tick = this.tick();
      this.ticking.add(tick);
      tick.finally(() => this.ticking.delete(tick));
    }, intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for a tick in progress. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await Promise.allSettled([...this.ticking]);
  }
}
