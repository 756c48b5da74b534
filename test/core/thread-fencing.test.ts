/**
 * Threads under stalls (issue 16): a run frozen past its lease between the parts of a thread
 * must not send a part another run sent, nor one twice. Two workers publish from one database, as
 * two instances do (on PostgreSQL each with a pool and core of its own), as in
 * publishing-fencing.test.ts; the X publisher is wrapped to freeze the process at one point of
 * the first run of each caption.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildCore, openServices } from '../../src/app.js';
import { PUBLISH_QUEUE, publishJobKey } from '../../src/core/posts.js';
import { JobQueue } from '../../src/jobs/queue.js';
import { Worker } from '../../src/jobs/worker.js';
import { createLogger } from '../../src/observability/logger.js';
import type { PublishRequest, PublishResult } from '../../src/publishers/publisher.js';
import type { Services } from '../../src/runtime.js';
import { onPostgres } from '../helpers/db.js';
import { startHarness, type Harness } from '../helpers/harness.js';

const LEASE_MS = 300;
const WORKER = { pollMs: 10, leaseMs: LEASE_MS, backoffBaseMs: 50, backoffMaxMs: 400 };
const silent = createLogger('silent');

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ app: { worker: WORKER } });
  expect((await h.connect('x')).status).toBe(200);
  await h.app.core.worker.stop();
});
afterAll(() => h?.close());

const closers: Array<() => Promise<void>> = [];
let restoreX: () => void = () => undefined;
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  restoreX();
});

/** A publishing worker as an instance runs it (see publishing-fencing.test.ts). */
async function instance(): Promise<void> {
  let opened: Services | undefined;
  let handler = h.app.core.publishing.handle;
  let db = h.app.services.db;
  if (onPostgres) {
    opened = await openServices(h.app.services.config, silent);
    db = opened.db;
    handler = buildCore(opened, { publishers: h.app.core.publishers, chatPorts: { slack: h.chat }, worker: WORKER }).publishing.handle;
  }
  const worker = new Worker(
    new JobQueue(db),
    { queue: PUBLISH_QUEUE, handler, concurrency: 4, pollMs: 10, leaseMs: LEASE_MS, stopGraceMs: 100 },
    silent,
  );
  await worker.start();
  closers.push(async () => {
    await worker.stop();
    await opened?.db.destroy();
  });
}

/** Where the first run of a caption freezes: once part 1 is recorded live, just before part 2's commit, or after the last part. */
type StallPoint = 'part-1-live' | 'before-part-2' | 'after-last';

function freeze(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function stallX(plan: Map<string, StallPoint>): void {
  const x = h.app.core.publishers.get('x')!;
  const original = x.publish;
  const stalled = new Set<string>();
  x.publish = async (request: PublishRequest): Promise<PublishResult> => {
    const caption = request.draft.caption;
    const point = stalled.has(caption) ? undefined : plan.get(caption);
    if (point) stalled.add(caption);
    let commits = 0;
    const result = await original.call(x, {
      ...request,
      beforeCommit: async () => {
        commits += 1;
        if (point === 'before-part-2' && commits === 2) freeze(LEASE_MS * 1.7);
        await request.beforeCommit();
      },
      onPartLive: async (index, id, link) => {
        await request.onPartLive?.(index, id, link);
        if (point === 'part-1-live' && index === 0) freeze(LEASE_MS * 1.7);
      },
    });
    if (point === 'after-last') freeze(LEASE_MS * 1.7);
    return result;
  };
  restoreX = () => {
    x.publish = original;
    restoreX = () => undefined;
  };
}

async function approvedPost(caption: string): Promise<string> {
  const reply = await h.run('U_ADA', `post x ${caption}`);
  const postId = /Post ([A-Z0-9]+) is waiting for approval/.exec(reply.message.text)![1]!;
  await h.approve(postId);
  return postId;
}

function thread(postId: string): string[] {
  const approval = h.chat.channel.find((m) => !m.threadId && m.history[0]!.text.startsWith(`Post ${postId} from`))!;
  return h.chat.thread(approval.id);
}

/** The post's target once final and said, its job closed. */
async function settled(postId: string) {
  const db = h.app.services.db;
  const deadline = Date.now() + 15_000;
  for (;;) {
    const target = await db.selectFrom('post_targets').selectAll().where('post_id', '=', postId).executeTakeFirstOrThrow();
    const job = await db.selectFrom('jobs').select('status').where('dedupe_key', '=', publishJobKey(target.id)).executeTakeFirst();
    const final = ['published', 'failed', 'unconfirmed', 'cancelled'].includes(target.status);
    if (final && target.finished_at !== null && job && !['queued', 'running'].includes(job.status)) return target;
    if (Date.now() > deadline)
      throw new Error(`post ${postId} did not settle: ${target.status}, job ${job?.status ?? 'none'}: ${JSON.stringify(thread(postId))}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** POST /2/tweets requests X received with `text`. */
const sent = (text: string) =>
  h.sims.x.requests.filter(
    (r) => r.method === 'POST' && r.path === '/2/tweets' && r.body.kind === 'json' && (r.body.value as { text?: string }).text === text,
  ).length;

let serial = 0;

describe(`a thread whose run stalls past its lease (${onPostgres ? 'PostgreSQL, two instances' : 'SQLite, two workers'})`, () => {
  it('every part is sent at most once, the thread ends published or unconfirmed, said once', async () => {
    await instance();
    await instance();
    const plan = new Map<string, StallPoint>();
    stallX(plan);
    const points: StallPoint[] = ['part-1-live', 'before-part-2', 'after-last'];
    const attempts: number[] = [];
    for (let run = 0; run < 6; run += 1) {
      const tag = `${Date.now().toString(36)}-${++serial}`;
      const parts = [`Stall ${tag} one`, `Stall ${tag} two`, `Stall ${tag} three`];
      const caption = parts.join(' --- ');
      const point = points[run % points.length]!;
      plan.set(caption, point);
      const postId = await approvedPost(caption);
      const target = await settled(postId);
      const counts = parts.map(sent);
      expect(
        counts.filter((n) => n > 1),
        `${point}: ${JSON.stringify(counts)}`,
      ).toEqual([]);
      expect(['published', 'unconfirmed'], point).toContain(target.status);
      // Stalled between parts, the run that took over finishes the thread: every part once.
      if (point !== 'after-last') expect(counts, point).toEqual([1, 1, 1]);
      const live = JSON.parse(target.live_parts ?? '[]') as string[];
      if (target.status === 'published') expect(h.sims.x.thread(live[0]!).map((t) => t.text)).toEqual(parts);
      // Whether another run took the job over depends on who reaches the database first after the freeze.
      const job = await h.app.services.db
        .selectFrom('jobs')
        .select('attempts')
        .where('dedupe_key', '=', publishJobKey(target.id))
        .executeTakeFirstOrThrow();
      attempts.push(job.attempts);
      expect(
        thread(postId).filter((line) => /^X @acme: (published|failed|unconfirmed)/.test(line)),
        JSON.stringify(thread(postId)),
      ).toHaveLength(1);
    }
    // The stalls did hand jobs over (the case under test), at least some of them.
    expect(
      attempts.some((n) => n > 1),
      JSON.stringify(attempts),
    ).toBe(true);
  }, 60_000);
});
