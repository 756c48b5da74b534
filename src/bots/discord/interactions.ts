/**
 * `/iqsp` and button clicks. Every interaction is acknowledged at once (Discord allows 3 s):
 * commands with an ephemeral deferral, answered by editing it (private) or by a message in
 * the channel (public); buttons with a deferred update.
 */
import type { ButtonInteraction, ChatInputCommandInteraction, Interaction } from 'discord.js';
import { GuildMember, MessageFlags } from 'discord.js';
import type { AttachmentSource } from '../../media/service.js';
import type { Reply } from '../../core/ports/chat.js';
import { COMMAND_NAME, commandFromOptions, MEDIA_OPTIONS } from './commands.js';
import type { DiscordDeps } from './context.js';
import { firstDelivery, invocationFor, isAdmin } from './context.js';
import { loggableError } from './errors.js';
import { interactionScope } from './port.js';
import { APPROVE_ACTION, decodeCustomId, REJECT_ACTION, renderMessage } from './render.js';

export const DELETE_MY_DATA_CONFIRM_ACTION = 'delete_my_data_confirm';
const SERVER_ONLY = 'IQSP works in server channels: use /iqsp there.';

export async function handleInteraction(deps: DiscordDeps, interaction: Interaction): Promise<void> {
  if (interaction.isChatInputCommand() && interaction.commandName === COMMAND_NAME) await handleCommand(deps, interaction);
  else if (interaction.isButton()) await handleButton(deps, interaction);
}

async function handleCommand(deps: DiscordDeps, interaction: ChatInputCommandInteraction): Promise<void> {
  if (!(await firstDelivery(deps.db, `discord:interaction:${interaction.id}`))) return;
  if (!interaction.inGuild()) {
    await interaction.reply({ content: SERVER_ONLY, flags: MessageFlags.Ephemeral });
    return;
  }
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  try {
    const invocation = invocationFor(
      { id: interaction.guildId, name: interaction.guild?.name },
      interaction.user,
      interaction.channelId,
      interaction.member instanceof GuildMember ? interaction.member : null,
      isAdmin(interaction.memberPermissions),
    );
    const parsed = commandFromOptions(interaction.options);
    const attachments: AttachmentSource[] = MEDIA_OPTIONS.flatMap((name) => {
      const attachment = interaction.options.getAttachment(name);
      return attachment ? [{ url: attachment.url, originalName: attachment.name }] : [];
    });
    const reply: Reply = parsed.ok
      ? await interactionScope.run(interaction, () => deps.core.commands.run(invocation, parsed.command, attachments))
      : { visibility: 'private', message: { text: parsed.message } };
    await answer(deps, interaction, reply);
  } catch (error) {
    deps.logger.error({ err: loggableError(error), interaction: interaction.id }, 'a Discord command failed');
    await interaction
      .editReply({ content: 'Sorry, IQSP could not answer that command. Try again in a minute.', embeds: [], components: [] })
      .catch(() => undefined);
  }
}

/** A private reply edits the ephemeral deferral; a public one is posted in the channel and the deferral removed. */
async function answer(deps: DiscordDeps, interaction: ChatInputCommandInteraction<'cached' | 'raw'>, reply: Reply): Promise<void> {
  if (reply.visibility === 'private') {
    await interaction.editReply(renderMessage(reply.message));
    return;
  }
  try {
    await deps.port.postInChannel(interaction.guildId, interaction.channelId, reply.message);
  } catch (error) {
    // The command took effect; if the bot may not write in this channel, the invoker still learns the outcome.
    deps.logger.warn({ err: loggableError(error), channel: interaction.channelId }, 'could not post a public answer in the channel');
    await interaction.editReply(renderMessage(reply.message));
    return;
  }
  await interaction.deleteReply();
}

async function handleButton(deps: DiscordDeps, interaction: ButtonInteraction): Promise<void> {
  const { actionId, value } = decodeCustomId(interaction.customId);
  if (actionId !== APPROVE_ACTION && actionId !== REJECT_ACTION && actionId !== DELETE_MY_DATA_CONFIRM_ACTION) return;
  if (!(await firstDelivery(deps.db, `discord:interaction:${interaction.id}`))) return;
  if (!interaction.inGuild()) {
    await interaction.reply({ content: SERVER_ONLY, flags: MessageFlags.Ephemeral });
    return;
  }
  await interaction.deferUpdate();
  const member = interaction.member instanceof GuildMember ? interaction.member : null;
  try {
    if (actionId === DELETE_MY_DATA_CONFIRM_ACTION) {
      const invocation = invocationFor(
        { id: interaction.guildId, name: interaction.guild?.name },
        interaction.user,
        interaction.channelId,
        member,
        isAdmin(interaction.memberPermissions),
      );
      const reply = await interactionScope.run(interaction, () =>
        deps.core.commands.run(invocation, { kind: 'delete-my-data', confirmed: true }),
      );
      // The confirmation was ephemeral: replace it with the outcome, without its button.
      await interaction.editReply(renderMessage(reply.message));
      return;
    }
    // The outcome is said in the post's thread and shown on the approval message.
    await deps.core.posts.decideOnPost(value, {
      chat: 'discord',
      workspaceExternalId: interaction.guildId,
      userExternalId: interaction.user.id,
      userName: member?.displayName ?? interaction.user.globalName ?? interaction.user.username,
      isBot: interaction.user.bot,
      decision: actionId === APPROVE_ACTION ? 'approve' : 'reject',
      via: 'button',
    });
  } catch (error) {
    deps.logger.error({ err: loggableError(error), interaction: interaction.id, action: actionId }, 'a Discord button failed');
    await interaction
      .followUp({ content: 'Sorry, IQSP could not handle that click. Try again in a minute.', flags: MessageFlags.Ephemeral })
      .catch(() => undefined);
  }
}
