/**
 * Exactly once under stalls: a run that froze past its lease (a synchronous wait, a VM pause,
 * heartbeats that could not be written) must not send the post another run has taken over.
 *
 * Two workers publish from one database, as two instances do (on PostgreSQL each has a pool of
 * its own, as a separate process has; on SQLite they share the file's connection, as the one
 * instance's workers do). The platform is the X simulator: every POST /2/tweets is a committing
 * request, counted per caption.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildCore, openServices } from '../../src/app.js';
import { type Services } from '../../src/runtime.js';
import { PUBLISH_QUEUE, publishJobKey } from '../../src/core/posts.js';
import type { Db } from '../../src/db/database.js';
import { JobQueue } from '../../src/jobs/queue.js';
import { Worker, type JobHandler } from '../../src/jobs/worker.js';
import { createLogger } from '../../src/observability/logger.js';
import type { PublishRequest, PublishResult } from '../../src/publishers/publisher.js';
import { onPostgres } from '../helpers/db.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { shownText } from '../helpers/memory-chat.js';

const LEASE_MS = 300;
const WORKER = { pollMs: 10, leaseMs: LEASE_MS, backoffBaseMs: 50, backoffMaxMs: 400 };
const silent = createLogger('silent');

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ app: { worker: WORKER } });
  expect((await h.connect('x')).status).toBe(200);
  // Only the workers each test starts publish.
  await h.app.core.worker.stop();
});
afterAll(async () => {
  await h?.close();
});

const instances: Instance[] = [];
/** Stalled runs still waiting when a test ends (it failed): let go so their workers can stop. */
const stalls: Array<() => void> = [];
afterEach(async () => {
  for (const resume of stalls.splice(0)) resume();
  for (const instance of instances.splice(0)) await instance.close();
  restoreX();
});

interface Instance {
  worker: Worker;
  db: Db;
  close(): Promise<void>;
}

/** A queue whose heartbeats never reach the database (a frozen process, a database that refuses its writes). */
class UnheardQueue extends JobQueue {
  override async heartbeat(): Promise<never> {
    throw new Error('the heartbeat could not be written (test)');
  }
}

/**
 * A publishing worker, as an instance runs it. On PostgreSQL a second instance of its own (its
 * own pool and core); on SQLite the app's database and core. `wrap` sees every run's handler.
 */
async function instance(
  options: { heartbeats?: 'fail'; plugin?: KyselyPlugin; wrap?: (handler: JobHandler) => JobHandler } = {},
): Promise<Instance> {
  let opened: Services | undefined;
  let handler: JobHandler;
  let db: Db;
  if (onPostgres || options.plugin) {
    opened = onPostgres ? await openServices(h.app.services.config, silent) : undefined;
    const base = opened ?? h.app.services;
    db = options.plugin ? base.db.withPlugin(options.plugin) : base.db;
    const core = buildCore({ ...base, db }, { publishers: h.app.core.publishers, chatPorts: { slack: h.chat }, worker: WORKER });
    handler = core.publishing.handle;
  } else {
    db = h.app.services.db;
    handler = h.app.core.publishing.handle;
  }
  const queue = options.heartbeats === 'fail' ? new UnheardQueue(db) : new JobQueue(db);
  const worker = new Worker(
    queue,
    {
      queue: PUBLISH_QUEUE,
      handler: options.wrap ? options.wrap(handler) : handler,
      concurrency: 4,
      pollMs: 10,
      leaseMs: LEASE_MS,
      stopGraceMs: 100,
    },
    silent,
  );
  await worker.start();
  const started: Instance = {
    worker,
    db,
    async close() {
      await worker.stop();
      await opened?.db.destroy();
    },
  };
  instances.push(started);
  return started;
}

// --- The X publisher, with a stall where a test puts one -------------------------------------

type StallPoint = 'before-commit' | 'after-commit';
let restoreX: () => void = () => undefined;

/** The first run of each caption that `plan` names stalls there (`stall` runs in its place). */
function stallX(plan: (caption: string) => StallPoint | undefined, stall: (caption: string) => void | Promise<void>): void {
  const x = h.app.core.publishers.get('x')!;
  const original = x.publish;
  const stalled = new Set<string>();
  x.publish = async (request: PublishRequest): Promise<PublishResult> => {
    const caption = request.draft.caption;
    const point = stalled.has(caption) ? undefined : plan(caption);
    if (point) stalled.add(caption);
    const result = await original.call(x, {
      ...request,
      beforeCommit: async () => {
        if (point === 'before-commit') await stall(caption);
        await request.beforeCommit();
      },
    });
    if (point === 'after-commit') await stall(caption);
    return result;
  };
  restoreX = () => {
    x.publish = original;
    restoreX = () => undefined;
  };
}

/** Freezes the whole process (every timer, every instance in it) for `ms`, as a VM pause or a synchronous wait does. */
function freeze(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

// --- Posts and what became of them -----------------------------------------------------------

let serial = 0;
const uniqueCaption = (what: string) => `${what} ${Date.now().toString(36)}-${++serial}`;

/** Asks for an X post and approves it; returns its id. */
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

/** Committing requests X received for `caption`. */
const tweetsOf = (caption: string) =>
  h.sims.x.requests.filter(
    (r) => r.method === 'POST' && r.path === '/2/tweets' && r.body.kind === 'json' && (r.body.value as { text?: string }).text === caption,
  ).length;

const FINAL = ['published', 'failed', 'unconfirmed', 'cancelled'];

/** The post's X target once its result is final and said, and its job closed. */
async function settled(postId: string, timeoutMs = 15_000) {
  const db = h.app.services.db;
  const read = async () => {
    const target = await db.selectFrom('post_targets').selectAll().where('post_id', '=', postId).executeTakeFirstOrThrow();
    const job = await db.selectFrom('jobs').select(['status']).where('dedupe_key', '=', publishJobKey(target.id)).executeTakeFirst();
    return { target, job };
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { target, job } = await read();
    if (FINAL.includes(target.status) && target.finished_at !== null && job && !['queued', 'running'].includes(job.status)) return target;
    if (Date.now() > deadline)
      throw new Error(
        `post ${postId} did not settle: target ${target.status} (reported: ${target.finished_at !== null}), job ${job?.status ?? 'none'}; thread: ${JSON.stringify(thread(postId))}`,
      );
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Targets waiting or publishing whose job is neither queued nor running: stranded. */
async function strandedTargets(): Promise<string[]> {
  const db = h.app.services.db;
  const open = await db.selectFrom('post_targets').select(['id', 'status']).where('status', 'in', ['queued', 'publishing']).execute();
  const stranded: string[] = [];
  for (const target of open) {
    const job = await db.selectFrom('jobs').select('status').where('dedupe_key', '=', publishJobKey(target.id)).executeTakeFirst();
    if (!job || !['queued', 'running'].includes(job.status)) stranded.push(`${target.id} (${target.status}, job ${job?.status ?? 'none'})`);
  }
  return stranded;
}

const resultLines = (postId: string) => thread(postId).filter((line) => /^X @acme: (published|failed|unconfirmed)/.test(line));

describe(`a run that stalls past its lease (${onPostgres ? 'PostgreSQL, two instances' : 'SQLite, two workers'})`, () => {
  it('a process frozen before or after its committing request: at most one committing request per target, over many runs', async () => {
    await instance();
    await instance();
    const runs = 12;
    // Odd runs freeze just before the committing request, even runs just after it was answered.
    const points = new Map<string, StallPoint>();
    stallX(
      (caption) => points.get(caption),
      () => freeze(LEASE_MS * 1.7),
    );
    const outcomes: Record<string, number> = {};
    const requests: number[] = [];
    for (let run = 0; run < runs; run += 1) {
      const caption = uniqueCaption(`Frozen ${run}`);
      points.set(caption, run % 2 === 0 ? 'before-commit' : 'after-commit');
      const postId = await approvedPost(caption);
      const target = await settled(postId);
      outcomes[target.status] = (outcomes[target.status] ?? 0) + 1;
      requests.push(tweetsOf(caption));
      expect(resultLines(postId), JSON.stringify(thread(postId))).toHaveLength(1);
    }
    // Never twice; a run frozen before sending sent once, after the run that took over (or itself, resumed) did.
    expect(requests.filter((n) => n > 1)).toEqual([]);
    expect(requests.filter((n, run) => run % 2 === 0 && n !== 1)).toEqual([]);
    // Frozen after sending: published (it recorded its answer) or unconfirmed (the next run found the marker), never failed.
    expect(Object.keys(outcomes).filter((s) => s !== 'published' && s !== 'unconfirmed')).toEqual([]);
    expect(await strandedTargets()).toEqual([]);
  });

  it('a run whose heartbeats fail and that resumes after another instance published does not send again', async () => {
    const caption = uniqueCaption('Unheard');
    let resume!: () => void;
    const resumed = new Promise<void>((r) => stalls.push((resume = r)));
    let stalledAt: number | undefined;
    stallX(
      (c) => (c === caption ? 'before-commit' : undefined),
      async () => {
        stalledAt = Date.now();
        await resumed;
      },
    );
    await instance({ heartbeats: 'fail' });
    const postId = await approvedPost(caption);
    await expect.poll(() => stalledAt !== undefined, { timeout: 10_000 }).toBe(true);
    // The other instance takes the job once the lease has run out, and publishes.
    await instance();
    await expect.poll(() => tweetsOf(caption), { timeout: 10_000 }).toBe(1);
    const published = await settled(postId);
    expect(published.status).toBe('published');
    // Now the stalled run goes on, to the point where it would send.
    resume();
    await new Promise((r) => setTimeout(r, LEASE_MS * 2));
    expect(tweetsOf(caption)).toBe(1);
    expect(resultLines(postId)).toEqual([expect.stringMatching(/^X @acme: published https:\/\/x\.com\/acme\/status\/\d+$/)]);
    expect(
      (await h.app.services.db.selectFrom('post_targets').select('status').where('post_id', '=', postId).executeTakeFirstOrThrow()).status,
    ).toBe('published');
  });

  it('a run whose heartbeats fail and that resumes after its committing request, once another instance took the job: the result is said once', async () => {
    const caption = uniqueCaption('Answered late');
    let resume!: () => void;
    const resumed = new Promise<void>((r) => stalls.push((resume = r)));
    let stalledAt: number | undefined;
    stallX(
      (c) => (c === caption ? 'after-commit' : undefined),
      async () => {
        stalledAt = Date.now();
        await resumed;
      },
    );
    await instance({ heartbeats: 'fail' });
    const postId = await approvedPost(caption);
    await expect.poll(() => stalledAt !== undefined, { timeout: 10_000 }).toBe(true);
    await instance();
    const attempts = async () =>
      (
        await h.app.services.db
          .selectFrom('jobs')
          .select('attempts')
          .where('queue', '=', PUBLISH_QUEUE)
          .where('payload', 'like', `%${postId}%`)
          .executeTakeFirstOrThrow()
      ).attempts;
    await expect.poll(attempts, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
    // X's answer reaches the first run only now, after the other instance took the job over.
    resume();
    const target = await settled(postId);
    await new Promise((r) => setTimeout(r, LEASE_MS * 2));
    expect(['published', 'unconfirmed']).toContain(target.status);
    expect(tweetsOf(caption)).toBe(1);
    expect(resultLines(postId), JSON.stringify(thread(postId))).toHaveLength(1);
  });

  it('a run taken over after it recorded the post X accepted leaves saying it to the run that holds the job: said once', async () => {
    const caption = uniqueCaption('Recorded late');
    let resume!: () => void;
    const resumed = new Promise<void>((r) => stalls.push((resume = r)));
    let stalledAt: number | undefined;
    stallX(
      (c) => (c === caption ? 'after-commit' : undefined),
      async () => {
        stalledAt = Date.now();
        await resumed;
      },
    );
    // Lines said before the other instance's run starts wait (a slow chat), so a second sayer would show.
    let openGate!: () => void;
    const gate = new Promise<void>((r) => stalls.push((openGate = r)));
    let gateOpen = false;
    const replyInThread = h.chat.replyInThread.bind(h.chat);
    h.chat.replyInThread = async (parent, message) => {
      if (!gateOpen && shownText(message.text).startsWith('X @acme: published')) await gate;
      return replyInThread(parent, message);
    };
    try {
      await instance({ heartbeats: 'fail' });
      const postId = await approvedPost(caption);
      await expect.poll(() => stalledAt !== undefined, { timeout: 10_000 }).toBe(true);
      // The other instance takes the job over (its lease ran out); its run waits at the gate.
      await instance({ wrap: (handler) => async (job, signal) => (await gate, handler(job, signal)) });
      const job = () =>
        h.app.services.db
          .selectFrom('jobs')
          .select('attempts')
          .where('queue', '=', PUBLISH_QUEUE)
          .where('payload', 'like', `%${postId}%`)
          .executeTakeFirstOrThrow();
      await expect.poll(async () => (await job()).attempts, { timeout: 10_000 }).toBe(2);
      // X's answer reaches the first run: it records the post as published.
      resume();
      const status = async () =>
        (await h.app.services.db.selectFrom('post_targets').select('status').where('post_id', '=', postId).executeTakeFirstOrThrow())
          .status;
      await expect.poll(status, { timeout: 5_000 }).toBe('published');
      await new Promise((r) => setTimeout(r, 100));
      gateOpen = true;
      openGate();
      await settled(postId);
      await new Promise((r) => setTimeout(r, LEASE_MS));
      expect(tweetsOf(caption)).toBe(1);
      expect(resultLines(postId), JSON.stringify(thread(postId))).toEqual([
        expect.stringMatching(/^X @acme: published https:\/\/x\.com\/acme\/status\/\d+$/),
      ]);
    } finally {
      h.chat.replyInThread = replyInThread;
    }
  });
});

// --- Database faults inside the publish handler ------------------------------------------------

/** Statements the handler runs fail where `fails` says, only inside the publish handler's runs. */
class HandlerFault implements KyselyPlugin {
  readonly inHandler = new AsyncLocalStorage<true>();
  failures = 0;

  constructor(private readonly fails: (node: RootOperationNode) => boolean) {}

  wrap =
    (handler: JobHandler): JobHandler =>
    (job, signal) =>
      this.inHandler.run(true, () => handler(job, signal));

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    if (this.inHandler.getStore() && this.fails(args.node)) {
      this.failures += 1;
      throw new Error('database is locked (injected)');
    }
    return args.node;
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}

const statementText = (node: RootOperationNode) => JSON.stringify(node);
const isTable = (node: RootOperationNode, table: string) => statementText(node).includes(`"kind":"IdentifierNode","name":"${table}"`);

describe('a database error in the publish handler', () => {
  it('once, when recording the post X accepted: tried again, the post recorded published and said, sent once', async () => {
    let failedOnce = false;
    const fault = new HandlerFault((node) => {
      const recordsPublished =
        node.kind === 'UpdateQueryNode' && isTable(node, 'post_targets') && statementText(node).includes('"value":"published"');
      if (!recordsPublished || failedOnce) return false;
      failedOnce = true;
      return true;
    });
    await instance({ plugin: fault, wrap: fault.wrap });
    const caption = uniqueCaption('Recorded after a fault');
    const postId = await approvedPost(caption);
    const target = await settled(postId);
    expect(fault.failures).toBe(1);
    expect(target.status).toBe('published');
    expect(tweetsOf(caption)).toBe(1);
    expect(resultLines(postId)).toEqual([expect.stringMatching(/^X @acme: published https:\/\/x\.com\/acme\/status\/\d+$/)]);
    expect(await strandedTargets()).toEqual([]);
  });

  it("once, when settling the post's outcome after its last target was reported: the next run settles it, and the summary is said", async () => {
    let failedOnce = false;
    const fault = new HandlerFault((node) => {
      const settlesPost = node.kind === 'UpdateQueryNode' && isTable(node, 'posts') && statementText(node).includes('"name":"finished_at"');
      if (!settlesPost || failedOnce) return false;
      failedOnce = true;
      return true;
    });
    await instance({ plugin: fault, wrap: fault.wrap });
    const caption = uniqueCaption('Settled after a fault');
    const postId = await approvedPost(caption);
    expect((await settled(postId)).status).toBe('published');
    expect(fault.failures).toBe(1);
    await expect
      .poll(
        async () =>
          (await h.app.services.db.selectFrom('posts').select('status').where('id', '=', postId).executeTakeFirstOrThrow()).status,
        { timeout: 5_000 },
      )
      .toBe('published');
    await expect.poll(() => thread(postId).at(-1), { timeout: 5_000 }).toBe(`Post ${postId}: published (1 of 1 published).`);
    expect(tweetsOf(caption)).toBe(1);
  });

  it('every time: retried with backoff up to the maximum, then failed with the reason, said in the thread, never stranded', async () => {
    // Reading the post's media always fails for this instance (a table it cannot read).
    const fault = new HandlerFault((node) => node.kind === 'SelectQueryNode' && isTable(node, 'media'));
    await instance({ plugin: fault, wrap: fault.wrap });
    const caption = uniqueCaption('Never readable');
    const postId = await approvedPost(caption);
    const target = await settled(postId);
    // Each of the 5 attempts (the app's default maximum) stopped there; the sixth run gave up.
    expect(fault.failures).toBeGreaterThanOrEqual(5);
    expect(target.status).toBe('failed');
    expect(target.failure_message).toMatch(/^IQSP could not publish this after 5 attempts \(.*database is locked \(injected\)\)/);
    expect(tweetsOf(caption)).toBe(0);
    expect(resultLines(postId)).toEqual([
      expect.stringMatching(
        /^X @acme: failed — IQSP could not publish this after 5 attempts .*Nothing was published there; try again later with `retry [A-Z0-9]+`\.$/,
      ),
    ]);
    expect(await strandedTargets()).toEqual([]);
  });
});

describe('a job that keeps stopping its process', () => {
  it('is given up past the maximum attempts: failed ("IQSP stopped N times"), said, nothing sent, and the service goes on', async () => {
    const caption = uniqueCaption('Poison');
    const postId = await approvedPost(caption);
    const target = await h.app.services.db.selectFrom('post_targets').select('id').where('post_id', '=', postId).executeTakeFirstOrThrow();
    // Five runs took the job and died before a word (their leases ran out, by the database's clock).
    for (let crash = 1; crash <= 5; crash += 1) {
      const [claimed] = await h.app.core.queue.claim(PUBLISH_QUEUE, `crashed-${crash}`, 50, 1);
      expect(claimed?.payload.targetId).toBe(target.id);
      await new Promise((r) => setTimeout(r, 120));
    }
    await instance();
    const settledTarget = await settled(postId);
    expect(settledTarget.status).toBe('failed');
    expect(settledTarget.failure_message).toBe('IQSP stopped 5 times while publishing this');
    expect(tweetsOf(caption)).toBe(0);
    expect(resultLines(postId)).toEqual([
      `X @acme: failed — IQSP stopped 5 times while publishing this. Nothing was published there; try again later with \`retry ${postId}\`.`,
    ]);

    // The service keeps running: the next post publishes.
    const next = uniqueCaption('After the poison');
    expect((await settled(await approvedPost(next))).status).toBe('published');
    expect(tweetsOf(next)).toBe(1);
  });
});
