import { round } from './format.ts';

/** Durations measured by name (a handler, an AWS command), summarized as count, mean and percentiles. */
export interface DurationSummary {
  count: number;
  totalMs: number;
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
}

export class DurationTable {
  private readonly durations = new Map<string, number[]>();

  record(name: string, ms: number): void {
    const list = this.durations.get(name);
    if (list) list.push(ms);
    else this.durations.set(name, [ms]);
  }

  clear(): void {
    this.durations.clear();
  }

  /** By name, the name with the most time first. */
  summary(): Record<string, DurationSummary> {
    const entries = [...this.durations.entries()].map(([name, list]) => [name, summarize(list)] as const);
    entries.sort((a, b) => b[1].totalMs - a[1].totalMs);
    return Object.fromEntries(entries);
  }
}

export function summarize(list: readonly number[]): DurationSummary {
  const sorted = [...list].sort((a, b) => a - b);
  const totalMs = sorted.reduce((sum, ms) => sum + ms, 0);
  return {
    count: sorted.length,
    totalMs: round(totalMs),
    meanMs: round(sorted.length === 0 ? 0 : totalMs / sorted.length),
    p50Ms: round(percentile(sorted, 0.5)),
    p95Ms: round(percentile(sorted, 0.95)),
    maxMs: round(sorted.at(-1) ?? 0),
  };
}

/** The value below which `share` of the sorted values fall; 0 when there are none. */
export function percentile(sorted: readonly number[], share: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * share))] ?? 0;
}
