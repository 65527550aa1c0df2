import type { Command } from 'commander';
import type { SendRequest } from '#events/send-request.ts';
import { rapportConfigFileName, readEngagementSettings } from '#infra/rapport-config.ts';
import type { Campaign, Trigger } from '#shared/campaigns/campaign.ts';
import type { Catalog } from '#shared/campaigns/catalog.ts';
import { fireCampaign } from '#shared/campaigns/fire-campaign.ts';
import { reindexProfiles } from '#shared/campaigns/reindex.ts';
import { runDue } from '#shared/campaigns/run-due.ts';
import { runtimeConfig } from '#shared/config.ts';
import type { EngagementSettings } from '#shared/engagement/settings.ts';
import { parseEngagementSettings } from '#shared/engagement/settings.ts';
import { resolveProfile } from '#shared/ingest/identity.ts';
import { type RenderedMessage, renderMessage, sampleContext } from '#shared/messages/render.ts';
import { assessSend } from '#shared/send/assess.ts';
import { personalize } from '#shared/send/message-context.ts';
import { engagementSettingsFromConfig } from '#shared/settings.ts';
import { readCampaignCounters } from '#shared/store/sends.ts';
import { catalogFromFiles, findCampaign, parseTime, stackCatalog } from './catalog.ts';
import { CliError } from './errors.ts';
import { progressBar } from './progress.ts';
import { useStack } from './target.ts';

/** `rapport campaigns ...` and `rapport tick`: what marketers do with campaigns from a terminal. */
export function registerCampaignCommands(program: Command): void {
  const campaigns = program.command('campaigns').description('validate, preview, dry-run and run campaigns');

  campaigns
    .command('validate')
    .description('check every campaign, segment and template here, and render each once')
    .action(async () => {
      const settings = fileEngagementSettings();
      const catalog = catalogFromFiles(settings);
      const problems: string[] = [];
      for (const campaign of catalog.campaigns) {
        try {
          await renderMessage(catalog, campaign, sampleContext(campaign, catalog, settings, new Date()));
          console.log(
            `ok  ${campaign.id.padEnd(28)} ${describeTrigger(campaign.trigger)}${campaign.enabled ? '' : ' (disabled)'}`,
          );
        } catch (error) {
          problems.push(error instanceof Error ? error.message : String(error));
        }
      }
      if (problems.length > 0)
        throw new CliError(`templates that cannot render:\n  ${problems.join('\n  ')}`);
      console.log(`${catalog.campaigns.length} campaigns are valid`);
    });

  campaigns
    .command('preview')
    .description("render a campaign's subject, HTML and text for a real customer")
    .argument('<id>')
    .requiredOption('--customer <id>', 'a userId or a linked anonymousId')
    .option('--at <time>', 'render as of this time (default now)')
    .action(async (id: string, options: { customer: string; at?: string }) => {
      useStack();
      const settings = engagementSettingsFromConfig();
      const catalog = stackCatalog(settings);
      const campaign = findCampaign(catalog, id);
      const at = options.at ? parseTime(options.at) : new Date();
      const rendered = await renderFor(catalog, campaign, options.customer, at, settings);
      printMessage(rendered);
    });

  campaigns
    .command('dry-run')
    .description('audience size, what each guard would do, and three sample renders; nothing is sent')
    .argument('<id>')
    .option('--at <time>', 'as of this fire time (default now)')
    .action(async (id: string, options: { at?: string }) => {
      useStack();
      const settings = engagementSettingsFromConfig();
      const catalog = stackCatalog(settings);
      const campaign = findCampaign(catalog, id);
      const at = options.at ? parseTime(options.at) : new Date();
      const { requests } = await select(campaign, at, settings, true);
      const outcomes = new Map<string, number>();
      const bar = progressBar('guards');
      const samples: SendRequest[] = [];
      for (const [index, request] of requests.entries()) {
        const profile = (await resolveProfile(request.customerId)).profile;
        const verdict = profile
          ? (await assessSend(campaign, profile, at, catalog, settings)).verdict
          : undefined;
        const outcome =
          verdict === undefined
            ? 'skip: unknown customer'
            : verdict.kind === 'skip'
              ? `skip: ${verdict.reason}`
              : verdict.kind;
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
        if (verdict?.kind === 'send' && samples.length < 3) samples.push(request);
        bar.update(index + 1, requests.length);
      }
      bar.stop();
      console.log(`campaign ${campaign.id} as of ${at.toISOString()}: ${requests.length} in the audience`);
      for (const [outcome, count] of [...outcomes].sort()) console.log(`  ${outcome.padEnd(22)} ${count}`);
      for (const sample of samples) {
        console.log(`\n--- sample: ${sample.customerId} ---`);
        printMessage(await renderFor(catalog, campaign, sample.customerId, at, settings));
      }
    });

  campaigns
    .command('run')
    .description("fire a schedule or date campaign now: its audience goes on the stack's send queue")
    .argument('<id>')
    .option('--at <time>', 'the fire time (default now)')
    .action(async (id: string, options: { at?: string }) => {
      const target = useStack();
      const settings = engagementSettingsFromConfig();
      const campaign = findCampaign(stackCatalog(settings), id);
      const at = options.at ? parseTime(options.at) : new Date();
      const { selected } = await select(campaign, at, settings, false);
      console.log(
        `campaign ${campaign.id} fired as of ${at.toISOString()} on the ${target}: ${selected} sends queued; the send worker applies the guards and sends`,
      );
    });

  campaigns
    .command('reindex')
    .description(
      'bring every customer into the indexes of the schedule and date campaigns (after deploying new ones)',
    )
    .action(async () => {
      const target = useStack();
      const settings = engagementSettingsFromConfig();
      const bar = progressBar('customers');
      const summary = await reindexProfiles(stackCatalog(settings), settings, (progress) =>
        bar.update(progress.customers),
      );
      bar.stop();
      console.log(
        `indexed the ${target}: ${summary.customers} customers, ${summary.changed} changed, ${summary.skipped} changed meanwhile by ingest`,
      );
    });

  campaigns
    .command('stats')
    .description("a campaign's counted outcomes: sent, held out, deferred, failed, and skips by reason")
    .argument('<id>')
    .action(async (id: string) => {
      useStack();
      const counters = await readCampaignCounters(id);
      if (Object.keys(counters).length === 0) console.log(`campaign ${id}: nothing counted yet`);
      for (const [name, count] of Object.entries(counters)) console.log(`${name.padEnd(24)} ${count}`);
    });

  program
    .command('tick')
    .description('run every schedule, timer and deferral due as of a time, on the local stack')
    .requiredOption('--at <time>', 'e.g. 2026-12-01T09:00:00Z')
    .action(async (options: { at: string }) => {
      useStack();
      if (!runtimeConfig().RAPPORT_SEND_QUEUE_URL)
        throw new CliError('the stack has no send queue (RAPPORT_SEND_QUEUE_URL)');
      const settings = engagementSettingsFromConfig();
      const at = parseTime(options.at);
      const due = await runDue(at, stackCatalog(settings), settings);
      for (const fired of due.fired) {
        console.log(
          `fired ${fired.campaignId} for ${fired.occurrence}: ${fired.selected} of ${fired.candidates} candidates queued`,
        );
      }
      const { timers } = due;
      console.log(
        `timers due by ${at.toISOString()}: ${timers.due} (${timers.sent} sends queued, ${timers.cancelled} cancelled, ${timers.stale} moved on)`,
      );
    });
}

/** The audience at `at`, with a progress bar; queued for sending unless `dryRun`. */
async function select(
  campaign: Campaign,
  at: Date,
  settings: EngagementSettings,
  dryRun: boolean,
): Promise<{ requests: SendRequest[]; selected: number }> {
  if (campaign.trigger.kind !== 'schedule' && campaign.trigger.kind !== 'date') {
    throw new CliError(
      `campaign ${campaign.id} fires on events (${describeTrigger(campaign.trigger)}): it has no audience to select at a time; preview it for a customer instead`,
    );
  }
  const bar = progressBar('audience');
  const requests: SendRequest[] = [];
  const summary = await fireCampaign(campaign, at, settings, {
    onProgress: (progress) => bar.update(progress.candidates),
    ...(dryRun ? { collect: (found: SendRequest[]) => void requests.push(...found) } : {}),
  });
  bar.stop();
  return { requests, selected: summary.selected };
}

async function renderFor(
  catalog: Catalog,
  campaign: Campaign,
  customerId: string,
  at: Date,
  settings: EngagementSettings,
): Promise<RenderedMessage> {
  const resolved = await resolveProfile(customerId);
  if (!resolved.profile) throw new CliError(`no customer "${customerId}"`);
  const { context } = personalize({
    catalog,
    campaign,
    profileId: resolved.id,
    state: resolved.profile.state,
    occurrence: `preview@${at.toISOString()}`,
    at,
    trigger: {},
    settings,
    // Not the stack's secret: a preview's unsubscribe link must not work for the real customer.
    secret: previewSecret,
  });
  return renderMessage(catalog, campaign, context);
}

const previewSecret = 'preview only: links in a preview are signed with a key no stack accepts';

function printMessage(message: RenderedMessage): void {
  console.log(
    `Subject: ${message.subject}\n\n--- text ---\n${message.text.trim()}\n\n--- html ---\n${message.html.trim()}`,
  );
}

function describeTrigger(trigger: Trigger): string {
  switch (trigger.kind) {
    case 'schedule':
      return `schedule ${trigger.expression}`;
    case 'event':
      return `on ${trigger.event}`;
    case 'delay-unless':
      return `${trigger.after.text} after ${trigger.on.join(' or ')}${trigger.unless.length ? ` unless ${trigger.unless.join(' or ')}` : ''}`;
    case 'date':
      return `${trigger.repeat} on ${trigger.field} ${trigger.offset.text} at ${trigger.at} UTC`;
  }
}

/** The engagement settings of rapport.config.yaml here, for checking the files without a stack. */
function fileEngagementSettings(): EngagementSettings {
  const section = readEngagementSettings(rapportConfigFileName);
  return parseEngagementSettings(section ?? {}, `${rapportConfigFileName}: engagement`);
}
