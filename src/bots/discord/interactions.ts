/**
 * `/iqsp` and button clicks. Every interaction is acknowledged at once (Discord allows 3 s):
 * commands with an ephemeral deferral, answered by editing it (private) or by a message in
 * the channel (public); buttons with a deferred update. What a command or a click does is the
 * inbound facade's to decide.
 */
import type { ButtonInteraction, ChatInputCommandInteraction, Interaction, ModalSubmitInteraction } from 'discord.js';
import { GuildMember, MessageFlags } from 'discord.js';
import { buttonAction, REFUSALS } from '../../core/actions.js';
import type { ButtonPress } from '../../core/inbound.js';
import type { AttachmentSource } from '../../media/service.js';
import type { Invocation, Reply } from '../../core/ports/chat.js';
import { COMMAND_NAME, commandFromOptions, MEDIA_OPTIONS } from './commands.js';
import type { DiscordDeps } from './context.js';
import { editFormPostId, editFormValues, editModal } from './edit-form.js';
import { displayName, interactionKey, invocationFor, isAdmin } from './context.js';
import { loggableError } from './errors.js';
import { interactionScope } from './port.js';
import { decodeCustomId, renderMessage } from './render.js';

export async function handleInteraction(deps: DiscordDeps, interaction: Interaction): Promise<void> {
  if (interaction.isChatInputCommand() && interaction.commandName === COMMAND_NAME) await handleCommand(deps, interaction);
  else if (interaction.isButton()) await handleButton(deps, interaction);
  else if (interaction.isModalSubmit()) await handleModalSubmit(deps, interaction);
}

/** The member who interacted, in the server the interaction came from. */
function invoker(
  interaction:
    ChatInputCommandInteraction<'cached' | 'raw'> | ButtonInteraction<'cached' | 'raw'> | ModalSubmitInteraction<'cached' | 'raw'>,
): Invocation {
  return invocationFor(
    { id: interaction.guildId, name: interaction.guild?.name },
    interaction.user,
    interaction.channelId ?? '',
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
  if (buttonAction(actionId)?.kind === 'edit') {
    await handleEditButton(deps, interaction, pressOf(interaction, actionId, value));
    return;
  }
  await interaction.deferUpdate();
  try {
    const outcome = await deps.core.inbound.button(pressOf(interaction, actionId, value));
    // A decision's outcome is said in the post's thread and shown on the approval message; the
    // confirmation was ephemeral: it is replaced with the outcome, without its button.
    if (outcome.kind === 'answered') await interaction.editReply(renderMessage(outcome.reply.message));
  } catch (error) {
    deps.logger.error({ err: loggableError(error), interaction: interaction.id, action: actionId }, 'a Discord button failed');
    await interaction.followUp({ content: REFUSALS.clickFailed, flags: MessageFlags.Ephemeral }).catch(() => undefined);
  }
}

/** A click as the inbound facade takes it. */
function pressOf(interaction: ButtonInteraction<'cached' | 'raw'>, actionId: string, value: string): ButtonPress {
  return {
    chat: 'discord',
    workspaceExternalId: interaction.guildId,
    actionId,
    value,
    messageId: interaction.message.id,
    decider: async () => ({
      userExternalId: interaction.user.id,
      userName: displayName(interaction.user, interaction.member instanceof GuildMember ? interaction.member : null),
      isBot: interaction.user.bot,
    }),
    invoker: async () => invoker(interaction),
    within: (work) => interactionScope.run(interaction, work),
  };
}

/**
 * Edit on an approval message: a modal must be the interaction's first answer, so the click is
 * not deferred; the core answers at once (a read of the post). The requester gets the modal
 * filled in; anyone else, or a post that can no longer be edited, an ephemeral answer saying why.
 */
async function handleEditButton(deps: DiscordDeps, interaction: ButtonInteraction<'cached' | 'raw'>, press: ButtonPress): Promise<void> {
  try {
    const outcome = await deps.core.inbound.button(press);
    if (outcome.kind === 'edit') {
      const modal = editModal(outcome.postId, outcome.content);
      if ('refused' in modal) await interaction.reply({ content: modal.refused, flags: MessageFlags.Ephemeral });
      else await interaction.showModal(modal);
    } else if (outcome.kind === 'answered') {
      const { content, ...rest } = renderMessage(outcome.reply.message);
      await interaction.reply({ ...rest, ...(content === null ? {} : { content }), flags: MessageFlags.Ephemeral });
    } else await interaction.deferUpdate();
  } catch (error) {
    deps.logger.error({ err: loggableError(error), interaction: interaction.id, action: press.actionId }, 'a Discord button failed');
    const failed = { content: REFUSALS.clickFailed, flags: MessageFlags.Ephemeral } as const;
    await (interaction.replied || interaction.deferred ? interaction.followUp(failed) : interaction.reply(failed)).catch(() => undefined);
  }
}

/** The edit modal submitted: the edit is the core's (Inbound.submitEditForm); its answer is ephemeral. */
async function handleModalSubmit(deps: DiscordDeps, interaction: ModalSubmitInteraction): Promise<void> {
  const postId = editFormPostId(interaction.customId);
  if (postId === undefined) return;
  if (!(await deps.core.inbound.claimDelivery(interactionKey(interaction.id)))) return;
  if (!interaction.inGuild()) {
    await interaction.reply({ content: REFUSALS.commandOutsideWorkspace, flags: MessageFlags.Ephemeral });
    return;
  }
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  try {
    const form = editFormValues(interaction.fields);
    const reply = await interactionScope.run(interaction, () => deps.core.inbound.submitEditForm(invoker(interaction), postId, form));
    await interaction.editReply(renderMessage(reply.message));
  } catch (error) {
    deps.logger.error({ err: loggableError(error), interaction: interaction.id }, 'a Discord edit form failed');
    await interaction.editReply({ content: REFUSALS.commandFailed, embeds: [], components: [] }).catch(() => undefined);
  }
}
