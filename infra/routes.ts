/**
 * The HTTP API, declared once. The CDK app turns it into API Gateway routes and Lambda functions; the
 * local gateway serves the same routes with the same handlers.
 */
export type FunctionName = 'collect' | 'customers' | 'health';

export interface Route {
  method: 'GET' | 'POST';
  /** API Gateway route path, with `{param}` placeholders. */
  path: string;
  function: FunctionName;
}

export const httpFunctions: Record<FunctionName, { entry: string; description: string }> = {
  collect: { entry: 'functions/collect.ts', description: 'Segment-compatible event collection' },
  customers: { entry: 'functions/customers.ts', description: 'Customer state and timeline (admin key)' },
  health: { entry: 'functions/health.ts', description: 'Health check' },
};

/** Segment's HTTP API paths, plus the short ones analytics.js posts to from browsers. */
const collectPaths = ['batch', 'import', 'track', 'identify', 'page', 'screen', 'group', 'alias'];
const browserPaths = ['b', 't', 'i', 'p', 's', 'g', 'a'];

export const routes: Route[] = [
  ...[...collectPaths, ...browserPaths].map(
    (name): Route => ({ method: 'POST', path: `/v1/${name}`, function: 'collect' }),
  ),
  { method: 'GET', path: '/v1/customers/{id}', function: 'customers' },
  { method: 'GET', path: '/v1/customers/{id}/timeline', function: 'customers' },
  { method: 'GET', path: '/health', function: 'health' },
];

/** Queue consumers: the ingest worker reads the ingest queue, the send worker the send queue. */
export const queueFunctions = {
  ingest: {
    entry: 'functions/ingest.ts',
    description: 'Ingest queue consumer: timeline and engagement state',
  },
  send: {
    entry: 'functions/send.ts',
    description: 'Send queue consumer: guards, rendering and SES',
  },
};

/** Functions run on a schedule or by the bus. */
export const eventFunctions = {
  evaluate: {
    entry: 'functions/evaluate.ts',
    description: "A schedule or date campaign's fire time: selects its audience",
  },
  sweep: {
    entry: 'functions/sweep.ts',
    description: 'Every minute: due delay-unless timers and deferred sends',
  },
  trigger: {
    entry: 'functions/trigger.ts',
    description: 'Lifecycle events from the bus: event campaigns',
  },
};

/** The timer sweeper's schedule, on AWS and locally. */
export const sweepSchedule = 'rate(1 minute)';
