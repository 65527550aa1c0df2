import { z } from 'zod';
import { fireIfDue } from '#shared/campaigns/run-due.ts';
import { catalogFromConfig } from '#shared/campaigns/runtime-catalog.ts';
import { engagementSettingsFromConfig } from '#shared/settings.ts';

/**
 * A schedule or date campaign's schedule fires: select its audience at the scheduled time and put
 * the sends on the send queue. EventBridge Scheduler passes the campaign and its scheduled time
 * (`<aws.scheduler.scheduled-time>`), so a late or repeated invocation fires that time, once.
 */
const scheduledFire = z.object({
  campaignId: z.string().min(1),
  scheduledTime: z.iso.datetime({ offset: true }),
});

export const handler = async (event: unknown) => {
  const { campaignId, scheduledTime } = scheduledFire.parse(event);
  const campaign = catalogFromConfig().campaigns.find((candidate) => candidate.id === campaignId);
  if (!campaign) throw new Error(`campaign ${campaignId} is not in this deployment's catalog`);
  const summary = await fireIfDue(campaign, new Date(scheduledTime), engagementSettingsFromConfig());
  console.log('campaign fired', summary ?? { campaignId, scheduledTime, fired: false });
  return summary ?? null;
};
