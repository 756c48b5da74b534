/**
 * `/iqsp …`: acknowledged at once, then `post` opens the post form (post-form.ts) and every
 * other command goes to the inbound facade, answered through the command's response_url (or,
 * when that is spent, the Web API).
 */
import type { AllMiddlewareArgs, AuthorizeResult, AuthorizeSourceData, SlackCommandMiddlewareArgs, SlashCommand } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { toSlackMessage } from './blocks.js';
import { botToken, firstWord, invocationOf, respondArguments, type ListenerDependencies } from './context.js';
import { openPostForm } from './post-form.js';
import { responder } from './respond.js';
import { fromSlackText } from './text.js';

export function registerSlashCommand(deps: ListenerDependencies): void {
  // Socket Mode delivers commands through Bolt; over HTTP the receiver runs them itself (slashCommandRunner).
  deps.app.command(/.*/, async ({ command, ack, context, client }: SlackCommandMiddlewareArgs & AllMiddlewareArgs) => {
    await ack();
    await runSlashCommand(deps, command, botToken(context), client);
  });
}

/**
 * Slash commands the HTTP receiver acknowledged itself, run without Bolt's middleware chain:
 * Bolt matched every command against each of the app's listeners, a sixth of the CPU time and a
 * quarter of the memory allocated per command (bench/slack-ack.mjs, CPU and heap profiles). A
 * command needs only its workspace's bot token, asked of `authorize` with what Bolt would give it
 * (team, enterprise, user, channel), and a Web API client for that workspace (every call names
 * its token; the client adds `team_id`, as Bolt's does). A workspace that cannot be authorised
 * runs nothing, as with Bolt (which logs it, then acknowledges).
 */
export function slashCommandRunner(
  deps: ListenerDependencies,
  authorize: (source: AuthorizeSourceData<boolean>) => Promise<AuthorizeResult>,
  /** A Web API client that names the workspace (`team_id`) in its calls, as Bolt's per-workspace clients do. */
  clientFor: (teamId: string | undefined) => WebClient,
): (command: SlashCommand) => Promise<void> {
  return async (command) => {
    const source: AuthorizeSourceData<boolean> = {
      teamId: command.team_id,
      enterpriseId: command.enterprise_id,
      userId: command.user_id,
      conversationId: command.channel_id,
      isEnterpriseInstall: command.is_enterprise_install === 'true',
    };
    let authorization: AuthorizeResult;
    let token: string;
    try {
      authorization = await authorize(source);
      token = botToken(authorization);
    } catch (error) {
      deps.logger.error({ err: error, teamId: source.teamId }, 'a Slack command was not run: its workspace could not be authorised');
      return;
    }
    // The workspace the calls are about: an org-wide (Enterprise Grid) token needs it named.
    await runSlashCommand(deps, command, token, clientFor(authorization.teamId ?? source.teamId));
  };
}

/** `/iqsp …` after its ack: `post` opens the post form, anything else goes to the core and is answered. */
async function runSlashCommand(deps: ListenerDependencies, command: SlashCommand, token: string, client: WebClient): Promise<void> {
  const { core, logger } = deps;
  // Bolt's `respond` goes through fetch; this one reuses connections (respond.ts).
  const respond = responder(command.response_url);
  const text = fromSlackText(command.text ?? '');
  if (firstWord(text) === 'post') {
    await openPostForm(
      deps,
      client,
      token,
      {
        teamId: command.team_id,
        channelId: command.channel_id,
        triggerId: command.trigger_id,
        userId: command.user_id,
        userName: command.user_name,
      },
      text,
      respond,
    );
    return;
  }
  const who = await invocationOf(deps, token, command.team_id, command.user_id, command.channel_id, command.user_name);
  const reply = await core.inbound.text(who, text);
  try {
    await respond(respondArguments(reply));
  } catch (error) {
    // The response_url can be spent or expired; say it another way.
    logger.warn({ err: error }, 'response_url failed; replying through the Web API');
    const message = toSlackMessage(reply.message);
    if (reply.visibility === 'private')
      await client.chat.postEphemeral({ token, channel: command.channel_id, user: command.user_id, ...message });
    else await client.chat.postMessage({ token, channel: command.channel_id, ...message });
  }
}
