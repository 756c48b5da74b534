/**
 * The cleanup job (`CLEANUP_CRON`, and `iqsp cleanup` once): deletes the media of posts that
 * are over and media older than `MEDIA_TTL_HOURS` (never media a running publish is reading),
 * expires approval requests nobody decided, and purges used or expired connect links and
 * OAuth states. Each media deletion is recorded in the audit log.
 *
 * Safe beside publishing: a media row is marked deleted by a conditional update that checks
 * no target of its post is publishing, and only then is the file removed.
 */
import cron, { type ScheduledTask } from 'node-cron';
import type { BackgroundService } from '../app.js';
import type { Db } from '../db/database.js';
import { isoNow } from '../db/database.js';
import type { Leases } from '../db/leases.js';
import type { PostStatus } from '../db/schema.js';
import type { MediaStore } from '../media/store.js';
import type { Logger } from '../observability/logger.js';
import { appendAudit } from '../core/audit.js';
import type { PostsService } from '../core/posts.js';

/** Posts in these states will publish nothing more; their media can go. */
const OVER: readonly PostStatus[] = ['published', 'partial', 'failed', 'rejected', 'expired', 'cancelled'];
/** Media taken in for a request that never became a post (refused, or a modal left open). */
const ORPHAN_MEDIA_AFTER_MS = 3600_000;
const CHAT_EVENTS_KEPT_MS = 24 * 3600_000;

export interface CleanupReport {
  mediaDeleted: Array<{ mediaId: string; postId: string | null; reason: 'post-finished' | 'ttl' | 'orphan' }>;
  approvalsExpired: string[];
  connectLinksPurged: number;
  oauthStatesPurged: number;
}

export class CleanupService {
  private readonly now: () => Date;

  constructor(
    private readonly deps: { db: Db; store: MediaStore; posts: PostsService; logger: Logger; now?: () => Date },
  ) {
    this.now = deps.now ?? (() => new Date());
  }

  async run(): Promise<CleanupReport> {
    const approvalsExpired = await this.deps.posts.expireDue();
    const mediaDeleted = await this.deleteMedia();
    const nowIso = isoNow(this.now());
    const links = await this.deps.db
      .deleteFrom('connect_links')
      .where((eb) => eb.or([eb('used_at', 'is not', null), eb('expires_at', '<=', nowIso)]))
      // A link still referenced by a live OAuth state goes with that state.
      .where('id', 'not in', this.deps.db.selectFrom('oauth_states').select('connect_link_id').where('used_at', 'is', null).where('expires_at', '>', nowIso).where('connect_link_id', 'is not', null).$narrowType<{ connect_link_id: string }>())
      .executeTakeFirst();
    const states = await this.deps.db
      .deleteFrom('oauth_states')
      .where((eb) => eb.or([eb('used_at', 'is not', null), eb('expires_at', '<=', nowIso)]))
      .executeTakeFirst();
    await this.deps.db.deleteFrom('chat_events').where('received_at', '<', isoNow(new Date(this.now().getTime() - CHAT_EVENTS_KEPT_MS))).execute();
    await this.deps.db.deleteFrom('leases').where('expires_at', '<', nowIso).execute();
    return {
      mediaDeleted,
      approvalsExpired,
      connectLinksPurged: Number(links.numDeletedRows),
      oauthStatesPurged: Number(states.numDeletedRows),
    };
  }

  private async deleteMedia(): Promise<CleanupReport['mediaDeleted']> {
    const now = this.now();
    const nowIso = isoNow(now);
    const candidates = await this.deps.db
      .selectFrom('media')
      .leftJoin('posts', 'posts.id', 'media.post_id')
      .select(['media.id', 'media.post_id', 'media.storage_key', 'media.expires_at', 'media.created_at', 'media.workspace_id', 'posts.status as postStatus'])
      .where('media.deleted_at', 'is', null)
      .execute();
    const deleted: CleanupReport['mediaDeleted'] = [];
    for (const m of candidates) {
      const reason: 'post-finished' | 'ttl' | 'orphan' | undefined =
        m.postStatus && OVER.includes(m.postStatus)
          ? 'post-finished'
          : m.expires_at <= nowIso
            ? 'ttl'
            : m.post_id === null && Date.parse(m.created_at) <= now.getTime() - ORPHAN_MEDIA_AFTER_MS
              ? 'orphan'
              : undefined;
      if (!reason) continue;
      const marked = await this.deps.db
        .updateTable('media')
        .set({ deleted_at: nowIso })
        .where('id', '=', m.id)
        .where('deleted_at', 'is', null)
        .where(({ not, exists, selectFrom }) =>
          not(exists(selectFrom('post_targets').select('post_targets.id').whereRef('post_targets.post_id', '=', 'media.post_id').where('post_targets.status', '=', 'publishing'))),
        )
        .executeTakeFirst();
      if (Number(marked.numUpdatedRows) !== 1) continue; // a publish is reading it right now
      await this.deps.store.delete(m.storage_key);
      await appendAudit(this.deps.db, { action: 'media.deleted', workspaceId: m.workspace_id, actorId: null, subjectType: 'media', subjectId: m.id, detail: { reason, post: m.post_id } });
      deleted.push({ mediaId: m.id, postId: m.post_id, reason });
    }
    if (deleted.some((d) => d.reason === 'orphan')) {
      // Orphans never belonged to a post: nothing about them is worth keeping.
      await this.deps.db.deleteFrom('media').where('post_id', 'is', null).where('deleted_at', 'is not', null).execute();
    }
    return deleted;
  }
}

/**
 * Runs cleanup on `CLEANUP_CRON`. Every instance schedules it; node-cron's distributed mode asks
 * `shouldRun` with a key naming the tick (the task name and the scheduled time), and the first
 * instance to take that key's lease runs the tick: exactly one run per tick across instances,
 * whichever of them are alive. The lease outlives the tick (at least a minute), so a slow
 * instance that reaches the tick late finds it taken. `stop` takes no new tick and waits for the
 * one in flight, so a tick whose lease was taken always runs before the database closes.
 */
export class CleanupCron implements BackgroundService {
  readonly name = 'cleanup-cron';
  readonly role = 'worker';
  private task: ScheduledTask | undefined;
  private stopping = false;
  /** Lease requests and runs under way. */
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly cleanup: CleanupService,
    private readonly leases: Leases,
    private readonly expression: string,
    private readonly logger: Logger,
    /** This instance, as recorded in the tick leases it takes. */
    private readonly owner: string,
  ) {}

  async start(): Promise<void> {
    const { leases, owner } = this;
    this.stopping = false;
    this.task = cron.schedule(
      this.expression,
      (context) =>
        this.track(
          (async () => {
            const tick = context.date.toISOString();
            try {
              const report = await this.cleanup.run();
              this.logger.info({ tick, cleanup: summarize(report) }, 'cleanup ran');
            } catch (error) {
              this.logger.error({ err: error, tick }, 'cleanup failed');
            }
          })(),
        ),
      {
        name: CLEANUP_TASK,
        noOverlap: true,
        distributed: true,
        runCoordinator: {
          shouldRun: (key: string, ttlMs: number) => (this.stopping ? false : this.track(leases.tryAcquire(key, owner, Math.max(ttlMs, 60_000)))),
        },
      },
    );
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.task?.stop();
    await this.task?.destroy();
    // A granted lease starts its run in the same turn it resolves: loop until nothing is left.
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.inFlight.add(work);
    const forget = () => this.inFlight.delete(work);
    work.then(forget, forget);
    return work;
  }
}

/** The cron task's name; tick leases are named `${CLEANUP_TASK}:${tick ISO time}`. */
export const CLEANUP_TASK = 'iqsp-cleanup';

export function summarize(report: CleanupReport): Record<string, number> {
  return {
    mediaDeleted: report.mediaDeleted.length,
    approvalsExpired: report.approvalsExpired.length,
    connectLinksPurged: report.connectLinksPurged,
    oauthStatesPurged: report.oauthStatesPurged,
  };
}
