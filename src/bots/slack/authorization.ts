/**
 * Which bot token speaks for a workspace: the installation stored by the multi-workspace
 * install, else the single-workspace SLACK_BOT_TOKEN (for its own workspace). Bolt calls
 * `authorize` for every incoming request; the chat port calls `forTeam` when the core speaks
 * on its own (publishing results, expiries).
 */
import type { AuthorizeResult, AuthorizeSourceData } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { InstallProvider } from '@slack/oauth';

export interface BotAuthorization extends AuthorizeResult {
  botToken: string;
}

interface SingleBot {
  botToken: string;
  botId: string | undefined;
  botUserId: string | undefined;
  teamId: string | undefined;
  enterpriseId: string | undefined;
}

export class NotAuthorizedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotAuthorizedError';
  }
}

export class SlackAuthorizer {
  private single: Promise<SingleBot> | undefined;

  constructor(
    private readonly client: WebClient,
    private readonly installer: InstallProvider | undefined,
    private readonly singleToken: string | undefined,
  ) {}

  /** auth.test once for the single token (who the bot is, which workspace), retried after a failure. */
  private singleBot(token: string): Promise<SingleBot> {
    this.single ??= this.client.auth
      .test({ token })
      .then((r) => ({
        botToken: token,
        botId: r.bot_id,
        botUserId: r.user_id,
        teamId: r.team_id,
        enterpriseId: r.enterprise_id,
      }))
      .catch((error: unknown) => {
        this.single = undefined;
        throw error;
      });
    return this.single;
  }

  readonly authorize = async (source: AuthorizeSourceData<boolean>): Promise<BotAuthorization> => {
    let installerError: unknown;
    if (this.installer) {
      try {
        const result = await this.installer.authorize(source);
        if (result.botToken) return { ...result, botToken: result.botToken };
      } catch (error) {
        installerError = error;
      }
    }
    if (this.singleToken) {
      const bot = await this.singleBot(this.singleToken);
      // The single token speaks for its own workspace only.
      if (!source.teamId || !bot.teamId || source.teamId === bot.teamId)
        return {
          botToken: bot.botToken,
          botId: bot.botId,
          botUserId: bot.botUserId,
          teamId: bot.teamId ?? source.teamId,
          enterpriseId: bot.enterpriseId,
        };
    }
    if (installerError instanceof Error) throw installerError;
    throw new NotAuthorizedError(`IQSP has no bot token for Slack workspace ${source.teamId ?? source.enterpriseId ?? '?'}`);
  };

  forTeam(teamId: string): Promise<BotAuthorization> {
    return this.authorize({ teamId, enterpriseId: undefined, isEnterpriseInstall: false });
  }
}
