import type { PhaseUsage } from './cpu.ts';
import { fmt, fmtMs, pct } from './format.ts';
import type { IngestBenchReport } from './report.ts';

/** The report as people read it: the headline figures against their targets, then where the time goes. */
export function printReport(report: IngestBenchReport): void {
  console.log('');
  printHeadline(report);
  console.log('\nwhere the time goes');
  printPhases(report);
  printCalls(report);
  console.log('');
}

function printHeadline(report: IngestBenchReport): void {
  const { traffic, gateway, endToEnd, ceiling, capacity, targets } = report;
  const mark = (pass: boolean): string => (pass ? 'PASS' : 'MISS');
  const rows: [string, string, string][] = [
    [
      'events',
      fmt(traffic.events),
      `${fmt(traffic.requests)} requests of ${traffic.eventsPerRequest}, ${report.options.concurrency} concurrent`,
    ],
    [
      'customers',
      fmt(traffic.customers),
      `${fmt(traffic.identified)} identified, ${fmt(traffic.buyers)} with ${fmt(traffic.orders)} orders`,
    ],
    [
      'gateway events/s',
      fmt(gateway.eventsPerSecond),
      `${gateway.seconds.toFixed(2)} s, request p50 ${fmtMs(gateway.requestLatencyMs.p50Ms)}, p95 ${fmtMs(gateway.requestLatencyMs.p95Ms)}`,
    ],
    [
      'end-to-end events/s',
      fmt(endToEnd.eventsPerSecond),
      `${endToEnd.seconds.toFixed(2)} s until the ingest queue drained`,
    ],
    [
      'ceiling items/s',
      fmt(ceiling.itemsPerSecond),
      `BatchWriteItem ${ceiling.itemsPerRequest}/request, ${ceiling.concurrency} concurrent, ${ceiling.seconds.toFixed(2)} s`,
    ],
    [
      'end-to-end / ceiling',
      `${(targets.endToEndShareOfCeiling.value * 100).toFixed(1)} %`,
      `target >= ${(targets.endToEndShareOfCeiling.target * 100).toFixed(0)} %  ${mark(targets.endToEndShareOfCeiling.pass)}`,
    ],
    [
      'write units/event',
      targets.writeUnitsPerEvent.value.toFixed(2),
      `target <= ${targets.writeUnitsPerEvent.target}  ${mark(targets.writeUnitsPerEvent.pass)}  (${capacity.method}; timeline items alone ${capacity.timelineWriteUnitsPerEvent.toFixed(2)})`,
    ],
    [
      'read units/event',
      capacity.readUnitsPerEvent === null ? 'n/a' : capacity.readUnitsPerEvent.toFixed(2),
      capacity.readUnitsPerEvent === null ? 'not reported by DynamoDB Local' : capacity.method,
    ],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  const valueWidth = Math.max(...rows.map(([, value]) => value.length));
  console.log(
    `ingest bench${report.profiled ? ' (profiled: the CPU profiler slows the run)' : ''}, seed "${report.options.seed}", ${report.options.campaigns ? "the repository's campaigns running" : 'no campaigns'}, ${report.machine.cpus} CPUs, node ${report.machine.node}`,
  );
  for (const [name, value, note] of rows)
    console.log(`  ${name.padEnd(width)}  ${value.padStart(valueWidth)}  ${note}`);
  console.log(
    `  read-back: ${report.readBack.length} customers match (orders, revenue, identity): ` +
      report.readBack.map((check) => `${check.id} ${check.orders} orders`).join(', '),
  );
}

/** CPU and rate of each phase: posting, draining after it, and the ceiling. */
function printPhases(report: IngestBenchReport): void {
  const { ceiling, profile } = report;
  const phases: [string, PhaseUsage][] = [
    ['while posting', profile.phases.posting],
    ['drain only', profile.phases.drainOnly],
    ['ceiling', ceiling.usage],
  ];
  console.log(
    `  ${''.padEnd(13)} ${'seconds'.padStart(8)}  ${'per second'.padStart(10)}  ${'CPU ms per event (item): node, java'.padStart(36)}  cores busy: node (event loop), java, other processes`,
  );
  const fixed = (value: number | null): string => (value === null ? 'n/a' : value.toFixed(2));
  for (const [name, phase] of phases) {
    console.log(
      `  ${name.padEnd(13)} ${(phase.ms / 1000).toFixed(2).padStart(8)}  ${fmt(phase.donePerSecond).padStart(10)}  ` +
        `${`${fixed(phase.nodeCpuMsPerUnit)}, ${fixed(phase.javaCpuMsPerUnit)}`.padStart(36)}  ` +
        `${fixed(phase.nodeCores)} (${pct(phase.nodeEventLoop)}), ${fixed(phase.javaCores)}, ${fixed(phase.otherCores)}`,
    );
  }
}

/** Handler invocations and the AWS calls they make, and, when profiled, node CPU by area. */
function printCalls(report: IngestBenchReport): void {
  const { ceiling, profile } = report;
  const shape = profile.ingestBatches;
  console.log(
    `  ingest invocations: ${fmt(shape.invocations)}, ${shape.eventsPerInvocation} events and ${shape.customerIdsPerInvocation} distinct customer ids each`,
  );
  for (const [name, summary] of Object.entries(profile.handlers)) {
    console.log(
      `  ${name.padEnd(22)} ${fmt(summary.count).padStart(6)} calls  mean ${fmtMs(summary.meanMs).padStart(8)}  p95 ${fmtMs(summary.p95Ms).padStart(8)}`,
    );
  }
  for (const [name, summary] of Object.entries(profile.awsCallsTotal)) {
    const wire = profile.awsCallsWire[name];
    console.log(
      `  ${name.padEnd(22)} ${fmt(summary.count).padStart(6)} calls  ${summary.perEvent.toFixed(2)}/event  mean ${fmtMs(summary.meanMs).padStart(8)}` +
        `  (HTTP ${wire ? fmtMs(wire.meanMs) : 'n/a'})`,
    );
  }
  const callsPerEvent = (service: string): number =>
    Object.entries(profile.awsCallsTotal)
      .filter(([name]) => name.startsWith(`${service} `))
      .reduce((sum, [, summary]) => sum + summary.perEvent, 0);
  console.log(
    `  AWS calls by the handlers per event: DynamoDB ${callsPerEvent('DynamoDB').toFixed(2)}, SQS ${callsPerEvent('SQS').toFixed(2)} ` +
      `(the ceiling makes ${(1 / ceiling.itemsPerRequest).toFixed(2)} per item)`,
  );
  const { cpu } = profile;
  if (cpu) {
    const top = (record: Record<string, number>) =>
      Object.entries(record)
        .filter(([name]) => name !== 'idle')
        .slice(0, 8)
        .map(([name, ms]) => `${name} ${((ms / (cpu.totalMs || 1)) * 100).toFixed(0)}%`)
        .join(', ');
    console.log(`  node CPU by where it runs: ${top(cpu.self)}`);
    console.log(`  node CPU by calling area:  ${top(cpu.caller)}`);
  }
}
