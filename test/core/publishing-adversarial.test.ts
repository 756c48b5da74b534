/**
 * Adversarial review of issue 12: races between a post's ending and `retry`, and notices that
 * must not be lost across a `retry` (which starts a target's attempts again from 1).
 */
import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildCore, openServices } from '../../src/app.js';
import { type Services } from '../../src/runtime.js';
import { NOTICE_QUEUE } from '../../src/core/notices.js';
import { PUBLISH_QUEUE, publishJobKey } from '../../src/core/posts.js';
import { JobQueue } from '../../src/jobs/queue.js';
import { Worker } from '../../src/jobs/worker.js';
import { createLogger } from '../../src/observability/logger.js';
import { onPostgres } from '../helpers/db.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { shownText } from '../helpers/memory-chat.js';

const WORKER = { pollMs: 10, leaseMs: 300, backoffBaseMs: 30, backoffMaxMs: 60, maxAttempts: 2 };
const silent = createLogger('silent');

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ app: { worker: WORKER, notices: { graceMs: 50, backoffBaseMs: 30, backoffMaxMs: 60 } } });
  expect((await h.connect('x')).status).toBe(200);
  // Only the workers each test starts publish.
  await h.app.core.worker.stop();
});
afterAll(async () => {
  await h?.close();
});

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A publishing worker of the app's core (stopped after the test). */
async function publishingWorker(): Promise<Worker> {
  const worker = new Worker(
    new JobQueue(h.app.services.db),
    { queue: PUBLISH_QUEUE, handler: h.app.core.publishing.handle, concurrency: 2, pollMs: 10, leaseMs: WORKER.leaseMs, stopGraceMs: 100 },
    silent,
  );
  await worker.start();
  cleanups.push(() => worker.stop());
  return worker;
}

let serial = 0;
const uniqueCaption = (what: string) => `${what} ${Date.now().toString(36)}-${++serial}`;

async function approvedPost(caption: string): Promise<string> {
  const reply = await h.run('U_ADA', `post x ${caption}`);
  const postId = /Post ([A-Z0-9]+) is waiting for approval/.exec(reply.message.text)?.[1];
  if (!postId) throw new Error(`no post id in: ${reply.message.text}`);
  const approval = h.chat.channel.find((m) => !m.threadId && m.history[0]!.text.startsWith(`Post ${postId} from`))!;
  await h.app.core.posts.decide({
    chat: 'slack',
    workspaceExternalId: 'T1',
    messageId: approval.id,
    userExternalId: 'U_BOB',
    isBot: false,
    decision: 'approve',
    via: 'reaction',
  });
  return postId;
}

function thread(postId: string): string[] {
  const approval = h.chat.channel.find((m) => !m.threadId && m.history[0]!.text.startsWith(`Post ${postId} from`))!;
  return h.chat.thread(approval.id);
}

/** X refuses the next `times` posts for its rate limit, resetting now (nothing was accepted: retryable at once). */
const tweetsFail = (times: number) =>
  h.sims.x.faults.push({
    match: (m, p) => m === 'POST' && p === '/2/tweets',
    kind: 'status',
    status: 429,
    headers: { 'x-rate-limit-reset': String(Math.floor(Date.now() / 1000)) },
    times,
  });

const postStatus = async (postId: string) =>
  (await h.app.services.db.selectFrom('posts').select('status').where('id', '=', postId).executeTakeFirstOrThrow()).status;
const target = (postId: string) =>
  h.app.services.db.selectFrom('post_targets').selectAll().where('post_id', '=', postId).executeTakeFirstOrThrow();

/** Runs `meanwhile` right after the first statement `matches` answered, on another connection (another instance). */
class AfterStatement implements KyselyPlugin {
  private armed = true;

  constructor(
    private readonly matches: (node: RootOperationNode) => boolean,
    private readonly meanwhile: () => Promise<void>,
  ) {}

  private seen = new WeakSet<object>();

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    if (this.armed && this.matches(args.node)) {
      this.armed = false;
      this.seen.add(args.queryId);
    }
    return args.node;
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    if (this.seen.has(args.queryId)) await this.meanwhile();
    return args.result;
  }
}

const text = (node: RootOperationNode) => JSON.stringify(node);

describe(`a post's ending and \`retry\` at the same moment (${onPostgres ? 'PostgreSQL' : 'SQLite'}, two instances)`, () => {
  it('a target retried while another instance ends the post: the post is not ended over it, and its result and summary follow', async () => {
    await publishingWorker();
    const caption = uniqueCaption('Ending raced');
    tweetsFail(2);
    const postId = await approvedPost(caption);
    // Both attempts fail for now: the target is failed and said, the post ended.
    await expect.poll(() => postStatus(postId), { timeout: 10_000 }).toBe('failed');
    for (const c of cleanups.splice(0)) await c();
    // As an ending that failed for a moment leaves it (publishing-fencing.test.ts shows how): every
    // target over and said, the post still publishing.
    await h.app.services.db.updateTable('posts').set({ status: 'publishing', finished_at: null }).where('id', '=', postId).execute();

    // Another instance ends the post; `retry` commits on this one right after it read the targets.
    const other: Services = await openServices(h.app.services.config, silent);
    cleanups.push(() => other.db.destroy());
    let retried = '';
    const retryMeanwhile = async () => {
      const reply = h.run('U_ADA', `retry ${postId}`).then((r) => {
        retried = r.message.text;
      });
      // Until the retry committed; a retry that waits for the ending's locks goes on after it.
      await Promise.race([reply, new Promise((r) => setTimeout(r, 1_500))]);
    };
    const readsTargets = (node: RootOperationNode) =>
      node.kind === 'SelectQueryNode' && text(node).includes('"name":"post_targets"') && text(node).includes('"name":"finished_at"');
    const db = other.db.withPlugin(new AfterStatement(readsTargets, retryMeanwhile));
    const core = buildCore({ ...other, db }, { publishers: h.app.core.publishers, chatPorts: { slack: h.chat }, worker: WORKER });
    await core.posts.onTargetSettled(postId);
    await expect.poll(() => retried, { timeout: 20_000 }).toMatch(/^Retrying X @acme of post/);

    // The retried target publishes; the post ends published, and the summary says so last.
    await publishingWorker();
    await expect
      .poll(async () => (await target(postId)).finished_at !== null && (await target(postId)).status === 'published', { timeout: 10_000 })
      .toBe(true);
    await expect.poll(() => postStatus(postId), { timeout: 5_000 }).toBe('published');
    await expect.poll(() => thread(postId).at(-1), { timeout: 5_000 }).toBe(`Post ${postId}: published (1 of 1 published).`);
    const job = await h.app.services.db
      .selectFrom('jobs')
      .select('status')
      .where('dedupe_key', '=', publishJobKey((await target(postId)).id))
      .executeTakeFirstOrThrow();
    expect(job.status).toBe('succeeded');
  });
});

describe('the retry notice of a target `retry` started again', () => {
  it('is said even when the chat refused it at first: its attempt number was used before the `retry`, its notice is not', async () => {
    await publishingWorker();
    const caption = uniqueCaption('Retried notice');
    tweetsFail(2);
    const postId = await approvedPost(caption);
    await expect.poll(() => postStatus(postId), { timeout: 10_000 }).toBe('failed');
    const tryingAgain = () => thread(postId).filter((line) => line.includes('trying again in'));
    expect(tryingAgain()).toHaveLength(1);

    // After `retry`, attempt 1 fails again, and the chat refuses its notice once.
    let refused = 0;
    const replyInThread = h.chat.replyInThread.bind(h.chat);
    h.chat.replyInThread = async (parent, message) => {
      if (refused === 0 && shownText(message.text).includes('trying again in')) {
        refused += 1;
        throw new Error('the chat is down (test)');
      }
      return replyInThread(parent, message);
    };
    cleanups.push(() => {
      h.chat.replyInThread = replyInThread;
    });
    tweetsFail(1);
    // The next try is slow to answer: the notice is still current while it runs.
    h.sims.x.faults.push({ match: (m, p) => m === 'POST' && p === '/2/tweets', kind: 'slow', ms: 2_000 });
    expect((await h.run('U_ADA', `retry ${postId}`)).message.text).toMatch(/^Retrying X @acme/);
    await expect.poll(() => refused, { timeout: 5_000 }).toBe(1);
    // The notice worker says it once the chat takes it.
    await expect.poll(() => tryingAgain().length, { timeout: 1_500 }).toBe(2);
    await expect.poll(() => postStatus(postId), { timeout: 10_000 }).toBe('published');
  });
});

describe('a retry notice the chat refused, once the chat is back', () => {
  it("is said before the target's result, not after the result and the summary", async () => {
    // The notice worker is slow to come back to it (its wait for the next try has not passed).
    await h.app.core.noticeWorker.stop();
    cleanups.push(() => h.app.core.noticeWorker.start());
    await publishingWorker();
    const caption = uniqueCaption('Late notice');
    let refused = 0;
    const replyInThread = h.chat.replyInThread.bind(h.chat);
    h.chat.replyInThread = async (parent, message) => {
      if (refused === 0 && shownText(message.text).includes('trying again in')) {
        refused += 1;
        throw new Error('the chat is down (test)');
      }
      return replyInThread(parent, message);
    };
    cleanups.push(() => {
      h.chat.replyInThread = replyInThread;
    });
    tweetsFail(1);
    const postId = await approvedPost(caption);
    await expect.poll(() => thread(postId).at(-1), { timeout: 10_000 }).toBe(`Post ${postId}: published (1 of 1 published).`);
    expect(refused).toBe(1);
    const lines = thread(postId);
    const notice = lines.findIndex((l) => l.includes('trying again in'));
    const result = lines.findIndex((l) => l.startsWith('X @acme: published'));
    expect(notice, JSON.stringify(lines)).toBeGreaterThanOrEqual(0);
    expect(notice, JSON.stringify(lines)).toBeLessThan(result);
    // Withdrawn once said: the notice worker, back, does not say it again.
    const noticeWorker = new Worker(
      new JobQueue(h.app.services.db),
      {
        queue: NOTICE_QUEUE,
        handler: h.app.core.posts.handleNotice,
        concurrency: 1,
        pollMs: 10,
        leaseMs: WORKER.leaseMs,
        stopGraceMs: 100,
      },
      silent,
    );
    await noticeWorker.start();
    cleanups.push(() => noticeWorker.stop());
    await new Promise((r) => setTimeout(r, 400));
    expect(thread(postId).filter((l) => l.includes('trying again in'))).toHaveLength(1);
  });
});

describe('a notice that keeps stopping its process', () => {
  it('is given up after the runs it stopped, as a publish job is, instead of stopping the service for ever', async () => {
    await publishingWorker();
    const postId = await approvedPost(uniqueCaption('Poison notice'));
    await expect.poll(() => postStatus(postId), { timeout: 10_000 }).toBe('published');
    await h.app.core.noticeWorker.stop();
    cleanups.push(() => h.app.core.noticeWorker.start());
    // A notice the chat did not take at once is queued.
    const poison = `poison notice ${Date.now()}`;
    const replyInThread = h.chat.replyInThread.bind(h.chat);
    h.chat.replyInThread = async (parent, message) => {
      if (message.text === poison) throw new Error('the chat is down (test)');
      return replyInThread(parent, message);
    };
    await h.app.core.posts.tell(postId, poison);
    h.chat.replyInThread = replyInThread;
    // Five runs took it and died before a word (their leases ran out, by the database's clock).
    for (let crash = 1; crash <= 5; crash += 1) {
      await new Promise((r) => setTimeout(r, 120));
      const [claimed] = await h.app.core.queue.claim(NOTICE_QUEUE, `crashed-${crash}`, 50, 1);
      expect(claimed?.payload.text).toBe(poison);
    }
    await new Promise((r) => setTimeout(r, 120));
    const worker = new Worker(
      new JobQueue(h.app.services.db),
      {
        queue: NOTICE_QUEUE,
        handler: h.app.core.posts.handleNotice,
        concurrency: 1,
        pollMs: 10,
        leaseMs: WORKER.leaseMs,
        stopGraceMs: 100,
      },
      silent,
    );
    await worker.start();
    cleanups.push(() => worker.stop());
    const job = () =>
      h.app.services.db
        .selectFrom('jobs')
        .select(['status', 'last_error'])
        .where('queue', '=', NOTICE_QUEUE)
        .where('payload', 'like', `%${poison}%`)
        .executeTakeFirstOrThrow();
    await expect.poll(async () => (await job()).status, { timeout: 5_000 }).toBe('failed');
    expect((await job()).last_error).toBe('IQSP stopped 5 times while saying this notice');
    expect(thread(postId)).not.toContain(poison);
  });
});
