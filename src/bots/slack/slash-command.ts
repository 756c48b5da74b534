/**
 * `/iqsp …`: acknowledged at once, then `post` opens the post form (post-form.ts) and every
 * other command goes to the inbound facade, answered through the command's response_url (or,
 * when that is spent, the Web API).
 */
import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { toSlackMessage } from './blocks.js';
import { botToken, firstWord, invocationOf, respondArguments, type ListenerDependencies } from './context.js';
import { openPostForm } from './post-form.js';
import { responder } from './respond.js';
import { fromSlackText } from './text.js';

export function registerSlashCommand(deps: ListenerDependencies): void {
  const { app, core, logger } = deps;
  app.command(/.*/, async ({ command, ack, context, client }: SlackCommandMiddlewareArgs & AllMiddlewareArgs) => {
    await ack();
    // Bolt's `respond` goes through fetch; this one reuses connections (respond.ts).
    const respond = responder(command.response_url);
    const token = botToken(context);
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
  });
}
