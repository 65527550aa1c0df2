import { Session } from 'node:inspector/promises';
import { round } from './format.ts';
import { repoRoot } from './repo-root.ts';

/** The --profile CPU profile of the node process during the measured phase, summarized by component. */
interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

export interface CpuProfile {
  nodes: CpuProfileNode[];
  samples?: number[];
  timeDeltas?: number[];
}

/** Sampled CPU milliseconds, in all and by area, the area with the most first. */
export interface CpuSummary {
  totalMs: number;
  self: Record<string, number>;
  caller: Record<string, number>;
}

export async function startProfiler(): Promise<{ stop(): Promise<CpuProfile> }> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 500 });
  await session.post('Profiler.start');
  return {
    stop: async () => {
      const { profile } = await session.post('Profiler.stop');
      session.disconnect();
      return profile;
    },
  };
}

/**
 * Sampled CPU time by where it is spent (`self`: the library or repository area of the running
 * function, node internals counted to their caller) and by the repository area that called it
 * (`caller`). Continuations after an await start a fresh stack, so `caller` can only name what the
 * stack shows.
 */
export function summarizeProfile(profile: CpuProfile): CpuSummary {
  const areas = areasOfNodes(profile.nodes);
  const self: Record<string, number> = {};
  const caller: Record<string, number> = {};
  let totalMs = 0;
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  samples.forEach((id, index) => {
    const ms = (deltas[index] ?? 0) / 1000;
    totalMs += ms;
    const selfArea = areas.get(id)?.self ?? 'node runtime';
    const callerArea = areas.get(id)?.caller ?? 'node runtime';
    self[selfArea] = (self[selfArea] ?? 0) + ms;
    caller[callerArea] = (caller[callerArea] ?? 0) + ms;
  });
  const sorted = (record: Record<string, number>) =>
    Object.fromEntries(
      Object.entries(record)
        .sort((a, b) => b[1] - a[1])
        .map(([name, ms]) => [name, round(ms)]),
    );
  return { totalMs: round(totalMs), self: sorted(self), caller: sorted(caller) };
}

/** Each node's own area, or its caller's when it has none, and the nearest repository area above it. */
function areasOfNodes(nodes: readonly CpuProfileNode[]): Map<number, { self: string; caller: string }> {
  const byId = new Map(nodes.map((node) => [node.id, node]));
  const areas = new Map<number, { self: string; caller: string }>();
  const childIds = new Set(nodes.flatMap((node) => node.children ?? []));
  const stack: { node: CpuProfileNode; self: string; caller: string }[] = nodes
    .filter((node) => !childIds.has(node.id))
    .map((node) => ({ node, self: 'node runtime', caller: 'node runtime' }));
  for (let item = stack.pop(); item; item = stack.pop()) {
    const area = componentOf(item.node.callFrame.url, item.node.callFrame.functionName);
    const self = area ?? item.self;
    const repoArea =
      area && !area.startsWith('lib ') && area !== 'AWS SDK' && area !== 'zod' ? area : undefined;
    const caller = repoArea ?? item.caller;
    areas.set(item.node.id, { self, caller });
    for (const childId of item.node.children ?? []) {
      const child = byId.get(childId);
      if (child) stack.push({ node: child, self, caller });
    }
  }
  return areas;
}

function componentOf(url: string, functionName: string): string | undefined {
  if (functionName === '(idle)') return 'idle';
  if (functionName === '(garbage collector)') return 'garbage collector';
  if (functionName === '(program)') return 'native (unattributed)';
  if (url === '' || url.startsWith('node:')) return undefined;
  const library = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1];
  if (library) {
    if (library === 'fauxqs') return 'SQS emulator (fauxqs)';
    if (/^@(aws-sdk|smithy|aws-crypto)\//.test(library)) return 'AWS SDK';
    if (library === 'zod') return 'zod';
    if (library === 'tsx' || library === 'esbuild') return 'lib tsx';
    return `lib ${library}`;
  }
  const path = url.replace(/^file:\/\//, '');
  if (!path.startsWith(repoRoot)) return undefined;
  const relative = path.slice(repoRoot.length);
  if (relative.startsWith('bench/')) return 'bench client';
  if (/^(functions\/collect|shared\/collect\/|events\/segment|shared\/ingest-queue)/.test(relative))
    return 'collect';
  if (/^shared\/engagement\//.test(relative)) return 'ingest: engagement fold';
  if (/^(functions\/ingest|shared\/ingest\/|shared\/store\/|events\/ingest-event)/.test(relative))
    return 'ingest';
  if (relative.startsWith('infra/local/gateway')) return 'local gateway';
  if (relative.startsWith('infra/local/queue-worker')) return 'local queue worker';
  return `repo ${relative}`;
}
