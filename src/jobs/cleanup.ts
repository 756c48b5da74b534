/**
 * The cleanup job (`CLEANUP_CRON`, and `iqsp cleanup` once): deletes the media of posts that
 * are over and media older than `MEDIA_TTL_HOURS` (never media a running publish is reading),
 * expires approval requests nobody decided, and purges used or expired connect links and
 * OAuth states. Each media deletion is recorded in the audit log.
 *
 * Safe beside publishing: a media row is marked deleted by a conditional update that checks
 * no target of its post is publishing, and only then is the file removed.
 *
 * The media rows are the truth and files follow them: a row is marked deleted (with its audit
 * entry, in one transaction) before its file is removed, and a sweep then removes, once older
 * than an hour, every stored file no live row names (stored before its row insert failed, a
 * copy whose row went with its original, a file a crash or an outage left behind) and what
 * writes that never finished left (`*.part` downloads, partial files, open multipart uploads).
 * An hour is far longer than any write takes, so nothing being written is ever touched.
 */
import { LeasedCron } from './cron.js';
import type { Db } from '../db/database.js';
import { isoNow } from '../db/database.js';
import type { Leases } from '../db/leases.js';
import type { PostStatus } from '../db/schema.js';
import type { MediaService } from '../media/service.js';
import type { MediaStore } from '../media/store.js';
import type { Logger } from '../observability/logger.js';
import { appendAudit } from '../core/audit.js';
import { purgeRemovedWorkspaces } from '../core/data-rights.js';
import type { PostsService } from '../core/posts.js';

/** Posts in these states will publish nothing more; their media can go. */
const OVER: readonly PostStatus[] = ['published', 'partial', 'failed', 'rejected', 'expired', 'cancelled'];
/**
 * Media taken in for a request that never became a post (refused, or a modal left open), a copy
 * whose original is gone, and stored files no row names are removed once this old.
 */
const ORPHAN_MEDIA_AFTER_MS = 3600_000;
const CHAT_EVENTS_KEPT_MS = 24 * 3600_000;

/** Why a media item was deleted: its post is over, it outlived MEDIA_TTL_HOURS, it never became part of a post, or it is a copy whose original is gone. */
export type MediaDeletionReason = 'post-finished' | 'ttl' | 'orphan' | 'original-gone';

export interface CleanupReport {
  mediaDeleted: Array<{ mediaId: string; postId: string | null; reason: MediaDeletionReason }>;
  approvalsExpired: string[];
  connectLinksPurged: number;
  oauthStatesPurged: number;
  /** Leftovers of writes that never finished: `*.part` downloads, partial store files, open multipart uploads. */
  unfinishedWritesRemoved: number;
  /** Stored files no live media row named. */
  unreferencedFilesRemoved: number;
  /** Workspaces the app was removed from longer ago than the retention, deleted with all they held. */
  workspacesPurged: number;
}

export class CleanupService {
  private readonly now: () => Date;

  constructor(
    private readonly deps: {
      db: Db;
      store: MediaStore;
      media: Pick<MediaService, 'removeUnfinishedDownloads'>;
      posts: PostsService;
      logger: Logger;
      now?: () => Date;
    },
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
      .where(
        'id',
        'not in',
        this.deps.db
          .selectFrom('oauth_states')
          .select('connect_link_id')
          .where('used_at', 'is', null)
          .where('expires_at', '>', nowIso)
          .where('connect_link_id', 'is not', null)
          .$narrowType<{ connect_link_id: string }>(),
      )
      .executeTakeFirst();
    const states = await this.deps.db
      .deleteFrom('oauth_states')
      .where((eb) => eb.or([eb('used_at', 'is not', null), eb('expires_at', '<=', nowIso)]))
      .executeTakeFirst();
    await this.deps.db
      .deleteFrom('chat_events')
      .where('received_at', '<', isoNow(new Date(this.now().getTime() - CHAT_EVENTS_KEPT_MS)))
      .execute();
    await this.deps.db.deleteFrom('leases').where('expires_at', '<', nowIso).execute();
    const workspacesPurged = await purgeRemovedWorkspaces(
      { db: this.deps.db, media: this.deps.store, logger: this.deps.logger },
      this.now(),
    );
    const swept = await this.sweepFiles(new Date(this.now().getTime() - ORPHAN_MEDIA_AFTER_MS));
    return {
      workspacesPurged,
      mediaDeleted,
      approvalsExpired,
      connectLinksPurged: Number(links.numDeletedRows),
      oauthStatesPurged: Number(states.numDeletedRows),
      ...swept,
    };
  }

  /** Removes unfinished writes and stored files no live media row names, when last written before `cutoff`. */
  private async sweepFiles(cutoff: Date): Promise<Pick<CleanupReport, 'unfinishedWritesRemoved' | 'unreferencedFilesRemoved'>> {
    const { db, store, media } = this.deps;
    const unfinishedWritesRemoved = (await media.removeUnfinishedDownloads(cutoff)) + (await store.removeUnfinished(cutoff));
    // Read before listing: a file stored after this read is newer than the cutoff, so it is skipped whatever its row.
    const live = new Set(
      (await db.selectFrom('media').select('storage_key').where('deleted_at', 'is', null).execute()).map((m) => m.storage_key),
    );
    let unreferencedFilesRemoved = 0;
    for await (const entry of store.list()) {
      if (entry.modifiedAt.getTime() >= cutoff.getTime() || live.has(entry.key)) continue;
      await store.delete(entry.key);
      unreferencedFilesRemoved += 1;
    }
    return { unfinishedWritesRemoved, unreferencedFilesRemoved };
  }

  private async deleteMedia(): Promise<CleanupReport['mediaDeleted']> {
    const now = this.now();
    const nowIso = isoNow(now);
    const candidates = await this.deps.db
      .selectFrom('media')
      .leftJoin('posts', 'posts.id', 'media.post_id')
      .leftJoin('media as original', 'original.id', 'media.derived_from_id')
      .select([
        'media.id',
        'media.post_id',
        'media.derived_from_id',
        'media.storage_key',
        'media.expires_at',
        'media.created_at',
        'media.workspace_id',
        'posts.status as postStatus',
        'original.id as originalId',
        'original.deleted_at as originalDeletedAt',
      ])
      .where('media.deleted_at', 'is', null)
      .execute();
    const old = (createdAt: string) => Date.parse(createdAt) <= now.getTime() - ORPHAN_MEDIA_AFTER_MS;
    const deleted: CleanupReport['mediaDeleted'] = [];
    for (const m of candidates) {
      const reason: MediaDeletionReason | undefined =
        m.postStatus && OVER.includes(m.postStatus)
          ? 'post-finished'
          : m.expires_at <= nowIso
            ? 'ttl'
            : m.post_id === null && old(m.created_at)
              ? 'orphan'
              : m.derived_from_id !== null && (m.originalId === null || m.originalDeletedAt !== null) && old(m.created_at)
                ? 'original-gone'
                : undefined;
      if (!reason) continue;
      // The mark and its audit entry commit together; the file goes after (or with the sweep, if removing it fails now).
      const marked = await this.deps.db.transaction().execute(async (trx) => {
        const updated = await trx
          .updateTable('media')
          .set({ deleted_at: nowIso })
          .where('id', '=', m.id)
          .where('deleted_at', 'is', null)
          .where(({ not, exists, selectFrom }) =>
            not(
              exists(
                selectFrom('post_targets')
                  .select('post_targets.id')
                  .whereRef('post_targets.post_id', '=', 'media.post_id')
                  .where('post_targets.status', '=', 'publishing'),
              ),
            ),
          )
          .executeTakeFirst();
        if (Number(updated.numUpdatedRows) !== 1) return false; // a publish is reading it right now
        await appendAudit(
          trx,
          {
            action: 'media.deleted',
            workspaceId: m.workspace_id,
            actorId: null,
            subjectType: 'media',
            subjectId: m.id,
            detail: { reason, post: m.post_id },
          },
          now,
        );
        return true;
      });
      if (!marked) continue;
      await this.deps.store
        .delete(m.storage_key)
        .catch((error: unknown) =>
          this.deps.logger.warn({ err: error, mediaId: m.id }, 'could not remove a deleted media file; the next cleanup removes it'),
        );
      deleted.push({ mediaId: m.id, postId: m.post_id, reason });
    }
    // Orphans never belonged to a post: nothing about them is worth keeping (also those a failed run left marked).
    await this.deps.db.deleteFrom('media').where('post_id', 'is', null).where('deleted_at', 'is not', null).execute();
    return deleted;
  }
}

/** Runs cleanup on `CLEANUP_CRON`, one instance per tick (cron.ts). */
export class CleanupCron extends LeasedCron {
  constructor(cleanup: CleanupService, leases: Leases, expression: string, logger: Logger, owner: string) {
    super(
      {
        name: 'cleanup-cron',
        task: CLEANUP_TASK,
        what: 'cleanup',
        expression,
        run: async () => ({ cleanup: summarize(await cleanup.run()) }),
      },
      leases,
      logger,
      owner,
    );
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
    unfinishedWritesRemoved: report.unfinishedWritesRemoved,
    unreferencedFilesRemoved: report.unreferencedFilesRemoved,
    workspacesPurged: report.workspacesPurged,
  };
}
