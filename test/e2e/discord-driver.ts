/**
 * Discord as the child process sees it: the fake REST API and gateway
 * (src/simulators/discord/) its discord.js client connects to. People act through the
 * gateway (INTERACTION_CREATE, MESSAGE_CREATE, MESSAGE_REACTION_ADD); what the bot says is
 * read back from the fake's channels, threads, DMs and interaction answers.
 */
import type { APIAttachment, APIMessage, APIUser } from 'discord.js';
import { snowflake, startDiscordSimulator, type DiscordSimulator, type InteractionRecord } from '../simulators/discord/index.js';
import { waitFor } from './service.js';

export interface DiscordApproval {
  postId: string;
  message: APIMessage;
  /** The preview (a /media/:token URL of the service). */
  imageUrl: string | undefined;
}

export class DiscordDriver {
  private constructor(readonly sim: DiscordSimulator) {}

  static async start(): Promise<DiscordDriver> {
    return new DiscordDriver(await startDiscordSimulator());
  }

  env(): Record<string, string> {
    return { DISCORD_TOKEN: this.sim.token, DISCORD_APPLICATION_ID: this.sim.world.applicationId, DISCORD_API_URL: this.sim.apiUrl };
  }

  get people() {
    return this.sim.world.people;
  }

  get channelId(): string {
    return this.sim.world.channelId;
  }

  /** A member of the server (before the bot connects, so its server snapshot has them). */
  addMember(username: string, globalName: string): APIUser {
    const user: APIUser = { id: snowflake(), username, discriminator: '0', global_name: globalName, avatar: null };
    this.sim.world.addMember(user, []);
    return user;
  }

  /** An attachment on the fake's host, as cdn.discordapp.com serves them. */
  attachment(filename: string, contentType: string, bytes: Buffer, size?: { width: number; height: number }): APIAttachment {
    return this.sim.attachment(filename, contentType, bytes, size);
  }

  // ---- what people do -----------------------------------------------------------------------

  /**
   * `/iqsp <sub>` with options and attachment options; resolves with its answer: the edited
   * ephemeral reply, or, for an answer meant for everyone, the bot's message in the channel.
   */
  async command(
    user: APIUser,
    subcommand: string,
    options: Record<string, string | number | boolean> = {},
    attachments: Record<string, APIAttachment> = {},
  ): Promise<{ record: InteractionRecord; text: string }> {
    const channelBefore = this.sim.botMessages(this.channelId).length;
    const record = await this.sim.answered(this.sim.commandInteraction(user, subcommand, options, attachments));
    if (!record.originalDeleted) return { record, text: record.original ? textOf(record.original) : '' };
    const [posted] = this.sim.botMessages(this.channelId).slice(channelBefore);
    return { record, text: posted ? textOf(posted) : '' };
  }

  /** A message in the channel mentioning the bot, with attachments when given. */
  mention(user: APIUser, text: string, attachments: APIAttachment[] = []): APIMessage {
    return this.sim.userMessage(user, `<@${this.sim.world.bot.id}> ${text}`, attachments);
  }

  react(user: APIUser, messageId: string, emoji: '✅' | '❌'): void {
    this.sim.reactionAdd(user, messageId, emoji);
  }

  // ---- the bot's connection -----------------------------------------------------------------

  /** Logins (IDENTIFY) the fake gateway has seen, from every process that ran the bot. */
  get logins(): number {
    return this.sim.gateway.identifies.length;
  }

  /**
   * Resolves once the bot has logged in again after `loginsBefore` and holds exactly one
   * session: a restarted service connects only when the dead process's gateway lease expires.
   */
  waitForLogin(loginsBefore: number, timeoutMs = 15_000): Promise<true> {
    return waitFor(() => this.logins > loginsBefore && this.sim.gateway.connected === 1, 'the bot to log in to the gateway again', {
      timeoutMs,
      context: () => `logins: ${this.logins}, sessions: ${this.sim.gateway.connected}`,
    });
  }

  // ---- what people see ----------------------------------------------------------------------

  approvals(): DiscordApproval[] {
    return this.sim.botMessages(this.channelId).flatMap((message) => {
      const embed = message.embeds[0];
      const postId = embed?.fields?.find((f) => f.name === 'Post')?.value;
      return postId ? [{ postId, message, imageUrl: embed?.image?.url }] : [];
    });
  }

  /** The next approval message after `before`, once its ✅/❌ are seeded (as a person sees it before reacting). */
  async nextApproval(before: number): Promise<DiscordApproval> {
    const approval = await this.sim.waitFor(() => this.approvals()[before], 'an approval message', 15_000);
    await this.sim.waitFor(
      () => this.sim.world.reactions.get(approval.message.id)?.get('❌')?.has(this.sim.world.bot.id),
      'the seeded ✅/❌',
      15_000,
    );
    return approval;
  }

  /** What the bot said in the thread started from message `messageId` (the thread has its id). */
  thread(messageId: string): string[] {
    return this.sim.botMessages(messageId).map(textOf);
  }

  waitInThread(messageId: string, pattern: RegExp, timeoutMs = 15_000): Promise<string> {
    return waitFor(() => this.thread(messageId).find((t) => pattern.test(t)), `a reply matching ${pattern} in thread ${messageId}`, {
      timeoutMs,
      context: () => `thread so far: ${JSON.stringify(this.thread(messageId), null, 1)}`,
    });
  }

  /** The approval message as it shows now (edited as the post moves on). */
  current(messageId: string): string {
    const message = this.sim.world.messages.get(messageId);
    return message ? textOf(message) : '';
  }

  /**
   * The time a scheduled post's approval message shows (`Scheduled for <t:unix:F>`, which each
   * reader's Discord shows in their own zone), as it reads now; undefined when it shows none.
   */
  scheduledFor(messageId: string): Date | undefined {
    const unix = /Scheduled for <t:(\d+):F>/.exec(this.current(messageId))?.[1];
    return unix === undefined ? undefined : new Date(Number(unix) * 1000);
  }

  dms(user: APIUser): APIMessage[] {
    return this.sim.dmMessages(user.id);
  }

  waitForDm(user: APIUser, pattern: RegExp): Promise<APIMessage> {
    return waitFor(() => this.dms(user).find((m) => pattern.test(textOf(m))), `a DM to ${user.username} matching ${pattern}`, {
      context: () => `DMs so far: ${JSON.stringify(this.dms(user).map(textOf))}`,
    });
  }

  close(): Promise<void> {
    return this.sim.close();
  }
}

/** A message as a person reads it: its content and its embed's description. */
export function textOf(message: APIMessage): string {
  return [message.content, ...message.embeds.map((e) => e.description ?? '')].filter(Boolean).join('\n');
}
