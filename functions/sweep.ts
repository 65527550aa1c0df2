import type { ScheduledEvent } from 'aws-lambda';
import { catalogFromConfig } from '#shared/campaigns/runtime-catalog.ts';
import { sweepTimers } from '#shared/campaigns/sweep-timers.ts';

/** Every minute: the delay-unless timers and deferred sends that are due go on the send queue. */
export const handler = async (event: ScheduledEvent) => {
  const summary = await sweepTimers(new Date(event.time), catalogFromConfig());
  if (summary.due > 0) console.log('timers swept', summary);
  return summary;
};
