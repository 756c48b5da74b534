/**
 * The core's ChatPort in Slack: private words go to the user's DM with the app (the core
 * speaks privately outside any command, e.g. "connected"), files through Slack's external
 * upload (files.getUploadURLExternal → upload → files.completeUploadExternal), channel
 * messages and thread replies through chat.postMessage (`thread_ts`), updates through
 * chat.update, reactions read back through reactions.get, the Home tab shown again through
 * views.publish (home-tab.ts). Each call uses the bot token of the workspace it is about.
 */
import type { WebClient } from '@slack/web-api';
import type { ChatFile, ChatMessage, ChatPort, ChatUserRef, MessageRef, ReactionOnMessage } from '../../core/ports/chat.js';
import type { SlackAuthorizer } from './authorization.js';
import { toSlackMessage, type SlackMessage } from './blocks.js';
import type { HomeTab } from './home-tab.js';
import type { SlackPeople } from './people.js';
import { markOfReaction } from './reactions.js';

/**
 * Slack's answer when a block is refused, as when it cannot fetch an image block's URL
 * ("downloading image failed": PUBLIC_URL is not reachable from Slack).
 */
function isInvalidBlocks(error: unknown): boolean {
  return (error as { data?: { error?: string } }).data?.error === 'invalid_blocks';
}

export class SlackChatPort implements ChatPort {
  readonly chat = 'slack' as const;
  private readonly dmChannels = new Map<string, string>();

  constructor(
    private readonly client: WebClient,
    private readonly auth: SlackAuthorizer,
    /** Who reacted (bot or person, name), for reactions read back. */
    private readonly people?: SlackPeople,
    /** The Home tab, refreshed when posts change. */
    private readonly home?: HomeTab,
  ) {}

  /**
   * The Home tab is published again, after a short debounce, for the people of the workspace
   * who opened it lately on this instance (Slack sends `app_home_opened` to one instance only;
   * home-tab.ts says why that is enough). Never throws: refresh errors are logged.
   */
  postsChanged(workspaceExternalId: string): void {
    this.home?.postsChanged(workspaceExternalId);
  }

  private async token(teamId: string): Promise<string> {
    return (await this.auth.forTeam(teamId)).botToken;
  }

  /** Sends a message with its preview image; when Slack cannot fetch the image, sends it without. */
  private async withImageFallback<T>(message: ChatMessage, send: (rendered: SlackMessage) => Promise<T>): Promise<T> {
    try {
      return await send(toSlackMessage(message));
    } catch (error) {
      if (!message.imageUrl || !isInvalidBlocks(error)) throw error;
      return send(toSlackMessage(message, { withImage: false }));
    }
  }

  private async directChannel(token: string, teamId: string, userId: string): Promise<string> {
    const key = `${teamId}:${userId}`;
    const known = this.dmChannels.get(key);
    if (known) return known;
    const opened = await this.client.conversations.open({ token, users: userId });
    const id = opened.channel?.id;
    if (!id) throw new Error(`Slack did not open a direct message with ${userId}`);
    this.dmChannels.set(key, id);
    return id;
  }

  async sendPrivate(user: ChatUserRef, message: ChatMessage): Promise<void> {
    const token = await this.token(user.workspaceExternalId);
    const channel = await this.directChannel(token, user.workspaceExternalId, user.userExternalId);
    await this.withImageFallback(message, (m) => this.client.chat.postMessage({ token, channel, ...m }));
  }

  async sendFilePrivately(user: ChatUserRef, file: ChatFile): Promise<void> {
    const token = await this.token(user.workspaceExternalId);
    const channel = await this.directChannel(token, user.workspaceExternalId, user.userExternalId);
    await this.client.filesUploadV2({
      token,
      channel_id: channel,
      filename: file.filename,
      title: file.filename,
      file: Buffer.from(file.content, 'utf8'),
      initial_comment: file.comment,
    });
  }

  async postInChannel(workspaceExternalId: string, channelId: string, message: ChatMessage): Promise<MessageRef> {
    const token = await this.token(workspaceExternalId);
    const result = await this.withImageFallback(message, (m) => this.client.chat.postMessage({ token, channel: channelId, ...m }));
    if (!result.ts) throw new Error('Slack did not return the timestamp of the posted message');
    return { workspaceExternalId, channelId: result.channel ?? channelId, messageId: result.ts };
  }

  async replyInThread(parent: MessageRef, message: ChatMessage): Promise<MessageRef> {
    const token = await this.token(parent.workspaceExternalId);
    const threadTs = parent.threadId ?? parent.messageId;
    const result = await this.withImageFallback(message, (m) =>
      this.client.chat.postMessage({ token, channel: parent.channelId, thread_ts: threadTs, ...m }),
    );
    if (!result.ts) throw new Error('Slack did not return the timestamp of the thread reply');
    return { workspaceExternalId: parent.workspaceExternalId, channelId: parent.channelId, messageId: result.ts, threadId: threadTs };
  }

  async updateMessage(ref: MessageRef, message: ChatMessage): Promise<void> {
    const token = await this.token(ref.workspaceExternalId);
    await this.withImageFallback(message, (m) => this.client.chat.update({ token, channel: ref.channelId, ts: ref.messageId, ...m }));
  }

  /**
   * reactions.get with `full` (otherwise Slack may cut each reaction's list of users short).
   * Slack names users only by id: users.info tells bots from people, and the app's own bot user
   * is a bot whatever users.info says.
   */
  async approvalReactions(ref: MessageRef): Promise<ReactionOnMessage[]> {
    const auth = await this.auth.forTeam(ref.workspaceExternalId);
    const token = auth.botToken;
    const result = await this.client.reactions.get({ token, channel: ref.channelId, timestamp: ref.messageId, full: true });
    const found: ReactionOnMessage[] = [];
    for (const reaction of result.message?.reactions ?? []) {
      const decision = markOfReaction(reaction.name ?? '');
      if (!decision) continue;
      for (const user of reaction.users ?? []) {
        if (found.some((f) => f.userExternalId === user && f.decision === decision)) continue; // two skin tones
        const person = this.people ? await this.people.lookup(token, ref.workspaceExternalId, user) : undefined;
        found.push({
          decision,
          userExternalId: user,
          userName: person?.name,
          isBot: user === auth.botUserId || (person?.isBot ?? false),
          isOutsider: person?.isOutsider,
        });
      }
    }
    return found;
  }
}
