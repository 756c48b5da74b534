/**
 * The app's life in a workspace: `app_uninstalled` and `tokens_revoked` delete the installation,
 * and on `app_uninstalled` the inbound facade removes the workspace (its tokens at once, the
 * rest of its data after the retention).
 */
import type { Context } from '@slack/bolt';
import { teamOf, type ListenerDependencies } from './context.js';

export function registerLifecycle(deps: ListenerDependencies): void {
  const { app, core, logger } = deps;

  async function forgetInstallation(context: Context, reason: string): Promise<void> {
    if (!deps.installations) {
      logger.info({ teamId: context.teamId, reason }, 'Slack says the app lost access (single-workspace mode: nothing is stored)');
      return;
    }
    await deps.installations.deleteInstallation({
      teamId: context.isEnterpriseInstall ? undefined : context.teamId,
      enterpriseId: context.enterpriseId,
      isEnterpriseInstall: context.isEnterpriseInstall,
    });
    logger.info({ teamId: context.teamId, enterpriseId: context.enterpriseId, reason }, 'Slack installation deleted');
  }

  app.event('app_uninstalled', async ({ context, body }) => {
    await forgetInstallation(context, 'app_uninstalled');
    const teamId = teamOf(context, body);
    if (teamId) await core.inbound.workspaceRemoved({ chat: 'slack', workspaceExternalId: teamId }, 'app_uninstalled');
  });
  app.event('tokens_revoked', async ({ event, context }) => {
    // Only the bot token matters: that is what an installation holds.
    if ((event.tokens.bot ?? []).length > 0) await forgetInstallation(context, 'tokens_revoked');
  });

  app.error(async (error) => {
    logger.error({ err: error }, 'a Slack request failed after it was acknowledged');
  });
}
