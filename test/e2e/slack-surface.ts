/**
 * Slack as a chat surface of the contract suite: people are the fake workspace's users, the
 * structured form is the /iqsp post modal, and refusals of a mention come in its thread.
 */
import { expect } from 'vitest';
import type { ApprovalSeen, ChatFile, ChatSurface, Person, PostForm } from './chat-surface.js';
import { waitFor, type ServiceProcess } from './service.js';
import { SlackDriver, type SlackFile } from './slack-driver.js';

const REACTIONS = { '✅': 'white_check_mark', '❌': 'x' } as const;

export class SlackSurface implements ChatSurface {
  readonly kind = 'slack';
  readonly people: ChatSurface['people'];
  private added = 0;

  private constructor(readonly driver: SlackDriver) {
    const person = (id: string): Person => {
      const user = driver.user(id);
      return { id: user.id, name: user.name, displayName: user.realName };
    };
    this.people = { alice: person('U0ALICE'), bob: person('U0BOB'), carol: person('U0CAROL') };
  }

  static async start(): Promise<SlackSurface> {
    return new SlackSurface(await SlackDriver.start());
  }

  addPerson(name: string, displayName: string): Person {
    this.added += 1;
    const person = { id: `U0NEW${this.added}E2E4242`, name, displayName };
    this.driver.fake.workspace.users.push({ id: person.id, name, realName: displayName });
    return person;
  }

  env(): Record<string, string> {
    return this.driver.env();
  }

  attach(service: ServiceProcess): void {
    this.driver.appUrl = service.url;
  }

  close(): Promise<void> {
    return this.driver.close();
  }

  describe(): string {
    return this.driver.describe();
  }

  command(person: Person, line: string): Promise<string> {
    return this.driver.command(person.id, line);
  }

  mention(person: Person, text: string, files: ChatFile[] = []): Promise<string> {
    return this.driver.mention(person.id, text, files.map(slackFile));
  }

  /**
   * `/iqsp post <targets> [<when>] <caption>` opens the modal; the targets are ticked by their labels
   * ("X @acme"), TikTok's privacy chosen, the picker submitted as the typed time filled it. A typed
   * time the app cannot use is refused before any modal: that refusal is the answer.
   */
  async postForm(person: Person, form: PostForm & { when?: string | undefined }): Promise<string> {
    const typed = `post ${form.targets}${form.when ? ` ${form.when}` : ''} ${form.caption}`;
    const { accounts, when, refused } = await this.driver.openPostModal(person.id, typed);
    if (refused !== undefined) return refused;
    const targets = form.targets.split(',').map((t) => t.split(':'));
    const accountIds = targets.map(([platform]) => {
      const account = accounts.find((a) => a.label.toLowerCase().startsWith(`${platform} `));
      if (!account) throw new Error(`no ${platform} account in the modal: ${JSON.stringify(accounts)}`);
      return account.id;
    });
    const privacy = targets.find(([, level]) => level !== undefined)?.[1];
    const response = await this.driver.submitPostModal(person.id, {
      caption: form.caption,
      accountIds,
      ...(privacy ? { privacy } : {}),
      files: (form.files ?? []).map(slackFile),
      when,
    });
    return response.text();
  }

  /** An accepted modal closes: Slack's answer to the submission is empty. */
  formAccepted(): string {
    return '';
  }

  /** A mention the app refuses: the refusal is its first reply in the mention's thread. */
  async refusedPost(person: Person, form: PostForm): Promise<string> {
    const ts = await this.mention(person, `post ${form.targets} ${form.caption}`, form.files);
    return this.waitInThread(ts, /^/);
  }

  react(person: Person, messageId: string, emoji: '✅' | '❌'): Promise<void> {
    return this.driver.react(person.id, messageId, REACTIONS[emoji]);
  }

  approvalCount(): number {
    return this.driver.approvals().length;
  }

  async nextApproval(before: number): Promise<ApprovalSeen> {
    const approval = await this.driver.nextApproval(before);
    return { postId: approval.postId, id: approval.ts, imageUrl: approval.imageUrl };
  }

  /** The message's text names the requester, the targets and the caption; the file was fetched with the bot token. */
  async expectApprovalRequest(approval: ApprovalSeen, request: { requester: Person; targets: string; caption: string }): Promise<void> {
    const message = this.driver.approvals().find((a) => a.ts === approval.id);
    expect(message?.text).toMatch(new RegExp(`^Post ${approval.postId} from <@${request.requester.id}> needs 1 approval\\(s\\)`));
    expect(message?.text).toContain(`Targets: ${request.targets}`);
    expect(message?.text).toContain(`Caption: ${request.caption}`);
    expect(this.driver.fake.downloads.at(-1)).toMatchObject({ authorized: true });
  }

  thread(messageId: string): string[] {
    return this.driver.thread(messageId);
  }

  waitInThread(messageId: string, pattern: RegExp, timeoutMs?: number): Promise<string> {
    return this.driver.waitInThread(messageId, pattern, timeoutMs);
  }

  /** The last text the approval message was updated to (chat.update). */
  current(messageId: string): string {
    return this.driver.approvalUpdates(messageId).at(-1) ?? '';
  }

  waitForDm(person: Person, pattern: RegExp): Promise<string> {
    return this.driver.waitForDm(person.id, pattern);
  }

  /** The file shared in the person's DM (files.completeUploadExternal). */
  async dataExport(person: Person): Promise<{ filename: string; text: string }> {
    const file = await waitFor(() => this.driver.filesSentTo(person.id).at(-1), `a file in ${person.name}'s DM`, {
      context: () => this.describe(),
    });
    return { filename: file.filename, text: file.bytes.toString('utf8') };
  }

  identity(person: Person): Record<string, unknown> {
    return { chat: 'slack', workspaceId: 'T0001', userId: person.id, name: person.name };
  }

  /** Slack's events come by HTTP to whichever process runs: nothing of the restart shows in Slack beyond the thread. */
  beforeRestart(): () => Promise<void> {
    return () => Promise.resolve();
  }
}

function slackFile(file: ChatFile): SlackFile {
  return { name: file.name, mimetype: file.mimetype, bytes: file.bytes };
}
