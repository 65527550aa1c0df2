import { Stack } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { CfnSchedule, CfnScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import { Construct } from 'constructs';
import type { Campaign } from '#shared/campaigns/campaign.ts';
import { scheduleOf } from '#shared/campaigns/run-due.ts';

/** The schedule group that holds one schedule per schedule or date campaign, each named after its campaign. */
export const campaignScheduleGroupName = 'rapport';

export interface CampaignSchedulesProps {
  campaigns: readonly Campaign[];
  /** The evaluate function: selects the campaign's audience for the scheduled time. */
  evaluate: IFunction;
}

/**
 * An EventBridge Scheduler schedule for each campaign that fires on a schedule or a date, made from the
 * catalog at synth. Each fires the evaluate function with its campaign id and its scheduled time (not
 * the time of the invocation), so that a late or repeated invocation still fires that time, once. A
 * campaign switched off keeps its schedule, disabled, so that switching it on again is a one-line change.
 */
export class CampaignSchedules extends Construct {
  /** By campaign id. */
  public readonly schedules = new Map<string, CfnSchedule>();
  /** Undefined, like the role, when no campaign fires on a schedule or date. */
  public readonly group: CfnScheduleGroup | undefined;
  public readonly role: Role | undefined;

  constructor(scope: Construct, id: string, props: CampaignSchedulesProps) {
    super(scope, id);
    const scheduled = props.campaigns.flatMap((campaign) => {
      const expression = scheduleOf(campaign);
      return expression === undefined ? [] : [{ campaign, expression }];
    });
    if (scheduled.length === 0) return;

    const group = new CfnScheduleGroup(this, 'Group', { name: campaignScheduleGroupName });
    this.group = group;
    // Only schedules of this group, in this account, may act through the role (confused deputy).
    this.role = new Role(this, 'Role', {
      description: 'EventBridge Scheduler invokes the evaluate function for campaign schedules',
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': Stack.of(this).account, 'aws:SourceArn': group.attrArn },
        },
      }),
    });
    this.role.addToPolicy(
      new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [props.evaluate.functionArn] }),
    );

    for (const { campaign, expression } of scheduled) {
      const schedule = new CfnSchedule(this, campaign.id, {
        name: campaign.id,
        groupName: group.ref,
        description: campaign.name,
        scheduleExpression: expression,
        // Campaign config writes its times in UTC, as the local scheduler reads them.
        scheduleExpressionTimezone: 'UTC',
        // On time: the evaluate function takes the scheduled time as the occurrence anyway.
        flexibleTimeWindow: { mode: 'OFF' },
        state: campaign.enabled ? 'ENABLED' : 'DISABLED',
        target: {
          arn: props.evaluate.functionArn,
          roleArn: this.role.roleArn,
          input: JSON.stringify({ campaignId: campaign.id, scheduledTime: '<aws.scheduler.scheduled-time>' }),
        },
      });
      // The role may invoke the function before the first fire.
      schedule.node.addDependency(this.role);
      this.schedules.set(campaign.id, schedule);
    }
  }
}
