/**
 * The local stand-in for EventBridge schedules: named jobs with the same schedule expressions, run by
 * `tick(at)`. Jobs receive their scheduled fire time, never the wall clock, so a test drives the
 * scheduler with a fake clock and a demo can fast-forward it.
 */
export interface ScheduledJob {
  name: string;
  /** An AWS schedule expression; `rate(...)` for now. */
  expression: string;
  run(fireTime: Date): Promise<void> | void;
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

export class ScheduleExpressionError extends Error {
  override name = 'ScheduleExpressionError';
}

const unitMillis = { minute: 60_000, hour: 3_600_000, day: 86_400_000 } as const;

/** The period of a `rate(value unit)` expression, with the singular unit for 1 as AWS requires. */
export function parseRate(expression: string): number {
  const trimmed = expression.trim();
  if (/^cron\(/.test(trimmed)) {
    throw new ScheduleExpressionError(`"${expression}": cron() schedules are not supported yet; use rate()`);
  }
  if (/^at\(/.test(trimmed)) {
    throw new ScheduleExpressionError(
      `"${expression}": one-time at() schedules are not supported yet; use rate()`,
    );
  }
  const match = /^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$/.exec(trimmed);
  if (!match?.[1] || !match[2]) {
    throw new ScheduleExpressionError(
      `"${expression}" is not a schedule expression: expected rate(<n> minute[s]|hour[s]|day[s]), e.g. rate(5 minutes)`,
    );
  }
  const value = Number(match[1]);
  const unit = match[2];
  const singular = unit.replace(/s$/, '') as keyof typeof unitMillis;
  if (value < 1) throw new ScheduleExpressionError(`"${expression}": the rate must be at least 1`);
  if ((value === 1) !== (unit === singular)) {
    const fixed = value === 1 ? singular : `${singular}s`;
    throw new ScheduleExpressionError(`"${expression}": write rate(${value} ${fixed})`);
  }
  return value * unitMillis[singular];
}

interface Entry {
  job: ScheduledJob;
  periodMs: number;
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
   * Adds a job. As on EventBridge, a rate schedule counts from its creation: the first run is one
   * period after registration.
   */
  register(job: ScheduledJob): void {
    if (this.entries.has(job.name)) throw new Error(`a job named ${job.name} is already scheduled`);
    const periodMs = parseRate(job.expression);
    this.entries.set(job.name, {
      job,
      periodMs,
      nextFire: this.clock().getTime() + periodMs,
      running: false,
    });
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
        const missed = Math.floor((now - entry.nextFire) / entry.periodMs);
        const fireTime = new Date(entry.nextFire + missed * entry.periodMs);
        entry.nextFire = fireTime.getTime() + entry.periodMs;
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
