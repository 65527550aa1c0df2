import { arch, cpus, loadavg, platform, release, totalmem } from 'node:os';
import { round } from './format.ts';

/**
 * The machine a run was taken on, as the ingest bench records it, with the load average at the
 * start: other work on a shared machine skews every figure, and this says how much there was.
 */
export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  platform: string;
  arch: string;
  kernel: string;
  /** 1, 5 and 15 minute load averages when the run started. */
  loadAverageAtStart: number[];
}

export function machineInfo(): MachineInfo {
  const cores = cpus();
  return {
    cpus: cores.length,
    cpuModel: cores[0]?.model ?? 'unknown',
    memoryGiB: round(totalmem() / 2 ** 30, 1),
    node: process.version,
    platform: platform(),
    arch: arch(),
    kernel: release(),
    loadAverageAtStart: loadavg().map((load) => round(load, 2)),
  };
}

/** Rows of name, value and note, aligned as the ingest bench prints its headline. */
export function printRows(rows: readonly (readonly [string, string, string])[]): void {
  const width = Math.max(...rows.map(([name]) => name.length));
  const valueWidth = Math.max(...rows.map(([, value]) => value.length));
  for (const [name, value, note] of rows) {
    console.log(`  ${name.padEnd(width)}  ${value.padStart(valueWidth)}  ${note}`.trimEnd());
  }
}

export function mark(pass: boolean): string {
  return pass ? 'PASS' : 'MISS';
}
