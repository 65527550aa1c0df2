import awsCron from 'aws-cron-parser';

/**
 * AWS schedule expressions, as EventBridge Scheduler takes them: `rate(5 minutes)` or
 * `cron(minutes hours day-of-month month day-of-week year)`, in UTC. The local scheduler and the
 * CLI compute fire times from the same parse, so a campaign fires at the same times on a laptop as
 * on AWS.
 */
export type ScheduleExpression =
  | { kind: 'rate'; text: string; periodMs: number }
  | { kind: 'cron'; text: string; cron: ReturnType<typeof awsCron.parse> };

export class ScheduleExpressionError extends Error {
  override name = 'ScheduleExpressionError';
}

const unitMillis = { minute: 60_000, hour: 3_600_000, day: 86_400_000 } as const;

export function parseScheduleExpression(expression: string): ScheduleExpression {
  const text = expression.trim();
  const cron = /^cron\((.*)\)$/.exec(text);
  if (cron) return { kind: 'cron', text, cron: parseCron(expression, cron[1] ?? '') };
  if (/^rate\(/.test(text)) return { kind: 'rate', text, periodMs: parseRate(expression) };
  throw new ScheduleExpressionError(
    `"${expression}" is not a schedule expression: expected rate(<n> minute[s]|hour[s]|day[s]) or cron(<min> <hour> <day-of-month> <month> <day-of-week> <year>), e.g. cron(0 9 ? * MON *)`,
  );
}

/** The period of a `rate(value unit)` expression, with the singular unit for 1 as AWS requires. */
export function parseRate(expression: string): number {
  const match = /^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$/.exec(expression.trim());
  if (!match?.[1] || !match[2]) {
    throw new ScheduleExpressionError(
      `"${expression}" is not a rate expression: expected rate(<n> minute[s]|hour[s]|day[s]), e.g. rate(5 minutes)`,
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

function parseCron(expression: string, body: string): ReturnType<typeof awsCron.parse> {
  const fields = body.trim().split(/\s+/);
  if (fields.length !== 6) {
    throw new ScheduleExpressionError(
      `"${expression}": expected 6 fields (minutes hours day-of-month month day-of-week year), found ${fields.length}`,
    );
  }
  const [, , dayOfMonth, , dayOfWeek] = fields;
  if ((dayOfMonth === '?') === (dayOfWeek === '?')) {
    throw new ScheduleExpressionError(
      `"${expression}": exactly one of day-of-month and day-of-week must be "?", e.g. cron(0 9 ? * MON *)`,
    );
  }
  const names = body.match(/[A-Za-z]+/g) ?? [];
  const unknown = names.filter(
    (name) => !cronNames.has(name.toUpperCase()) && name.toUpperCase() !== 'L' && name.toUpperCase() !== 'W',
  );
  if (unknown.length > 0) {
    throw new ScheduleExpressionError(
      `"${expression}": unknown name ${unknown.join(', ')}: months are JAN-DEC and days SUN-SAT`,
    );
  }
  let parsed: ReturnType<typeof awsCron.parse>;
  try {
    parsed = awsCron.parse(fields.join(' '));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ScheduleExpressionError(`"${expression}": ${reason}`);
  }
  // The parser drops what it cannot read instead of failing: a field left empty or holding a
  // non-number never fires.
  const lists = Object.entries(parsed) as [string, unknown][];
  for (const [field, values] of lists) {
    if (!Array.isArray(values)) continue;
    const question =
      (field === 'daysOfMonth' && dayOfMonth === '?') || (field === 'daysOfWeek' && dayOfWeek === '?');
    const bad =
      values.some((value) => typeof value === 'number' && !Number.isFinite(value)) ||
      values.some((value) => value === null);
    if (bad || (values.length === 0 && !question)) {
      throw new ScheduleExpressionError(`"${expression}": the ${field} field cannot be read`);
    }
  }
  return parsed;
}

const cronNames = new Set([
  'JAN',
  'FEB',
  'MAR',
  'APR',
  'MAY',
  'JUN',
  'JUL',
  'AUG',
  'SEP',
  'OCT',
  'NOV',
  'DEC',
  'SUN',
  'MON',
  'TUE',
  'WED',
  'THU',
  'FRI',
  'SAT',
]);

/**
 * The latest fire time at or before `at`. A rate schedule counts from `origin` (EventBridge counts
 * from the schedule's creation; rapport takes the Unix epoch, so every runtime agrees).
 */
export function latestFireAtOrBefore(schedule: ScheduleExpression, at: Date, origin = 0): Date | undefined {
  if (schedule.kind === 'rate') {
    const elapsed = at.getTime() - origin;
    if (elapsed < 0) return undefined;
    return new Date(origin + Math.floor(elapsed / schedule.periodMs) * schedule.periodMs);
  }
  // prev() is strictly before its argument; a fire exactly at `at` counts, at minute resolution.
  const justAfter = new Date(Math.floor(at.getTime() / 60_000) * 60_000 + 1);
  return awsCron.prev(schedule.cron, justAfter) ?? undefined;
}

/** The first fire time strictly after `after`. */
export function nextFireAfter(schedule: ScheduleExpression, after: Date, origin = 0): Date | undefined {
  if (schedule.kind === 'rate') {
    const elapsed = after.getTime() - origin;
    const periods = elapsed < 0 ? 0 : Math.floor(elapsed / schedule.periodMs) + 1;
    return new Date(origin + periods * schedule.periodMs);
  }
  return awsCron.next(schedule.cron, after) ?? undefined;
}
