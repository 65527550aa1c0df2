/** How the bench writes figures: rounded for the JSON file, grouped for people, progress on stderr. */
export function round(value: number, digits = 1): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

export function fmt(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

export function fmtMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`;
}

export function pct(share: number): string {
  return `${Math.round(share * 100)}%`;
}

/** Progress lines on stderr, named after the bench. */
export function benchLog(bench: string): (line: string) => void {
  return (line) => console.error(`[bench ${bench}] ${line}`);
}

export const log = benchLog('ingest');
