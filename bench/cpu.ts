import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { type EventLoopUtilization, performance } from 'node:perf_hooks';
import { round } from './format.ts';

/**
 * Where the CPU goes during a phase: this node process (gateway, SQS emulator, handlers), the DynamoDB
 * Local JVM, and every other process on the machine, as marks taken at the phase's edges.
 */
export interface CpuReaders {
  /** CPU milliseconds this node process has used. */
  node(): number;
  /** CPU milliseconds the DynamoDB Local JVM has used, from /proc (Linux); null elsewhere. */
  java(): number | null;
  /** CPU milliseconds every process on the machine has used (steal included), from /proc/stat. */
  machine(): number | null;
}

export function cpuReaders(javaPid: number | undefined): CpuReaders {
  let ticksPerSecond = 100;
  try {
    ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    // 100 is the Linux default.
  }
  const toMs = (ticks: number): number | null =>
    Number.isFinite(ticks) ? (ticks * 1000) / ticksPerSecond : null;
  return {
    node: () => {
      const cpu = process.cpuUsage();
      return (cpu.user + cpu.system) / 1000;
    },
    java: () => {
      if (javaPid === undefined) return null;
      try {
        const stat = readFileSync(`/proc/${javaPid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return toMs(Number(fields[11]) + Number(fields[12]));
      } catch {
        return null;
      }
    },
    machine: () => {
      try {
        const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
        const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
        return toMs((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0));
      } catch {
        return null;
      }
    },
  };
}

export interface UsageMark {
  at: number;
  nodeCpuMs: number;
  javaCpuMs: number | null;
  machineCpuMs: number | null;
  loop: EventLoopUtilization;
}

export function usageMark(readers: CpuReaders): UsageMark {
  return {
    at: performance.now(),
    nodeCpuMs: readers.node(),
    javaCpuMs: readers.java(),
    machineCpuMs: readers.machine(),
    loop: performance.eventLoopUtilization(),
  };
}

export interface PhaseUsage {
  ms: number;
  /** Events the ingest worker finished in the phase (items written, for the ceiling), and the rate. */
  done: number;
  donePerSecond: number;
  /** Share of one core: 1.0 is one core busy the whole phase. */
  nodeCores: number;
  javaCores: number | null;
  /** Every other process on the machine (other work on a shared machine skews the figures). */
  otherCores: number | null;
  /** Share of the phase the node event loop was busy (the one thread that runs gateway, emulator and handlers). */
  nodeEventLoop: number;
  /** CPU per event ingested (per item written, for the ceiling). */
  nodeCpuMsPerUnit: number | null;
  javaCpuMsPerUnit: number | null;
}

export function phaseUsage(
  from: UsageMark,
  to: UsageMark,
  doneBefore: number,
  doneAfter: number,
): PhaseUsage {
  const ms = to.at - from.at;
  const done = doneAfter - doneBefore;
  const cores = (a: number | null, b: number | null): number | null =>
    a === null || b === null ? null : round((b - a) / ms, 3);
  const perUnit = (a: number | null, b: number | null): number | null =>
    done > 0 && a !== null && b !== null ? round((b - a) / done, 3) : null;
  const node = cores(from.nodeCpuMs, to.nodeCpuMs);
  const java = cores(from.javaCpuMs, to.javaCpuMs);
  const machine = cores(from.machineCpuMs, to.machineCpuMs);
  return {
    ms: round(ms),
    done,
    donePerSecond: ms > 0 ? round((done * 1000) / ms) : 0,
    nodeCores: node ?? 0,
    javaCores: java,
    otherCores: machine === null ? null : round(Math.max(0, machine - (node ?? 0) - (java ?? 0)), 3),
    nodeEventLoop: round(performance.eventLoopUtilization(to.loop, from.loop).utilization, 3),
    nodeCpuMsPerUnit: perUnit(from.nodeCpuMs, to.nodeCpuMs),
    javaCpuMsPerUnit: perUnit(from.javaCpuMs, to.javaCpuMs),
  };
}
