/**
 * Saying a recorded result has a budget of its own, counted from the run that recorded it: a job
 * whose earlier runs were stopped many times (a process killed over and over while publishing)
 * still has its result said, rather than being marked said without a word in the thread. Found
 * by the chaos run (`npm run chaos`, PostgreSQL, three instances): two targets recorded at a high
 * attempt were ended unsaid by the next run.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PUBLISH_QUEUE, publishJobKey } from '../../src/core/posts.js';
import { JobQueue } from '../../src/jobs/queue.js';
import { Worker } from '../../src/jobs/worker.js';
import { createLogger } from '../../src/observability/logger.js';
import { startHarness, type Harness } from '../helpers/harness.js';

const WORKER = { pollMs: 10, leaseMs: 300, backoffBaseMs: 30, backoffMaxMs: 60, maxAttempts: 2 };

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ app: { worker: WORKER } });
  expect((await h.connect('x')).status).toBe(200);
  // Only the worker this test starts publishes.
  await h.app.core.worker.stop();
});
afterAll(async () => {
  await h?.close();
});

it('a result recorded by the 9th run, whose run then stopped before saying it, is said by the 10th', async () => {
  const reply = await h.run('U_ADA', 'post x Stopped many times');
  const postId = /Post ([A-Z0-9]+) is waiting for approval/.exec(reply.message.text)![1]!;
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
  const db = h.app.services.db;
  const target = await db.selectFrom('post_targets').select('id').where('post_id', '=', postId).executeTakeFirstOrThrow();

  // What the 9th run left: it recorded the target failed (8 stops before it), then its process died
  // before saying it; the lease ran out.
  await db
    .updateTable('post_targets')
    .set({ status: 'failed', failure_class: 'retryable', failure_message: 'IQSP stopped 8 times while publishing this', attempts: 9 })
    .where('id', '=', target.id)
    .execute();
  await db
    .updateTable('jobs')
    .set({
      status: 'running',
      attempts: 9,
      interruptions: 8,
      lease_owner: 'dead',
      claim_token: 'dead',
      lease_expires_at: '2000-01-01T00:00:00.000Z',
    })
    .where('dedupe_key', '=', publishJobKey(target.id))
    .execute();

  const worker = new Worker(
    new JobQueue(db),
    { queue: PUBLISH_QUEUE, handler: h.app.core.publishing.handle, concurrency: 1, pollMs: 10, leaseMs: WORKER.leaseMs, stopGraceMs: 100 },
    createLogger('silent'),
  );
  await worker.start();
  try {
    await h.chat.waitFor(() => h.chat.thread(approval.id).some((t) => t.startsWith(`Post ${postId}:`)));
  } finally {
    await worker.stop();
  }
  expect(h.chat.thread(approval.id)).toContain(
    `X @acme: failed — IQSP stopped 8 times while publishing this. Nothing was published there; try again later with \`retry ${postId}\`.`,
  );
  expect(h.sims.x.published).toHaveLength(0);
});
