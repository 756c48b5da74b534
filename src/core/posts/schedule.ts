/**
 * Scheduled posts: the time a request names, resolved in the requester's zone; the due job that
 * ends a post nobody approved by its time; `scheduled` (what is coming) and `reschedule`.
 *
 * A due time lives in the database: on the post (`scheduled_at`, with the zone it was written in)
 * and, as `run_at`, on the jobs that act on it: the post's publish jobs (enqueued on approval,
 * claimed like any job once due) and its due job (POST_DUE_QUEUE, enqueued with the post). No
 * in-memory timer decides anything, so a restart or a dead instance delays a due post by at most
 * the job lease, and the exactly-once rules of publishing apply unchanged.
 */
import type { Invocation, Reply } from '../ports/chat.js';
import { privateReply } from '../ports/chat.js';
import { isoNow, type Db } from '../../db/database.js';
import { lockPostOnly, postInWorkspace } from '../../db/repositories/posts.js';
import {
  approvalsSoFar,
  keepMediaOfPostUntil,
  moveQueuedJobs,
  moveSchedule,
  recentOutcomes,
  targetLabelsOf,
  upcomingPosts,
} from '../../db/repositories/schedule.js';
import { targetsOfPostIn } from '../../db/repositories/targets.js';
import type { JobQueue } from '../../jobs/queue.js';
import type { ClaimedJob } from '../../jobs/queue.js';
import type { JobDecision } from '../../jobs/worker.js';
import { appendAudit } from '../audit.js';
import { ensureMember, type Member } from '../directory.js';
import { joinRich, mention, rich, timeAt, type RichText } from '../ports/rich-text.js';
import type { SchedulePreferences } from '../schedule/preferences.js';
import { resolveWhen, type Resolution, type When } from '../schedule/when.js';
import { formatInZone } from '../schedule/zones.js';
import { publishJobKey, type PostsContext } from './context.js';
import type { PostDecisions } from './decisions.js';
import { statusWords } from './texts.js';
import type { PostThread } from './thread.js';

/** The queue of due jobs: at a scheduled post's time, one ends it if nobody approved it. */
export const POST_DUE_QUEUE = 'post-due';

export function dueJobKey(postId: string): string {
  return `due:${postId}`;
}

/** A scheduled post as `scheduled` and the App Home list it. */
export interface UpcomingPost {
  id: string;
  at: Date;
  /** The zone it was written in. */
  zone: string;
  status: 'pending_approval' | 'approved';
  targets: string[];
  approvals: number;
  required: number;
  caption: string;
  requesterExternalId: string;
}

/** A finished post, for the App Home. */
export interface RecentOutcome {
  id: string;
  status: string;
  finishedAt: Date;
  caption: string;
  targets: string[];
}

export class PostSchedule {
  constructor(
    private readonly ctx: PostsContext,
    private readonly thread: PostThread,
    private readonly decisions: PostDecisions,
    private readonly preferences: SchedulePreferences,
  ) {}

  private get deps() {
    return this.ctx.deps;
  }

  /** The instant `when` names for `member`, read in their zone. */
  async resolve(member: Member, when: When, chatZone?: string): Promise<Resolution> {
    const { zone } = await this.preferences.zoneOf(member, chatZone);
    return resolveWhen(when, {
      now: this.ctx.now(),
      zone,
      maxDays: this.preferences.maxDays,
      nextSlot: () => this.preferences.nextSlot(member.workspaceId),
    });
  }

  /**
   * Inside the transaction that stores a scheduled post: its due job (at its time, it ends the
   * post if nobody approved it) and its media kept until its time plus MEDIA_TTL_HOURS.
   */
  async storeIn(trx: Db, postId: string, at: Date): Promise<void> {
    await this.enqueueDue(trx, postId, at);
    await keepMediaOfPostUntil(trx, postId, isoNow(this.mediaKeptUntil(at)));
  }

  private mediaKeptUntil(at: Date): Date {
    return new Date(at.getTime() + (this.deps.mediaTtlHours ?? 24) * 3600_000);
  }

  private async enqueueDue(trx: Db, postId: string, at: Date): Promise<void> {
    await this.queue.enqueue(
      { queue: POST_DUE_QUEUE, dedupeKey: dueJobKey(postId), groupKey: 'post-due', payload: { postId }, runAt: at, maxAttempts: 20 },
      trx,
    );
  }

  private get queue(): JobQueue {
    return this.deps.queue;
  }

  /**
   * The due job's handler: at the post's time, a post still waiting for approval expires (said in
   * its thread); one approved meanwhile publishes through its own jobs, and nothing happens here.
   * A post whose time this instance's clock has not reached yet is looked at again then; so is
   * one a `reschedule` moved while this job was claimed (it could not move the job, only the post).
   */
  readonly handleDue = async (job: ClaimedJob): Promise<JobDecision> => {
    const postId = String(job.payload.postId);
    const due = await this.waitingUntil(postId);
    if (!due) return { kind: 'done' };
    if (due.getTime() > this.ctx.now().getTime()) return { kind: 'retry', at: due, reason: 'not due yet by this clock' };
    if (await this.decisions.expire(postId)) return { kind: 'done' };
    // Not expired: decided meanwhile, or moved to a later time between the read above and the expiry.
    const moved = await this.waitingUntil(postId);
    return moved ? { kind: 'retry', at: moved, reason: 'rescheduled meanwhile' } : { kind: 'done' };
  };

  /** When a post still waiting for approval expires (its time, for a scheduled one); undefined once it is not waiting. */
  private async waitingUntil(postId: string): Promise<Date | undefined> {
    const post = await this.deps.db
      .selectFrom('posts')
      .select(['status', 'approval_expires_at'])
      .where('id', '=', postId)
      .executeTakeFirst();
    return post?.status === 'pending_approval' ? new Date(post.approval_expires_at) : undefined;
  }

  /** The workspace's upcoming scheduled posts, soonest first. */
  async upcoming(workspaceId: string, limit = 50): Promise<UpcomingPost[]> {
    const rows = await upcomingPosts(this.deps.db, workspaceId, limit);
    const ids = rows.map((r) => r.id);
    const [targets, approvals] = await Promise.all([targetLabelsOf(this.deps.db, ids), approvalsSoFar(this.deps.db, ids)]);
    return rows.map((r) => ({
      id: r.id,
      at: new Date(r.scheduled_at!),
      zone: r.schedule_zone ?? 'UTC',
      status: r.status as UpcomingPost['status'],
      targets: targets.get(r.id) ?? [],
      approvals: approvals.get(r.id) ?? 0,
      required: r.approvals_required,
      caption: r.caption,
      requesterExternalId: r.requester_external_id,
    }));
  }

  /** The workspace's latest finished posts, newest first. */
  async recent(workspaceId: string, limit = 20): Promise<RecentOutcome[]> {
    const rows = await recentOutcomes(this.deps.db, workspaceId, limit);
    const targets = await targetLabelsOf(
      this.deps.db,
      rows.map((r) => r.id),
    );
    return rows.map((r) => ({
      id: r.id,
      status: r.status,
      finishedAt: new Date(r.finished_at!),
      caption: r.caption,
      targets: targets.get(r.id) ?? [],
    }));
  }

  /** `scheduled`: the workspace's upcoming posts, each time in the caller's zone. */
  async scheduled(invocation: Invocation): Promise<Reply> {
    const member = await ensureMember(this.deps.db, invocation);
    const { zone } = await this.preferences.zoneOf(member, invocation.timeZone);
    const posts = await this.upcoming(member.workspaceId);
    if (posts.length === 0)
      return privateReply('Nothing is scheduled in this workspace. Schedule a post with `post <targets> at YYYY-MM-DD HH:MM <caption>`.');
    const now = this.ctx.now();
    const lines = posts.map((p) => {
      const state = p.status === 'approved' ? 'approved' : `${p.approvals} of ${p.required} approvals`;
      return rich`• ${p.id} ${timeAt(p.at, zone)}: ${p.targets.join(', ')} (${state})`;
    });
    return privateReply(joinRich([`*Scheduled posts* (times in ${zone}; now ${formatInZone(now, zone, now)})`, ...lines], '\n'));
  }

  /**
   * `reschedule <post-id> <when>`: the requester or an admin moves a post that has not started
   * publishing; its approvals are kept (its content did not change). `now`: as soon as approved.
   */
  async reschedule(invocation: Invocation, postId: string, when: When): Promise<Reply> {
    const member = await ensureMember(this.deps.db, invocation);
    const post = await postInWorkspace(this.deps.db, postId, member.workspaceId);
    if (!post) return privateReply(`There is no post ${postId} in this workspace. Post ids are shown on approval messages.`);
    if (post.requester_id !== member.userId && !invocation.isAdmin)
      return privateReply(`Only the person who asked for post ${postId} or an admin can reschedule it.`);
    if (post.status !== 'pending_approval' && post.status !== 'approved')
      return privateReply(`Post ${postId} is ${statusWords(post.status)}: only a post that has not started publishing can be rescheduled.`);
    const resolved = await this.resolve(member, when, invocation.timeZone);
    if (!resolved.ok) return privateReply(`Post ${postId} was not moved. ${resolved.message}`);
    const now = this.ctx.now();
    const at = resolved.at;
    // However often it is moved, a post waits (and keeps its files) at most SCHEDULE_MAX_DAYS from its request.
    const limit = new Date(Date.parse(post.created_at) + this.preferences.maxDays * 86_400_000);
    if ((at ?? now).getTime() > limit.getTime())
      return privateReply(
        `Post ${postId} was not moved: a post can wait at most ${this.preferences.maxDays} days from its request (SCHEDULE_MAX_DAYS), here until ${formatInZone(limit, resolved.zone, now)}. Ask for it again instead.`,
      );
    const moved = await this.deps.db
      .transaction()
      .execute(async (trx) => {
        await lockPostOnly(trx, postId);
        const nowIso = isoNow(now);
        // A post waiting for approval may be approved until its time; without a time, for the usual window.
        const approvalEnds = at ?? new Date(Math.min(now.getTime() + this.deps.approvalTtlHours * 3600_000, limit.getTime()));
        if (
          !(await moveSchedule(trx, postId, {
            scheduledAt: at ? isoNow(at) : null,
            zone: at ? resolved.zone : null,
            approvalExpiresAt: isoNow(approvalEnds),
            nowIso,
          }))
        )
          return undefined;
        const queued = await targetsOfPostIn(trx, postId, ['queued']);
        if (queued.length > 0) {
          // Approved already: its publish jobs move with it, unless a run has claimed one (publishing started).
          const keys = queued.map((t) => publishJobKey(t.id));
          if ((await moveQueuedJobs(trx, keys, isoNow(at ?? now), nowIso)) !== keys.length) throw new PublishingStarted();
        }
        // The due job moves with the approval window (or comes to be, for a post that had no time).
        if ((await moveQueuedJobs(trx, [dueJobKey(postId)], isoNow(approvalEnds), nowIso)) === 0)
          await this.enqueueDue(trx, postId, approvalEnds);
        await keepMediaOfPostUntil(trx, postId, isoNow(this.mediaKeptUntil(at ?? now)));
        await appendAudit(trx, {
          action: 'post.rescheduled',
          workspaceId: member.workspaceId,
          actorId: member.userId,
          subjectType: 'post',
          subjectId: postId,
          detail: { at: at ? isoNow(at) : 'now' },
        });
        const who = rich`rescheduled by ${mention(invocation.userExternalId)}`;
        const text: RichText = at
          ? rich`${who}: it now publishes ${timeAt(at, resolved.zone)}${queued.length > 0 ? '' : ' once approved'}.${resolved.note ? ` ${resolved.note}` : ''}`
          : rich`${who}: it publishes as soon as it is approved${queued.length > 0 ? ' (it is: publishing now)' : ''}.`;
        // Approved or not as of this transaction: the post may have been approved since it was read above.
        return { notice: await this.ctx.notices.write(trx, postId, text), approved: queued.length > 0 };
      })
      .catch((error: unknown) => {
        if (error instanceof PublishingStarted) return 'started' as const;
        throw error;
      });
    if (moved === 'started') return privateReply(`Post ${postId} has started publishing; it can no longer be moved.`);
    if (!moved) return privateReply(`Post ${postId} has started publishing or ended meanwhile; it was not moved.`);
    await this.ctx.notices.deliver(moved.notice);
    await this.thread.refreshApprovalMessage(postId, moved.approved ? 'approved' : 'pending');
    if (moved.approved && !at) this.deps.onEnqueued?.();
    const zone = resolved.zone;
    return privateReply(
      at
        ? `Post ${postId} now publishes ${formatInZone(at, zone, now)}${moved.approved ? '' : ' once approved'}.${resolved.note ? ` ${resolved.note}` : ''}`
        : `Post ${postId} publishes as soon as it is approved${moved.approved ? ' (it is: now)' : ''}.`,
    );
  }
}

/** A reschedule found a publish job already claimed: the transaction is rolled back. */
class PublishingStarted extends Error {}
