/**
 * The world the statement-fault sweep runs in: the whole service from the test harness (real
 * core, queue, worker, publishers, simulators on loopback, chat in memory), its database
 * instrumented with a `StatementFault`, and an observer connection of its own to read the state
 * without being counted or faulted.
 *
 * The workers poll only when poked (their interval is an hour), so a fault-free run issues the
 * same statements each time and "statement k" means the same step from one run to the next;
 * recovery pokes it as the real interval would.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { openDatabase, type Db } from '../../src/db/database.js';
import type { TargetStatus } from '../../src/db/schema.js';
import type { DatabaseLocation } from '../../src/config.js';
import { publishJobKey } from '../../src/core/posts.js';
import { ONE_PAGE } from '../e2e/platforms.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { StatementFault } from './statement-fault.js';

/** Short enough that a job whose worker lost track of it comes back within a run's recovery. */
export const LEASE_MS = 1_500;
const FINAL: readonly TargetStatus[] = ['published', 'failed', 'unconfirmed', 'cancelled'];

export interface FaultWorld {
  h: Harness;
  fault: StatementFault;
  /** A connection of its own: neither counted nor faulted. */
  observer: Db;
  close(): Promise<void>;
}

export async function startFaultWorld(): Promise<FaultWorld> {
  const h = await startHarness({
    sims: {
      graph: { containerPolls: { image: 0, video: 0, carousel: 0 }, videoPolls: 0, mediaNotReadyAnswers: 0 },
      x: {
        rateLimits: {
          tweets: { limit: 1e6, windowSec: 900 },
          usersMe: { limit: 1e6, windowSec: 900 },
          mediaUpload: { limit: 1e6, windowSec: 900 },
          mediaStatus: { limit: 1e6, windowSec: 900 },
        },
        mediaProcessing: { checkAfterSecs: 0, inProgressPolls: 0 },
      },
    },
    app: {
      worker: { pollMs: 3_600_000, leaseMs: LEASE_MS, backoffBaseMs: 20, backoffMaxMs: 200, maxAttempts: 3 },
      // A notice not said at once is said again within the run's recovery (in service: a minute).
      notices: { graceMs: 300, backoffBaseMs: 50, backoffMaxMs: 200 },
    },
  });
  for (const [platform, choice] of [['x'], ['facebook', ONE_PAGE]] as const) {
    const page = await h.connect(platform, 'U_ADA', choice);
    if (page.status !== 200) throw new Error(`connecting ${platform} failed: ${page.html}`);
  }
  const location: DatabaseLocation = h.databaseUrl.startsWith('sqlite:')
    ? { kind: 'sqlite', path: h.databaseUrl.slice('sqlite:'.length) }
    : { kind: 'postgres', url: h.databaseUrl };
  const observer = openDatabase(location);
  const fault = StatementFault.attach(h.app.services.db);
  return {
    h,
    fault,
    observer,
    async close() {
      await observer.destroy();
      await h.close();
    },
  };
}

/** Post ids whose caption carries `marker`. */
export async function postsWith(world: FaultWorld, marker: string): Promise<string[]> {
  const rows = await world.observer.selectFrom('posts').select('id').where('caption', 'like', `%${marker}%`).execute();
  return rows.map((r) => r.id);
}

/** The approval message of a post in the in-memory chat. */
export function approvalMessageId(world: FaultWorld, postId: string): string {
  const message = world.h.chat.channel.find((m) => !m.threadId && m.history[0]!.text.startsWith(`Post ${postId} from`));
  if (!message) throw new Error(`no approval message for ${postId}`);
  return message.id;
}

/** Waits until no statement has been counted for `quietMs` (the service has nothing left to do by itself). */
export async function untilQuiet(world: FaultWorld, quietMs = 250, maxMs = 20_000): Promise<void> {
  const deadline = Date.now() + maxMs;
  let last = world.fault.counted;
  let since = Date.now();
  while (Date.now() < deadline) {
    await sleep(20);
    if (world.fault.counted !== last) {
      last = world.fault.counted;
      since = Date.now();
    } else if (Date.now() - since >= quietMs && world.h.app.core.worker.active === 0 && world.h.app.core.noticeWorker.active === 0) return;
  }
}

/** What a post's targets, thread and jobs look like, for the invariants. */
interface PostState {
  id: string;
  status: string;
  approvalsRequired: number;
  approvers: number;
  /** Whether its approval message went out (it has a thread). */
  shown: boolean;
  thread: string[];
  targets: Array<{
    id: string;
    label: string;
    platform: string;
    status: TargetStatus;
    finishedAt: string | null;
    job: { status: string; leaseExpiresAt: string | null; lastError: string | null; attempts: number } | undefined;
  }>;
}

async function readPost(world: FaultWorld, postId: string): Promise<PostState> {
  const db = world.observer;
  const post = await db.selectFrom('posts').selectAll().where('id', '=', postId).executeTakeFirstOrThrow();
  const targets = await db.selectFrom('post_targets').selectAll().where('post_id', '=', postId).orderBy('created_at').execute();
  const jobs =
    targets.length === 0
      ? []
      : await db
          .selectFrom('jobs')
          .selectAll()
          .where(
            'dedupe_key',
            'in',
            targets.map((t) => publishJobKey(t.id)),
          )
          .execute();
  const decisions = await db
    .selectFrom('approvals')
    .select(['chat_user_id', 'decision'])
    .where('post_id', '=', postId)
    .where('counted', '=', 1)
    .orderBy('created_at')
    .execute();
  let approvedBy: string[] = [];
  for (const d of decisions) {
    if (d.decision === 'approve' && !approvedBy.includes(d.chat_user_id)) approvedBy.push(d.chat_user_id);
    else if (d.decision === 'withdraw') approvedBy = approvedBy.filter((id) => id !== d.chat_user_id);
  }
  const thread = post.approval_message_id ? world.h.chat.thread(post.approval_message_id) : [];
  return {
    id: postId,
    status: post.status,
    approvalsRequired: post.approvals_required,
    approvers: approvedBy.length,
    shown: post.approval_message_id !== null,
    thread,
    targets: targets.map((t) => {
      const job = jobs.find((j) => j.dedupe_key === publishJobKey(t.id));
      return {
        id: t.id,
        label: t.account_label,
        platform: t.platform,
        status: t.status,
        finishedAt: t.finished_at,
        job: job && { status: job.status, leaseExpiresAt: job.lease_expires_at, lastError: job.last_error, attempts: job.attempts },
      };
    }),
  };
}

const X_COMMIT = /^\/2\/tweets$/;
const FACEBOOK_COMMIT = /\/(feed|photos|videos)$/;

/**
 * Committing requests the platforms processed for the post carrying `marker`, per platform: the
 * request that makes a post live (a tweet, a Page post), counted when it reached the platform's
 * route (an injected refusal before the route ran is not a send).
 */
export function committingRequests(world: FaultWorld, marker: string): { x: number; facebook: number } {
  const { sims } = world.h;
  const carries = (body: unknown) => JSON.stringify(body).includes(marker);
  const processed = (fault: string | undefined) => fault !== 'status';
  return {
    x: sims.x.requests.filter((r) => r.method === 'POST' && X_COMMIT.test(r.path) && processed(r.fault) && carries(r.body)).length,
    facebook: sims.graph.requests.filter(
      (r) => r.method === 'POST' && FACEBOOK_COMMIT.test(r.path) && processed(r.fault) && carries(r.body),
    ).length,
  };
}

/** Every broken invariant of the posts carrying `marker`; empty when all hold. */
export async function violations(world: FaultWorld, marker: string): Promise<string[]> {
  const found: string[] = [];
  const postIds = await postsWith(world, marker);
  const nowIso = new Date().toISOString();
  for (const postId of postIds) {
    const post = await readPost(world, postId);
    const says = (pattern: RegExp) => post.thread.some((line) => pattern.test(line));
    const quorum = post.approvers >= post.approvalsRequired;
    // Every approved post gets its jobs.
    if (post.status === 'pending_approval' && quorum)
      found.push(`post ${postId}: ${post.approvers} of ${post.approvalsRequired} approvals counted, still pending_approval`);
    const decided = ['approved', 'publishing', 'published', 'partial', 'failed'].includes(post.status);
    for (const t of post.targets) {
      const where = `post ${postId} ${t.label}`;
      if (decided && !t.job) found.push(`${where}: the post is ${post.status} but the target has no job (target ${t.status})`);
      // Nothing `publishing` (or `queued`) without a live job.
      const live = t.job && (t.job.status === 'queued' || (t.job.status === 'running' && (t.job.leaseExpiresAt ?? '') > nowIso));
      if ((t.status === 'publishing' || t.status === 'queued') && !live)
        found.push(
          `${where}: left ${t.status} without a live job (job ${t.job ? `${t.job.status}, attempts ${t.job.attempts}${t.job.lastError ? `, last error "${t.job.lastError}"` : ''}` : 'missing'})`,
        );
      // Every target ends final.
      if (!FINAL.includes(t.status) && !(t.status === 'pending' && post.status === 'pending_approval' && !quorum))
        found.push(`${where}: not final (${t.status}, post ${post.status})`);
      // ... and is said in its thread.
      if (t.status === 'published' || t.status === 'failed' || t.status === 'unconfirmed') {
        if (t.finishedAt === null) found.push(`${where}: ${t.status} but never marked reported`);
        if (!says(new RegExp(`^${escape(t.label)}: ${t.status}`))) found.push(`${where}: ${t.status} but not said in its thread`);
      }
      // A post whose approval message never went out is withdrawn; the command's answer said so (there is no thread).
      const withdrawn = post.status === 'cancelled' && post.thread.length === 0 && !post.shown;
      if (t.status === 'cancelled' && !withdrawn && !says(new RegExp(`^(cancelled by .*${escape(t.label)}|rejected by |expired: )`)))
        found.push(`${where}: cancelled but not said in its thread`);
    }
    const allFinal = post.targets.every((t) => FINAL.includes(t.status) && (t.status === 'cancelled' || t.finishedAt !== null));
    const spoken = post.targets.some((t) => t.status !== 'cancelled');
    if (decided && allFinal && spoken) {
      if (!['published', 'partial', 'failed'].includes(post.status))
        found.push(`post ${postId}: every target is final but the post is ${post.status}`);
      else if (!says(new RegExp(`^Post ${postId}: ${post.status} \\(`)))
        found.push(`post ${postId}: ${post.status} but its summary was not said`);
    }
  }
  // At most one committing request per target (each post here has one target per platform).
  if (postIds.length <= 1) {
    const sent = committingRequests(world, marker);
    for (const [platform, n] of Object.entries(sent)) if (n > 1) found.push(`${platform}: ${n} committing requests for one target`);
  }
  return found;
}

/** True when nothing about the posts carrying `marker` can still move by itself. */
export async function settled(world: FaultWorld, marker: string): Promise<boolean> {
  if ((await violations(world, marker)).length > 0) return false;
  const postIds = await postsWith(world, marker);
  if (postIds.length === 0) return true;
  const targets = await world.observer.selectFrom('post_targets').select('id').where('post_id', 'in', postIds).execute();
  if (targets.length === 0) return true;
  const open = await world.observer
    .selectFrom('jobs')
    .select('id')
    .where(
      'dedupe_key',
      'in',
      targets.map((t) => publishJobKey(t.id)),
    )
    .where('status', 'in', ['queued', 'running'])
    .execute();
  return open.length === 0;
}

/** Leftovers of a run (a stuck job) must not weigh on the next: its jobs are cancelled, outside the app. */
export async function tidy(world: FaultWorld, marker: string): Promise<void> {
  world.h.sims.x.faults.length = 0;
  world.h.sims.graph.faults.length = 0;
  const postIds = await postsWith(world, marker);
  if (postIds.length === 0) return;
  const targets = await world.observer.selectFrom('post_targets').select('id').where('post_id', 'in', postIds).execute();
  if (targets.length === 0) return;
  await world.observer
    .updateTable('jobs')
    .set({ status: 'cancelled' })
    .where(
      'dedupe_key',
      'in',
      targets.map((t) => publishJobKey(t.id)),
    )
    .where('status', 'in', ['queued', 'running'])
    .execute();
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
