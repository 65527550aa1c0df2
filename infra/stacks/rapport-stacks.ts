import type { Construct } from 'constructs';
import { StatefulStack } from './stateful-stack.ts';
import { StatelessStack } from './stateless-stack.ts';

export interface RapportStacksProps {
  /** The `engagement:` section of rapport.config.yaml, if any. */
  engagementSettings?: Record<string, unknown> | undefined;
}

export interface RapportStacks {
  stateful: StatefulStack;
  stateless: StatelessStack;
}

/** Both stacks, wired the same way for `cdk deploy` and for the infra tests. */
export function createRapportStacks(scope: Construct, props: RapportStacksProps = {}): RapportStacks {
  const stateful = new StatefulStack(scope, 'rapport-stateful', {
    description: 'rapport data: table, ingest queue and DLQ, lifecycle bus',
  });
  const stateless = new StatelessStack(scope, 'rapport-stateless', {
    description: 'rapport code: HTTP API, functions, ingest consumer, alarms',
    table: stateful.table,
    ingestQueue: stateful.ingestQueue,
    ingestDeadLetterQueue: stateful.ingestDeadLetterQueue,
    bus: stateful.bus,
    engagementSettings: props.engagementSettings,
  });
  return { stateful, stateless };
}
