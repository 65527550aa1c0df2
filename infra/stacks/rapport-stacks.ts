import type { Construct } from 'constructs';
import type { CatalogSource } from '#shared/campaigns/catalog.ts';
import { StatefulStack } from './stateful-stack.ts';
import { StatelessStack } from './stateless-stack.ts';

export interface RapportStacksProps {
  /** The `engagement:` section of rapport.config.yaml, if any. */
  engagementSettings?: Record<string, unknown> | undefined;
  /** The campaign catalog as read from the repository; checked before anything is built. */
  catalog: CatalogSource;
  /** Send functions at once (at least 2); see send-settings.ts. */
  sendConcurrency?: number;
}

export interface RapportStacks {
  stateful: StatefulStack;
  stateless: StatelessStack;
}

/** Both stacks, wired the same way for `cdk deploy` and for the infra tests. */
export function createRapportStacks(scope: Construct, props: RapportStacksProps): RapportStacks {
  const stateful = new StatefulStack(scope, 'rapport-stateful', {
    description:
      'rapport data: table, ingest and send queues with DLQs, lifecycle bus, signing secret, SES configuration set',
  });
  const stateless = new StatelessStack(scope, 'rapport-stateless', {
    description: 'rapport code: HTTP API, functions, queue consumers, campaign schedules and rules, alarms',
    table: stateful.table,
    ingestQueue: stateful.ingestQueue,
    ingestDeadLetterQueue: stateful.ingestDeadLetterQueue,
    sendQueue: stateful.sendQueue,
    sendDeadLetterQueue: stateful.sendDeadLetterQueue,
    bus: stateful.bus,
    signingSecret: stateful.signingSecret,
    sesConfigurationSet: stateful.sesConfigurationSet,
    engagementSettings: props.engagementSettings,
    catalog: props.catalog,
    sendConcurrency: props.sendConcurrency,
  });
  return { stateful, stateless };
}
