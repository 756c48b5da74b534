/**
 * Slack as the child process sees it: the fake Slack Web API (src/simulators/slack.ts) it
 * calls, and signed requests to its /slack/events as Slack sends them (slash commands,
 * events, interactivity), built from the JSON fixtures in test/fixtures/slack/.
 */
import {
  commandRequest,
  eventRequest,
  FakeSlack,
  interactiveRequest,
  sendToApp,
  type FakeSlackUser,
  type FakeSlackWorkspace,
  type SlackCall,
  type SlackRequest,
  type UploadedFile,
} from '../simulators/slack.js';
import { waitFor } from './service.js';

export const SIGNING_SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
export const CHANNEL = 'C0GENERAL';

type Json = Record<string, unknown>;

export interface ApprovalMessage {
  postId: string;
  /** The message's ts: what reactions point at, and the thread_ts of every later word. */
  ts: string;
  text: string;
  /** The preview (a /media/:token URL of the service). */
  imageUrl: string | undefined;
}

export interface SlackFile {
  name: string;
  mimetype: string;
  bytes: Buffer;
}

interface Block {
  type: string;
  block_id?: string;
  image_url?: string;
  elements?: Array<{ action_id?: string; value?: string; url?: string }>;
  element?: { options?: Array<{ value: string; text?: { text: string } }>; initial_date_time?: number };
}

export class SlackDriver {
  /** Base URL of the service, once it runs. */
  appUrl = '';
  /** Out of the way of the fixtures' timestamps, increasing. */
  private clock = 1_800_000_000;
  private readonly answers = new WeakMap<Record<string, string>, Json>();

  private constructor(readonly fake: FakeSlack) {
    // The fake records each call's arguments but not its answer; the answer holds the ts of a
    // posted message (what a person reacts to). Wrap its answering method to keep them.
    const target = fake as unknown as { answer: (method: string, args: Record<string, string>, ws: FakeSlackWorkspace) => Json };
    const answer = target.answer.bind(fake);
    target.answer = (method, args, ws) => {
      const result = answer(method, args, ws);
      this.answers.set(args, result);
      return result;
    };
  }

  static async start(extraUsers: FakeSlackUser[] = []): Promise<SlackDriver> {
    const fake = await FakeSlack.start();
    fake.workspace.users.push(...extraUsers);
    return new SlackDriver(fake);
  }

  /** The child's Slack settings: single-workspace mode against the fake. */
  env(): Record<string, string> {
    return { SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_BOT_TOKEN: this.fake.workspace.botToken, SLACK_API_URL: this.fake.apiUrl };
  }

  user(id: string): FakeSlackUser {
    const user = this.fake.workspace.users.find((u) => u.id === id);
    if (!user) throw new Error(`no Slack user ${id}`);
    return user;
  }

  /** The fake's answer to a recorded call. */
  answerOf(call: SlackCall): Json | undefined {
    return this.answers.get(call.args);
  }

  nextTs(): string {
    this.clock += 1;
    return `${this.clock}.000100`;
  }

  async send(request: SlackRequest): Promise<Response> {
    const response = await sendToApp(this.appUrl, SIGNING_SECRET, request);
    if (response.status !== 200) throw new Error(`/slack/events answered ${response.status}: ${await response.text()}`);
    return response;
  }

  // ---- what people do -----------------------------------------------------------------------

  /** `/iqsp <text>` typed by `user` in #general; resolves with the text of the (ephemeral) answer. */
  async command(user: string, text: string): Promise<string> {
    const responseUrl = this.fake.responseUrl();
    const id = responseUrl.split('/').pop();
    await this.send(
      commandRequest('slash-command', {
        text,
        user_id: user,
        user_name: this.user(user).name,
        response_url: responseUrl,
        trigger_id: `trigger-${this.nextTs()}`,
      }),
    );
    const post = await this.fake.waitForResponse((p) => p.id === id, 15_000);
    return String(post.body.text);
  }

  /**
   * `/iqsp post …`: Slack sends the command with a trigger id, and the app opens the post modal
   * with it; `when` is the picker's time (unix seconds) when the text typed one. A command the app
   * refuses instead (a typed time that cannot be used) resolves with `refused`, the ephemeral answer.
   */
  async openPostModal(
    user: string,
    text: string,
  ): Promise<{ accountIds: string[]; accounts: Array<{ id: string; label: string }>; when?: number | undefined; refused?: string }> {
    const trigger = `trigger-${this.nextTs()}`;
    const responseUrl = this.fake.responseUrl();
    const responseId = responseUrl.split('/').pop();
    await this.send(
      commandRequest('slash-command', {
        text,
        user_id: user,
        user_name: this.user(user).name,
        response_url: responseUrl,
        trigger_id: trigger,
      }),
    );
    const open = await waitFor(
      () =>
        this.fake.callsTo('views.open').find((c) => c.args.trigger_id === trigger) ?? this.fake.responses.find((r) => r.id === responseId),
      'the post modal (or a refusal)',
      { timeoutMs: 15_000, context: () => this.describe() },
    );
    if (!('method' in open)) return { accountIds: [], accounts: [], refused: String(open.body.text) };
    const view = JSON.parse(open.args.view ?? '{}') as { blocks: Block[] };
    const targets = view.blocks.find((b) => b.block_id === 'targets');
    const accounts = (targets?.element?.options ?? []).map((o) => ({ id: o.value, label: o.text?.text ?? '' }));
    const when = view.blocks.find((b) => b.block_id === 'when')?.element?.initial_date_time;
    return { accountIds: accounts.map((a) => a.id), accounts, when };
  }

  /** Submits the post modal; resolves with the HTTP answer (empty when accepted, `response_action: errors` when not). */
  async submitPostModal(
    user: string,
    values: { caption: string; accountIds: string[]; privacy?: string; files: SlackFile[]; when?: number | undefined },
  ): Promise<Response> {
    const state: Json = {
      caption: { caption: { type: 'plain_text_input', value: values.caption } },
      targets: {
        targets: {
          type: 'checkboxes',
          selected_options: values.accountIds.map((id) => ({ text: { type: 'plain_text', text: id }, value: id })),
        },
      },
      media: { media: { type: 'file_input', files: values.files.map((f) => this.upload(f)) } },
      when: { when: { type: 'datetimepicker', selected_date_time: values.when ?? null } },
    };
    if (values.privacy)
      state.tiktok_privacy = {
        tiktok_privacy: {
          type: 'static_select',
          selected_option: { text: { type: 'plain_text', text: values.privacy }, value: values.privacy },
        },
      };
    const person = this.user(user);
    return this.send(
      interactiveRequest('view-submission-post', {
        user: { id: user, username: person.name, name: person.name, team_id: 'T0001' },
        view: { state: { values: state } },
      }),
    );
  }

  /** A message in #general that mentions the bot, with files when given. Returns its ts. */
  async mention(user: string, text: string, files: SlackFile[] = []): Promise<string> {
    const ts = this.nextTs();
    const event = { user, text: `<@${this.fake.workspace.botUserId}> ${text}`, ts, event_ts: ts, channel: CHANNEL };
    const request =
      files.length > 0
        ? eventRequest('event-message-file-share', {
            event_id: `Ev${ts.replace('.', '')}`,
            event: { ...event, files: files.map((f) => this.upload(f)) },
          })
        : eventRequest('event-app-mention', { event_id: `Ev${ts.replace('.', '')}`, event });
    await this.send(request);
    return ts;
  }

  /** `user` opens the app's Home tab (`app_home_opened`, tab `home`). */
  async openHome(user: string): Promise<void> {
    const ts = this.nextTs();
    await this.send(
      eventRequest('event-app-home-opened', {
        event_id: `EvH${ts.replace('.', '')}`,
        event: { user, tab: 'home', channel: `D${user.slice(1)}`, event_ts: ts },
      }),
    );
  }

  /** The Home tab `user` sees now (the last views.publish for them), or undefined. */
  homeView(user: string): { type: string; blocks: Array<Record<string, unknown>> } | undefined {
    return this.fake.homeViews.get(`T0001/${user}`) as { type: string; blocks: Array<Record<string, unknown>> } | undefined;
  }

  /** A reaction on a message in #general (`white_check_mark` ✅, `x` ❌). */
  async react(user: string, ts: string, reaction: 'white_check_mark' | 'x', removed = false): Promise<void> {
    const eventTs = this.nextTs();
    await this.send(
      eventRequest(removed ? 'event-reaction-removed' : 'event-reaction-added', {
        event_id: `EvR${eventTs.replace('.', '')}`,
        event: { user, reaction, item: { type: 'message', channel: CHANNEL, ts }, event_ts: eventTs },
      }),
    );
  }

  /** A file as Slack hosts it: its private URL is on the fake's host, downloadable with the bot token. */
  upload(file: SlackFile): Json {
    return this.fake.addFile('T0001', file.name, file.mimetype, file.bytes);
  }

  // ---- what people see ----------------------------------------------------------------------

  /** Approval messages the app posted in #general, oldest first. */
  approvals(): ApprovalMessage[] {
    return this.fake
      .callsTo('chat.postMessage')
      .filter((c) => c.args.channel === CHANNEL && !c.args.thread_ts && c.args.blocks)
      .flatMap((call) => {
        const blocks = JSON.parse(call.args.blocks ?? '[]') as Block[];
        const approve = blocks.flatMap((b) => b.elements ?? []).find((e) => e.action_id === 'approve_post');
        const ts = this.answerOf(call)?.ts;
        if (!approve?.value || typeof ts !== 'string') return [];
        return [{ postId: approve.value, ts, text: String(call.args.text), imageUrl: blocks.find((b) => b.type === 'image')?.image_url }];
      });
  }

  /** The approval message of the next post after `before` approval messages. */
  nextApproval(before: number): Promise<ApprovalMessage> {
    return waitFor(() => this.approvals()[before], 'an approval message', { context: () => this.describe() });
  }

  /** Texts posted in the thread of `ts`, oldest first. */
  thread(ts: string): string[] {
    return this.fake
      .callsTo('chat.postMessage')
      .filter((c) => c.args.thread_ts === ts)
      .map((c) => String(c.args.text));
  }

  waitInThread(ts: string, pattern: RegExp, timeoutMs = 15_000): Promise<string> {
    return waitFor(() => this.thread(ts).find((t) => pattern.test(t)), `a reply matching ${pattern} in thread ${ts}`, {
      timeoutMs,
      context: () => `thread so far: ${JSON.stringify(this.thread(ts), null, 1)}`,
    });
  }

  /** The latest text the approval message `ts` was updated to. */
  approvalUpdates(ts: string): string[] {
    return this.fake
      .callsTo('chat.update')
      .filter((c) => c.args.ts === ts)
      .map((c) => String(c.args.text));
  }

  /** The DM channels the app opened with `user`. */
  private dmChannels(user: string): Set<string> {
    const channels = this.fake
      .callsTo('conversations.open')
      .filter((c) => c.args.users === user)
      .map((c) => (this.answerOf(c)?.channel as { id?: string } | undefined)?.id)
      .filter((id): id is string => typeof id === 'string');
    return new Set(channels);
  }

  /** Messages the app sent `user` directly, oldest first. */
  dms(user: string): string[] {
    const channels = this.dmChannels(user);
    return this.fake
      .callsTo('chat.postMessage')
      .filter((c) => channels.has(c.args.channel ?? ''))
      .map((c) => String(c.args.text));
  }

  waitForDm(user: string, pattern: RegExp): Promise<string> {
    return waitFor(() => this.dms(user).find((t) => pattern.test(t)), `a DM to ${user} matching ${pattern}`, {
      context: () => `DMs so far: ${JSON.stringify(this.dms(user))}`,
    });
  }

  /** Ephemeral messages (chat.postEphemeral) shown to `user`. */
  ephemerals(user: string): string[] {
    return this.fake
      .callsTo('chat.postEphemeral')
      .filter((c) => c.args.user === user)
      .map((c) => String(c.args.text));
  }

  /** Files the app shared in `user`'s DM (files.completeUploadExternal done). */
  filesSentTo(user: string): UploadedFile[] {
    const channels = this.dmChannels(user);
    return [...this.fake.uploads.values()].filter((u) => u.channelId !== undefined && channels.has(u.channelId));
  }

  describe(): string {
    return `Slack calls so far:\n${this.fake.describe()}`;
  }

  close(): Promise<void> {
    return this.fake.close();
  }
}
