/**
 * Messages that mention the bot: `@IQSP post x,facebook Our launch` with attachments does what
 * `/iqsp post` does, and every other command works the same way. A message has no ephemeral
 * answer, so private replies go by DM; public ones reply to the message.
 */
import type { Message } from 'discord.js';
import { RESTJSONErrorCodes } from 'discord.js';
import type { AttachmentSource } from '../../media/service.js';
import type { DiscordDeps } from './context.js';
import { invocationFor, isAdmin, messageKey } from './context.js';
import { REFUSALS } from '../../core/actions.js';
import { mention, rich } from '../../core/ports/rich-text.js';
import { discordErrorCode, loggableError } from './errors.js';
import { newMessage } from './render.js';

/** The command text of a message addressed to the bot (by user mention or by its managed role), or undefined. */
export function commandText(message: Message, botId: string): string | undefined {
  const botRole = message.inGuild() ? message.guild.roles.botRoleFor(botId) : null;
  const patterns = [`<@${botId}>`, `<@!${botId}>`, ...(botRole ? [`<@&${botRole.id}>`] : [])];
  if (!patterns.some((p) => message.content.includes(p))) return undefined;
  let text = message.content;
  for (const p of patterns) text = text.split(p).join(' ');
  return text.trim();
}

export async function handleMessage(deps: DiscordDeps, message: Message): Promise<void> {
  const botId = deps.client.user?.id;
  if (!botId || message.author.bot || message.system) return;
  if (!message.inGuild()) {
    // A DM to the bot: there is no server to act in.
    if (!(await deps.core.inbound.claimDelivery(messageKey(message.id)))) return;
    if (message.channel.isSendable()) await message.channel.send(REFUSALS.messageOutsideWorkspace);
    return;
  }
  const text = commandText(message, botId);
  if (text === undefined) return;
  if (!(await deps.core.inbound.claimDelivery(messageKey(message.id)))) return;

  const member = message.member ?? (await message.guild.members.fetch(message.author.id).catch(() => null));
  const invocation = invocationFor(message.guild, message.author, message.channelId, member, isAdmin(member?.permissions));
  const attachments: AttachmentSource[] = message.attachments.map((a) => ({ url: a.url, originalName: a.name }));
  const reply = await deps.core.inbound.text(invocation, text, attachments);
  if (reply.visibility === 'channel') {
    await message.reply(newMessage(reply.message));
    return;
  }
  try {
    await deps.port.sendPrivate(
      { chat: 'discord', workspaceExternalId: message.guildId, userExternalId: message.author.id },
      reply.message,
    );
  } catch (error) {
    if (discordErrorCode(error) !== RESTJSONErrorCodes.CannotSendMessagesToThisUser) throw error;
    deps.logger.info({ err: loggableError(error), user: message.author.id }, 'could not DM a private reply');
    // Never the private text in the channel: say how to get it.
    await message.reply(
      newMessage({
        text: rich`${mention(message.author.id)}, I could not send you a direct message. Allow DMs from this server's members, or use /iqsp, which answers privately.`,
      }),
    );
  }
}
