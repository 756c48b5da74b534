/**
 * The world the scheduling tests (issue 15) drive: the whole service (test/helpers/harness.ts)
 * with a clock of the test's own, passed as the app's `now` (it drives the posts service, the job
 * queue and the workers), a person in Europe/Berlin with X and a Facebook Page connected, and
 * the ways people reach it: commands as typed (`inbound.text`) and ✅/❌ as reactions
 * (`inbound.reaction`). A test moves the clock and pokes the workers; it never waits for time to
 * pass. `restart` stops the app and starts a new one on the same database, chat and platforms;
 * `startInstance` starts one more beside it.
 */
import { expect } from 'vitest';
import { startApp, type RunningApp } from '../../src/app.js';
import type { Invocation } from '../../src/core/ports/chat.js';
import { createLogger } from '../../src/observability/logger.js';
import { startHarness, type Harness, type HarnessOptions } from '../helpers/harness.js';
import { invocation, shownReply, type ShownReply } from '../helpers/memory-chat.js';

/** Mon 4 Jan 2027 08:00 in Berlin (CET, UTC+1): the clock of every scheduling test starts here. */
export const START = Date.parse('2027-01-04T07:00:00.000Z');
export const MINUTE = 60_000;
export const HOUR = 3600_000;

/** A file given with a command. */
export interface SentFile {
  name: string;
  body: Buffer;
}

export interface SchedulingWorld {
  h: Harness;
  /** The app the commands and reactions go to (the newest, after a restart). */
  readonly app: RunningApp;
  /** Every app running now (the first, or the one a restart started, and those `startInstance` added). */
  readonly apps: RunningApp[];
  now(): Date;
  /** Moves the clock (forward only) and asks every worker of every app to look at the queue now. */
  advanceTo(at: number): void;
  pokeWorkers(): void;
  /** Several polls of every worker have passed, and none is running a job. */
  workersIdle(): Promise<void>;
  /** `text` typed by `user`, with files as a chat hands them over (served by the harness's file host). */
  say(user: string, text: string, extra?: Partial<Invocation>, files?: readonly SentFile[]): Promise<ShownReply>;
  /** `post …` by `user`; returns the post id (fails the test when the request was refused). */
  post(user: string, text: string, extra?: Partial<Invocation>, files?: readonly SentFile[]): Promise<string>;
  react(user: string, postId: string, mark?: 'approve' | 'reject'): Promise<void>;
  approvalMessage(postId: string): Harness['chat']['channel'][number];
  thread(postId: string): string[];
  waitForThread(postId: string, pattern: RegExp): Promise<string>;
  postRow(postId: string): Promise<{
    status: string;
    scheduled_at: string | null;
    schedule_zone: string | null;
    approval_expires_at: string;
    finished_at: string | null;
  }>;
  /** The post's jobs as stored: its due job and one publish job per target. */
  jobsOf(postId: string): Promise<Array<{ queue: string; dedupe_key: string | null; status: string; run_at: string; attempts: number }>>;
  /** POST /2/tweets requests X's simulator received. */
  tweetRequests(): number;
  /** Stops the app (as a deploy does) and, once the clock is at `downUntil` (when given), starts a new one on the same database. */
  restart(downUntil?: number): Promise<RunningApp>;
  startInstance(): Promise<RunningApp>;
  close(): Promise<void>;
}

export async function startSchedulingWorld(options: HarnessOptions = {}): Promise<SchedulingWorld> {
  let clock = START;
  const now = () => new Date(clock);
  const appOptions = {
    publisherTuning: { pollIntervalMs: 5, maxWaitMs: 10_000 },
    worker: { pollMs: 20, leaseMs: 3_000, backoffBaseMs: 50, backoffMaxMs: 2_000 },
    commandRateLimit: { limit: 1_000_000, windowMs: 60_000 },
    ...options.app,
    now,
  };
  const h = await startHarness({ ...options, app: appOptions });
  const apps: RunningApp[] = [h.app];
  let current = h.app;
  const fileHost = new URL(h.files.url('probe', Buffer.alloc(0))).host;

  const startOne = async (port: number) =>
    startApp({ ...h.app.services.config, port }, createLogger('silent'), {
      ...appOptions,
      surfaces: [() => ({ name: 'memory', port: h.chat, attachmentHosts: [fileHost] })],
    });

  const pokeWorkers = () => {
    for (const app of apps) {
      app.core.dueWorker.poke();
      app.core.worker.poke();
      app.core.noticeWorker.poke();
    }
  };
  const say = async (user: string, text: string, extra: Partial<Invocation> = {}, files: readonly SentFile[] = []) =>
    shownReply(
      await current.core.inbound.text(
        invocation(user, extra),
        text,
        files.map((f) => ({ url: h.files.url(f.name, f.body), originalName: f.name })),
      ),
    );
  const approvalMessage = (postId: string) => {
    const message = h.chat.channel.find((m) => !m.threadId && m.history[0]!.text.startsWith(`Post ${postId} from`));
    if (!message) throw new Error(`no approval message for ${postId}`);
    return message;
  };
  const thread = (postId: string) => h.chat.thread(approvalMessage(postId).id);
  const db = () => current.services.db;

  const world: SchedulingWorld = {
    h,
    get app() {
      return current;
    },
    get apps() {
      return apps;
    },
    now,
    advanceTo(at) {
      if (at < clock) throw new Error('the clock only moves forward in these tests');
      clock = at;
      pokeWorkers();
    },
    pokeWorkers,
    async workersIdle() {
      for (let poll = 0; poll < 8; poll += 1) {
        pokeWorkers();
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      await h.chat.waitFor(() => apps.every((a) => a.core.worker.active + a.core.dueWorker.active + a.core.noticeWorker.active === 0));
    },
    say,
    async post(user, text, extra, files) {
      const reply = await say(user, text, extra, files);
      const id = /^Post ([A-Z0-9]+) is (scheduled for|waiting for approval)/.exec(reply.message.text)?.[1];
      if (!id) throw new Error(`no post id in: ${reply.message.text}`);
      return id;
    },
    async react(user, postId, mark = 'approve') {
      await current.core.inbound.reaction({
        chat: 'slack',
        workspaceExternalId: 'T1',
        messageId: approvalMessage(postId).id,
        channelId: 'C1',
        mark,
        change: 'add',
        decider: async () => ({ userExternalId: user, userName: user, isBot: false }),
      });
    },
    approvalMessage,
    thread,
    waitForThread: (postId, pattern) => h.chat.waitFor(() => thread(postId).find((t) => pattern.test(t)), 15_000),
    postRow: (postId) =>
      db()
        .selectFrom('posts')
        .select(['status', 'scheduled_at', 'schedule_zone', 'approval_expires_at', 'finished_at'])
        .where('id', '=', postId)
        .executeTakeFirstOrThrow(),
    async jobsOf(postId) {
      const targets = await db().selectFrom('post_targets').select('id').where('post_id', '=', postId).execute();
      const keys = [`due:${postId}`, ...targets.map((t) => `publish:${t.id}`)];
      return db()
        .selectFrom('jobs')
        .select(['queue', 'dedupe_key', 'status', 'run_at', 'attempts'])
        .where('dedupe_key', 'in', keys)
        .orderBy('dedupe_key')
        .execute();
    },
    tweetRequests: () => h.sims.x.requests.filter((r) => r.method === 'POST' && r.path === '/2/tweets').length,
    async restart(downUntil) {
      const port = current.port;
      await current.stop('restart (test)');
      apps.splice(apps.indexOf(current), 1);
      if (downUntil !== undefined) world.advanceTo(downUntil);
      current = await startOne(port);
      apps.push(current);
      return current;
    },
    async startInstance() {
      const app = await startOne(0);
      apps.push(app);
      return app;
    },
    async close() {
      for (const app of apps) if (app !== h.app) await app.stop('test over');
      await h.close();
    },
  };
  return world;
}

/** X and a Facebook Page connected by Ada, whose times are read in Europe/Berlin. */
export async function connectAda(world: SchedulingWorld): Promise<void> {
  expect((await world.h.connect('x')).status).toBe(200);
  expect((await world.h.connect('facebook', 'U_ADA', { pages: ['100000000000001'] })).status).toBe(200);
  expect((await world.say('U_ADA', 'timezone Europe/Berlin')).message.text).toMatch(/^Your time zone is now Europe\/Berlin/);
}
