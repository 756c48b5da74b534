/**
 * The ChatPort over discord.js: channel messages, threads started from the approval message,
 * edits, private messages as DMs (or, when the user blocks DMs from the server and is in the
 * middle of a slash command, as an ephemeral follow-up of that command), and the ✅/❌ on an
 * approval message read back from the REST API.
 */

/** Discord's page size for the users of a reaction (GET …/reactions/{emoji}, `limit` 1–100). */
const REACTION_USERS_PAGE = 100;
import { AsyncLocalStorage } from 'node:async_hooks';
import type {
  APIMessage,
  APIUser,
  BaseMessageOptions,
  ChatInputCommandInteraction,
  Client,
  Message,
  MessageComponentInteraction,
  ModalSubmitInteraction,
  SendableChannels,
  ThreadChannel,
} from 'discord.js';
import {
  AttachmentBuilder,
  ChannelType,
  DiscordAPIError,
  MessageFlags,
  RESTJSONErrorCodes,
  Routes,
  ThreadAutoArchiveDuration,
} from 'discord.js';
import type { Logger } from '../../observability/logger.js';
import type { ChatFile, ChatMessage, ChatPort, ChatUserRef, MessageRef, ReactionOnMessage } from '../../core/ports/chat.js';
import { discordErrorCode, loggableError } from './errors.js';
import { APPROVE_EMOJI, isApprovalMessage, newMessage, REJECT_EMOJI, renderMessage, threadName } from './render.js';

type RepliableInteraction = ChatInputCommandInteraction | MessageComponentInteraction | ModalSubmitInteraction;

/** The interaction being answered, so a private message to its user can fall back to an ephemeral follow-up. */
export const interactionScope = new AsyncLocalStorage<RepliableInteraction>();

/** Where replies about a message go: its thread, or (where threads cannot exist) replies in its channel. */
type ThreadTarget = { kind: 'thread'; thread: ThreadChannel } | { kind: 'replies'; channel: SendableChannels; messageId: string };

export class DiscordChatPort implements ChatPort {
  readonly chat = 'discord' as const;
  private readonly startingThreads = new Map<string, Promise<ThreadTarget>>();

  constructor(
    private client: Client,
    private readonly logger: Logger,
  ) {}

  /** Speaks through `client` from now on (the gateway replaced a client that cannot log in again). */
  useClient(client: Client): void {
    this.client = client;
  }

  async sendPrivate(user: ChatUserRef, message: ChatMessage): Promise<void> {
    await this.direct(user, newMessage(message));
  }

  async sendFilePrivately(user: ChatUserRef, file: ChatFile): Promise<void> {
    const attachment = new AttachmentBuilder(Buffer.from(file.content, 'utf8'), {
      name: file.filename,
      description: file.comment.slice(0, 1024),
    });
    await this.direct(user, { content: file.comment, files: [attachment] });
  }

  private async direct(user: ChatUserRef, payload: BaseMessageOptions): Promise<void> {
    try {
      const dm = await this.client.users.createDM(user.userExternalId);
      await dm.send(payload);
    } catch (error) {
      const interaction = interactionScope.getStore();
      // 50007: the user does not accept DMs from this server's members.
      if (discordErrorCode(error) !== RESTJSONErrorCodes.CannotSendMessagesToThisUser || interaction?.user.id !== user.userExternalId)
        throw error;
      await interaction.followUp({ ...payload, flags: MessageFlags.Ephemeral });
    }
  }

  /**
   * A guild channel by id, from the cache or Discord's REST API. A process without the gateway
   * (`serve --role worker`, `iqsp cleanup`) has no guild in its cache, and discord.js resolves no
   * channel, message or thread of an unknown guild: the guild is fetched first.
   */
  private async fetchChannel(guildId: string, channelId: string) {
    if (!this.client.guilds.cache.has(guildId)) await this.client.guilds.fetch(guildId);
    return this.client.channels.fetch(channelId);
  }

  private async sendable(guildId: string, channelId: string): Promise<SendableChannels> {
    const channel = await this.fetchChannel(guildId, channelId);
    if (!channel?.isSendable()) throw new Error(`Discord channel ${channelId} does not take messages`);
    return channel;
  }

  async postInChannel(workspaceExternalId: string, channelId: string, message: ChatMessage): Promise<MessageRef> {
    const channel = await this.sendable(workspaceExternalId, channelId);
    const sent = await channel.send(newMessage(message));
    // Not awaited: the core stores the message id as soon as this returns, and Discord paces
    // reactions (about one per 250 ms), so an approver's click on the seeded ✅ finds the post.
    if (isApprovalMessage(message)) void this.seedReactions(sent);
    return { workspaceExternalId, channelId, messageId: sent.id };
  }

  /** ✅ and ❌ on the approval message, so approvers only need to click. The bot's own reactions never count. */
  private async seedReactions(message: Message): Promise<void> {
    try {
      await message.react(APPROVE_EMOJI);
      await message.react(REJECT_EMOJI);
    } catch (error) {
      this.logger.warn(
        { err: loggableError(error), messageId: message.id },
        'could not add the ✅/❌ reactions (missing Add Reactions permission?)',
      );
    }
  }

  async replyInThread(parent: MessageRef, message: ChatMessage): Promise<MessageRef> {
    const target = await this.threadOf(parent);
    const payload = newMessage(message);
    if (target.kind === 'thread') {
      const sent = await target.thread.send(payload);
      return {
        workspaceExternalId: parent.workspaceExternalId,
        channelId: parent.channelId,
        messageId: sent.id,
        threadId: target.thread.id,
      };
    }
    const sent = await target.channel.send({ ...payload, reply: { messageReference: target.messageId, failIfNotExists: false } });
    return { workspaceExternalId: parent.workspaceExternalId, channelId: parent.channelId, messageId: sent.id };
  }

  async updateMessage(ref: MessageRef, message: ChatMessage): Promise<void> {
    // A thread started from a message has that message's id; a different thread id means the message is inside the thread.
    const channelId = ref.threadId && ref.threadId !== ref.messageId ? ref.threadId : ref.channelId;
    const channel = await this.fetchChannel(ref.workspaceExternalId, channelId);
    if (!channel?.isTextBased()) throw new Error(`Discord channel ${channelId} has no messages`);
    const { content, embeds, components } = renderMessage(message);
    await channel.messages.edit(ref.messageId, { content, embeds, components });
  }

  /**
   * The message fetched from the API, not the cache (the events that would have updated the
   * cache were missed): its `reactions` give each emoji's count and whether the bot is among
   * them; the users of ✅ and ❌ are then read page by page. An emoji only the bot put there
   * (the seeded ones) costs no further request.
   */
  /**
   * Read over raw REST, not discord.js structures: a process without the gateway (`iqsp cleanup`,
   * a worker) has no `client.user`, and discord.js cannot build a reaction the bot gave without it.
   */
  async approvalReactions(ref: MessageRef): Promise<ReactionOnMessage[]> {
    const message = (await this.client.rest.get(Routes.channelMessage(ref.channelId, ref.messageId))) as APIMessage;
    const found: ReactionOnMessage[] = [];
    for (const [emoji, decision] of [
      [APPROVE_EMOJI, 'approve'],
      [REJECT_EMOJI, 'reject'],
    ] as const) {
      const reaction = message.reactions?.find((r) => r.emoji.id === null && r.emoji.name === emoji);
      if (!reaction || reaction.count <= (reaction.me ? 1 : 0)) continue;
      for (const user of await this.reactionUsers(ref, emoji))
        found.push({
          decision,
          userExternalId: user.id,
          userName: user.global_name ?? user.username,
          isBot: user.bot === true || user.id === this.client.user?.id,
        });
    }
    return found;
  }

  /**
   * Every ✅ on the approval message removed (DELETE …/reactions/{emoji}, which needs Manage
   * Messages), then the bot's own ✅ put back so approvers still only click. Without the
   * permission (403) they stay: the thread's notice says approvals start over and the approval
   * message shows the counted number, and a ✅ given before the edit is recorded as stale.
   */
  async clearApprovals(ref: MessageRef): Promise<void> {
    const route = Routes.channelMessageReaction(ref.channelId, ref.messageId, encodeURIComponent(APPROVE_EMOJI));
    try {
      await this.client.rest.delete(route);
    } catch (error) {
      // 50013 Missing Permissions (or 50001 Missing Access): both 403.
      if (!(error instanceof DiscordAPIError && error.status === 403)) throw error;
      this.logger.warn(
        { err: loggableError(error), messageId: ref.messageId },
        'could not clear the ✅ on an edited post’s approval message (missing Manage Messages permission?)',
      );
      return;
    }
    try {
      await this.client.rest.put(Routes.channelMessageOwnReaction(ref.channelId, ref.messageId, encodeURIComponent(APPROVE_EMOJI)));
    } catch (error) {
      this.logger.warn(
        { err: loggableError(error), messageId: ref.messageId },
        'could not put the ✅ back on an edited post’s approval message',
      );
    }
  }

  private async reactionUsers(ref: MessageRef, emoji: string): Promise<APIUser[]> {
    const users: APIUser[] = [];
    for (let after: string | undefined; ;) {
      // type 0: normal reactions (super reactions are listed apart).
      const query = new URLSearchParams({ type: '0', limit: String(REACTION_USERS_PAGE), ...(after ? { after } : {}) });
      const page = (await this.client.rest.get(Routes.channelMessageReaction(ref.channelId, ref.messageId, encodeURIComponent(emoji)), {
        query,
      })) as APIUser[];
      users.push(...page);
      if (page.length < REACTION_USERS_PAGE) return users;
      after = page.at(-1)!.id;
    }
  }

  /** The thread for replies about `parent`, started from it on first use (one start at a time per message). */
  private threadOf(parent: MessageRef): Promise<ThreadTarget> {
    const threadId = parent.threadId ?? parent.messageId;
    const cached = this.client.channels.cache.get(threadId);
    if (cached?.isThread()) return Promise.resolve({ kind: 'thread', thread: cached });
    let pending = this.startingThreads.get(threadId);
    if (!pending) {
      pending = this.findOrStartThread(parent, threadId).finally(() => this.startingThreads.delete(threadId));
      this.startingThreads.set(threadId, pending);
    }
    return pending;
  }

  private async findOrStartThread(parent: MessageRef, threadId: string): Promise<ThreadTarget> {
    if (threadId !== parent.messageId) return { kind: 'thread', thread: await this.fetchThread(parent.workspaceExternalId, threadId) };
    const channel = await this.sendable(parent.workspaceExternalId, parent.channelId);
    if (channel.type !== ChannelType.GuildText && channel.type !== ChannelType.GuildAnnouncement)
      return { kind: 'replies', channel, messageId: parent.messageId };
    // The starter is read over raw REST: discord.js cannot build a message carrying the bot's
    // own reaction in a process without the gateway (no `client.user`: `iqsp cleanup`, a worker).
    const starter = (await this.client.rest.get(Routes.channelMessage(parent.channelId, parent.messageId))) as APIMessage;
    if (starter.thread) return { kind: 'thread', thread: await this.fetchThread(parent.workspaceExternalId, starter.thread.id) };
    try {
      const name = threadName({
        content: starter.content,
        embeds: starter.embeds.map((e) => ({ fields: e.fields ?? [], description: e.description ?? null })),
      });
      const thread = await channel.threads.create({
        startMessage: parent.messageId,
        name,
        autoArchiveDuration: ThreadAutoArchiveDuration.OneWeek,
      });
      return { kind: 'thread', thread };
    } catch (error) {
      // Another instance (or an earlier run) started it first.
      if (discordErrorCode(error) === RESTJSONErrorCodes.ThreadAlreadyCreatedForMessage)
        return { kind: 'thread', thread: await this.fetchThread(parent.workspaceExternalId, threadId) };
      throw error;
    }
  }

  private async fetchThread(guildId: string, threadId: string): Promise<ThreadChannel> {
    const channel = await this.fetchChannel(guildId, threadId);
    if (!channel?.isThread()) throw new Error(`Discord channel ${threadId} is not a thread`);
    return channel;
  }
}
