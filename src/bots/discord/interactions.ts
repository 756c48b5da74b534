/**
 * `/iqsp` and button clicks. Every interaction is acknowledged at once (Discord allows 3 s):
 * commands with an ephemeral deferral, answered by editing it (private) or by a message in
 * the channel (public); buttons with a deferred update. What a command or a click does is the
 * inbound facade's to decide.
 */
import type { ButtonInteraction, ChatInputCommandInteraction, Interaction } from 'discord.js';
import { GuildMember, MessageFlags } from 'discord.js';
import { buttonAction, REFUSALS } from '../../core/actions.js';
import type { AttachmentSource } from '../../media/service.js';
import type { Invocation, Reply } from '../../core/ports/chat.js';
import { COMMAND_NAME, commandFromOptions, MEDIA_OPTIONS } from './commands.js';
import type { DiscordDeps } from './context.js';
import { displayName, interactionKey, invocationFor, isAdmin } from './context.js';
import { loggableError } from './errors.js';
import { interactionScope } from './port.js';
import { decodeCustomId, renderMessage } from './render.js';

export async function handleInteraction(deps: DiscordDeps, interaction: Interaction): Promise<void> {
  if (interaction.isChatInputCommand() && interaction.commandName === COMMAND_NAME) await handleCommand(deps, interaction);
  else if (interaction.isButton()) await handleButton(deps, interaction);
}

/** The member who interacted, in the server the interaction came from. */
function invoker(interaction: ChatInputCommandInteraction<'cached' | 'raw'> | ButtonInteraction<'cached' | 'raw'>): Invocation {
  return invocationFor(
    { id: interaction.guildId, name: interaction.guild?.name },
    interaction.user,
    interaction.channelId,
    interaction.member instanceof GuildMember ? interaction.member : null,
    isAdmin(interaction.memberPermissions),
  );
}

async function handleCommand(deps: DiscordDeps, interaction: ChatInputCommandInteraction): Promise<void> {
  if (!(await deps.core.inbound.claimDelivery(interactionKey(interaction.id)))) return;
  if (!interaction.inGuild()) {
    await interaction.reply({ content: REFUSALS.commandOutsideWorkspace, flags: MessageFlags.Ephemeral });
    return;
  }
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  try {
    const invocation = invoker(interaction);
    const parsed = commandFromOptions(interaction.options);
    const attachments: AttachmentSource[] = MEDIA_OPTIONS.flatMap((name) => {
      const attachment = interaction.options.getAttachment(name);
      return attachment ? [{ url: attachment.url, originalName: attachment.name }] : [];
    });
    const reply: Reply = parsed.ok
      ? await interactionScope.run(interaction, () => deps.core.inbound.command(invocation, parsed.command, attachments))
      : { visibility: 'private', message: { text: parsed.message } };
    await answer(deps, interaction, reply);
  } catch (error) {
    deps.logger.error({ err: loggableError(error), interaction: interaction.id }, 'a Discord command failed');
    await interaction.editReply({ content: REFUSALS.commandFailed, embeds: [], components: [] }).catch(() => undefined);
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
  if (!buttonAction(actionId)) return;
  if (!(await deps.core.inbound.claimDelivery(interactionKey(interaction.id)))) return;
  if (!interaction.inGuild()) {
    await interaction.reply({ content: REFUSALS.commandOutsideWorkspace, flags: MessageFlags.Ephemeral });
    return;
  }
  await interaction.deferUpdate();
  try {
    const outcome = await deps.core.inbound.button({
      chat: 'discord',
      workspaceExternalId: interaction.guildId,
      actionId,
      value,
      decider: async () => ({
        userExternalId: interaction.user.id,
        userName: displayName(interaction.user, interaction.member instanceof GuildMember ? interaction.member : null),
        isBot: interaction.user.bot,
      }),
      invoker: async () => invoker(interaction),
      within: (work) => interactionScope.run(interaction, work),
    });
    // A decision's outcome is said in the post's thread and shown on the approval message; the
    // confirmation was ephemeral: it is replaced with the outcome, without its button.
    if (outcome.kind === 'answered') await interaction.editReply(renderMessage(outcome.reply.message));
  } catch (error) {
    deps.logger.error({ err: loggableError(error), interaction: interaction.id, action: actionId }, 'a Discord button failed');
    await interaction.followUp({ content: REFUSALS.clickFailed, flags: MessageFlags.Ephemeral }).catch(() => undefined);
  }
}
