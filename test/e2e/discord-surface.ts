/**
 * Discord as a chat surface of the contract suite: people are the fake server's members,
 * commands are structured slash commands (`/iqsp connect platform:x`), the structured form is
 * `/iqsp post` with attachment options, and what the bot says is read from the fake's
 * channels, threads and DMs.
 */
import type { APIAttachment, APIUser } from 'discord.js';
import { expect } from 'vitest';
import type { ApprovalSeen, ChatFile, ChatSurface, Person, PostForm } from './chat-surface.js';
import { readWhen } from '../../src/core/schedule/when.js';
import { DiscordDriver, textOf } from './discord-driver.js';
import type { ServiceProcess } from './service.js';

export class DiscordSurface implements ChatSurface {
  readonly kind = 'discord';
  readonly people: ChatSurface['people'];
  private readonly users = new Map<string, APIUser>();
  private service: ServiceProcess | undefined;

  private constructor(readonly driver: DiscordDriver) {
    const { alice, bob, carol } = driver.people;
    this.people = { alice: this.person(alice), bob: this.person(bob), carol: this.person(carol) };
  }

  static async start(): Promise<DiscordSurface> {
    return new DiscordSurface(await DiscordDriver.start());
  }

  private person(user: APIUser): Person {
    this.users.set(user.id, user);
    return { id: user.id, name: user.username, displayName: user.global_name ?? undefined };
  }

  user(person: Person): APIUser {
    const user = this.users.get(person.id);
    if (!user) throw new Error(`no Discord member ${person.name}`);
    return user;
  }

  addPerson(name: string, displayName: string): Person {
    return this.person(this.driver.addMember(name, displayName));
  }

  env(): Record<string, string> {
    return this.driver.env();
  }

  attach(service: ServiceProcess): void {
    this.service = service;
  }

  close(): Promise<void> {
    return this.driver.close();
  }

  describe(): string {
    return this.service ? this.service.tail() : '';
  }

  /** The text line as Discord's structured command: `status <id>` is `/iqsp status post_id:<id>`, and so on. */
  async command(person: Person, line: string): Promise<string> {
    const [subcommand = '', ...args] = line.split(' ');
    return (await this.driver.command(this.user(person), subcommand, commandOptions(subcommand, args))).text;
  }

  async mention(person: Person, text: string, files: ChatFile[] = []): Promise<string> {
    return this.driver.mention(
      this.user(person),
      text,
      files.map((f) => this.attachment(f)),
    ).id;
  }

  /** `/iqsp post targets:… caption:… [when:…]` with the files as media1, media2, … */
  async postForm(person: Person, form: PostForm & { when?: string | undefined }): Promise<string> {
    const attachments = Object.fromEntries((form.files ?? []).map((f, i) => [`media${i + 1}`, this.attachment(f)]));
    const options = { targets: form.targets, caption: form.caption, ...(form.when ? { when: form.when } : {}) };
    return (await this.driver.command(this.user(person), 'post', options, attachments)).text;
  }

  formAccepted(postId: string): string {
    return `Post ${postId} is waiting for approval in this channel.`;
  }

  /** `/iqsp post` answers a refusal in place. */
  refusedPost(person: Person, form: PostForm): Promise<string> {
    return this.postForm(person, form);
  }

  react(person: Person, messageId: string, emoji: '✅' | '❌'): Promise<void> {
    this.driver.react(this.user(person), messageId, emoji);
    return Promise.resolve();
  }

  approvalCount(): number {
    return this.driver.approvals().length;
  }

  async nextApproval(before: number): Promise<ApprovalSeen> {
    const approval = await this.driver.nextApproval(before);
    return { postId: approval.postId, id: approval.message.id, imageUrl: approval.imageUrl };
  }

  /** The embed names the requester and lists the targets in a field; the requester is told by DM that it waits. */
  async expectApprovalRequest(approval: ApprovalSeen, request: { requester: Person; targets: string }): Promise<void> {
    const embed = this.driver.approvals().find((a) => a.message.id === approval.id)?.message.embeds[0];
    expect(embed?.description).toMatch(new RegExp(`^Post ${approval.postId} from <@${request.requester.id}> needs 1 approval\\(s\\)`));
    expect(embed?.fields).toContainEqual({ name: 'Targets', value: request.targets, inline: true });
    await this.driver.waitForDm(this.user(request.requester), new RegExp(`^Post ${approval.postId} is waiting for approval`));
  }

  thread(messageId: string): string[] {
    return this.driver.thread(messageId);
  }

  waitInThread(messageId: string, pattern: RegExp, timeoutMs?: number): Promise<string> {
    return this.driver.waitInThread(messageId, pattern, timeoutMs);
  }

  current(messageId: string): string {
    return this.driver.current(messageId);
  }

  async waitForDm(person: Person, pattern: RegExp): Promise<string> {
    return textOf(await this.driver.waitForDm(this.user(person), pattern));
  }

  /** The JSON file attached to the DM that says tokens are never included. */
  async dataExport(person: Person): Promise<{ filename: string; text: string }> {
    const dm = await this.driver.waitForDm(this.user(person), /tokens are never included/);
    const [attachment] = dm.attachments;
    if (!attachment) throw new Error(`the data export DM to ${person.name} has no file`);
    return { filename: attachment.filename, text: await (await fetch(attachment.url)).text() };
  }

  identity(person: Person): Record<string, unknown> {
    return { chat: 'discord', workspaceId: this.driver.sim.world.guildId, userId: person.id };
  }

  /**
   * The restarted process says the rest in the thread the first one started, starting none of
   * its own, and logs in to the gateway again once the dead process's gateway lease expires:
   * one session.
   */
  beforeRestart(): (approval: ApprovalSeen) => Promise<void> {
    const loginsBefore = this.driver.logins;
    const callsBefore = this.driver.sim.calls.length;
    const killedAt = Date.now();
    return async (approval) => {
      const callsSince = this.driver.sim.calls.slice(callsBefore);
      expect(callsSince.filter((c) => c.method === 'POST' && c.path === `/channels/${approval.id}/messages`)).toHaveLength(3);
      expect(callsSince.filter((c) => c.method === 'POST' && /\/threads$/.test(c.path))).toEqual([]);
      expect(this.driver.sim.threads().map((t) => t.id)).toEqual([approval.id]);
      await this.driver.waitForLogin(loginsBefore, 30_000);
      console.info(`[e2e restart, Discord] the gateway was back ${Date.now() - killedAt} ms after the kill`);
    };
  }

  private attachment(file: ChatFile): APIAttachment {
    return this.driver.attachment(file.name, file.mimetype, file.bytes, file.side ? { width: file.side, height: file.side } : undefined);
  }
}

/** The options of `/iqsp <subcommand>` for the words typed after it in Slack. */
function commandOptions(subcommand: string, args: string[]): Record<string, string | number | boolean> {
  const [first] = args;
  const rest = args.slice(1).join(' ');
  if (first === undefined) return {};
  if (subcommand === 'connect') return { platform: first };
  if (subcommand === 'disconnect') return args[1] === undefined ? { platform: first } : { platform: first, handle: args[1] };
  if (['status', 'cancel', 'retry', 'verify'].includes(subcommand)) return { post_id: first };
  if (subcommand === 'delete-my-data' && first === 'confirm') return { confirm: true };
  if (subcommand === 'approvals') return { count: Number(first) };
  // Scheduling (issue 15): `reschedule <id> <when>`, `timezone [workspace] <zone>`, `slots <days> <times>` / `slots off`.
  if (subcommand === 'reschedule') return { post_id: first, when: rest };
  if (subcommand === 'timezone') return { zone: args.join(' ') };
  if (subcommand === 'slots') return rest === '' ? { days: first } : { days: first, times: rest };
  if (subcommand === 'post') return postOptions(args.join(' '));
  throw new Error(`no Discord options for "/iqsp ${subcommand} ${args.join(' ')}"`);
}

/**
 * `post <targets> [<when>] <caption>` as the options a person fills in: the targets (one word),
 * the words the grammar reads as a time in `when`, the rest as the caption. Words shaped like a
 * time that is not one all go to `when`, whose refusal names them as the text's would.
 */
function postOptions(text: string): Record<string, string> {
  const [, targets = '', after = ''] = /^(\S+)\s*([\s\S]*)$/.exec(text) ?? [];
  const read = readWhen(after);
  if (read.kind === 'none') return { targets, caption: after };
  if (read.kind === 'error') return { targets, when: after, caption: '' };
  return { targets, when: after.slice(0, after.length - read.rest.length).trim(), caption: read.rest };
}
