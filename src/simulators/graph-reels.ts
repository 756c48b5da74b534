/**
 * Facebook Page Reels on the simulated Graph API (more-platforms.md §6), with the rupload host on
 * the same loopback server (its upload URL is a `/rupload/video-upload/<version>/<video-id>` path):
 *   POST /{page-id}/video_reels upload_phase=start         → {video_id, upload_url}
 *   POST /rupload/video-upload/{v}/{video-id}               Authorization: OAuth <page token>, offset: 0,
 *                                                           file_size: <bytes>, the bytes (or a file_url header)
 *   POST /{page-id}/video_reels upload_phase=finish&video_id&video_state=PUBLISHED&description
 *   GET  /{video-id}?fields=status                          processing, then published
 *   GET  /{page-id}/video_reels                             the Page's reels (graph.ts lists them)
 * The Page token, its permissions and the CREATE_CONTENT task are checked as for every Page
 * publish; a Page may publish `reelsDailyLimit` reels per rolling 24 hours.
 */
import { graphError, graphTime, META_ERRORS, type GraphNode } from './graph-shapes.js';
import { VIDEO_TYPES, type Caller, type GraphWorld, type ReelRecord } from './graph-model.js';
import type { GraphPublishing } from './graph-publishing.js';
import { sniffType } from './media-fetch.js';
import { header, json, parameters, receivedFile, type SimRequest, type SimResponse } from './server.js';

const DAY_MS = 86_400_000;

export class GraphReels {
  constructor(
    private readonly world: GraphWorld,
    private readonly publishing: GraphPublishing,
    /** The simulator's origin, for the upload URLs it hands out. */
    private readonly origin: () => string,
  ) {}

  /** The path prefix of the simulated rupload host. */
  static readonly UPLOAD_PREFIX = '/rupload/video-upload';

  /** POST /{page-id}/video_reels: the start or the finish phase. */
  videoReels(request: SimRequest, caller: Caller): SimResponse {
    const target = this.publishing.publishingPage(request.params[0] ?? '', caller);
    if ('status' in target) return target;
    const p = parameters(request);
    const pageId = target.page.id;
    if (p.upload_phase === 'start') {
      const since = Date.now() - DAY_MS;
      const recent = [...this.world.reels.values()].filter((r) => r.pageId === pageId && r.finishedAt && r.finishedAt.getTime() > since);
      if (recent.length >= this.world.options.reelsDailyLimit)
        return graphError(400, {
          message: `(#4) Application request limit reached: this Page published ${recent.length} reels through the API in the last 24 hours`,
          code: 4,
          is_transient: true,
        });
      const reel: ReelRecord = {
        id: this.world.objectIds.take(),
        pageId,
        phase: 'started',
        pollsLeft: this.world.options.videoPolls,
        createdAt: new Date(),
      };
      this.world.reels.set(reel.id, reel);
      return json(200, {
        video_id: reel.id,
        upload_url: `${this.origin()}${GraphReels.UPLOAD_PREFIX}/${this.world.options.version}/${reel.id}`,
      });
    }
    if (p.upload_phase === 'finish') {
      const reel = this.world.reels.get(p.video_id ?? '');
      if (!reel || reel.pageId !== pageId) return META_ERRORS.parameter('param video_id must be a reel this Page started');
      if (p.video_state !== 'PUBLISHED')
        return META_ERRORS.parameter(
          p.video_state === undefined
            ? 'The parameter video_state is required'
            : 'Only video_state=PUBLISHED is simulated (DRAFT and SCHEDULED are not)',
        );
      if (reel.phase === 'started')
        return graphError(400, { message: 'The video was not uploaded; upload it before finishing.', code: 6000, error_subcode: 1363019 });
      if (reel.phase === 'finished') return META_ERRORS.parameter('This reel was already published');
      reel.phase = 'finished';
      reel.description = p.description !== undefined && p.description.trim() !== '' ? p.description : undefined;
      reel.finishedAt = new Date();
      if (!reel.media?.type || !VIDEO_TYPES.has(reel.media.type) || reel.media.type !== 'video/mp4')
        reel.failure = 'The video file format is not supported for Reels; upload an MP4 (H.264 or H.265, AAC).';
      else this.world.record('facebook', pageId, reel.id, 'reel', reel.description, [reel.media], reelPermalink(reel.id));
      return json(200, { success: true });
    }
    return META_ERRORS.parameter(`param upload_phase must be one of {start, finish} (got ${p.upload_phase ?? 'none'})`);
  }

  /** POST /rupload/video-upload/{v}/{video-id}: the bytes, all at once from offset 0. */
  async upload(request: SimRequest): Promise<SimResponse> {
    const [version = '', videoId = ''] = request.params;
    if (version !== this.world.options.version) return ruploadError(404, 'NotFoundError', `Unknown API version ${version}`);
    const auth = /^OAuth\s+(\S+)$/.exec(header(request, 'authorization') ?? '')?.[1];
    if (!auth) return ruploadError(401, 'AuthError', 'Missing the Authorization: OAuth <page access token> header');
    const token = this.world.tokens.get(auth);
    const reel = this.world.reels.get(videoId);
    if (!token || token.kind !== 'page' || !reel || token.pageId !== reel.pageId || !this.world.pageVisible(reel.pageId, token))
      return ruploadError(401, 'AuthError', 'Invalid OAuth access token for this video');
    if (
      token.grant.revoked ||
      token.generation !== token.grant.generation ||
      (token.expiresAt !== undefined && token.expiresAt < Date.now())
    )
      return ruploadError(401, 'AuthError', 'Error validating access token');
    if (reel.phase === 'finished') return ruploadError(400, 'ProcessingFailedError', 'This video was already published');
    const offset = header(request, 'offset');
    const fileSize = header(request, 'file_size');
    if (offset === undefined || fileSize === undefined || !/^\d+$/.test(fileSize))
      return ruploadError(400, 'ProcessingFailedError', 'The offset and file_size headers are required');
    if (offset !== '0')
      return ruploadError(400, 'ProcessingFailedError', `Resuming at offset ${offset} is not simulated; upload from offset 0`);
    const fileUrl = header(request, 'file_url');
    if (fileUrl !== undefined) {
      const media = await this.world.download(fileUrl);
      if (!media) return ruploadError(400, 'ProcessingFailedError', 'The video could not be downloaded from file_url');
      reel.media = media;
    } else {
      const received = receivedFile(request.body);
      if (!received || received.bytes === 0) return ruploadError(400, 'ProcessingFailedError', 'The request has no video bytes');
      if (received.bytes !== Number(fileSize))
        return ruploadError(400, 'ProcessingFailedError', `file_size says ${fileSize} bytes but ${received.bytes} were received`);
      reel.media = {
        url: `rupload:${videoId}`,
        contentType: header(request, 'content-type'),
        bytes: received.bytes,
        sha256: received.sha256,
        type: sniffType(received.head),
      };
    }
    reel.phase = 'uploaded';
    return json(200, { success: true });
  }

  /** The reel as a Video node; reading its `status` moves processing on, one step per read. */
  node(reel: ReelRecord, readStatus: boolean): GraphNode {
    return {
      type: 'Video',
      defaults: ['updated_time', 'description'],
      fields: {
        id: reel.id,
        description: reel.description,
        created_time: graphTime(reel.finishedAt ?? reel.createdAt),
        updated_time: graphTime(reel.finishedAt ?? reel.createdAt),
        permalink_url: `/reel/${reel.id}/`,
        published: reel.phase === 'finished' && reel.failure === undefined && reel.pollsLeft === 0,
        status: readStatus ? this.status(reel) : undefined,
      },
    };
  }

  /** The Page's reels that went live, for the list. */
  listed(pageId: string): ReelRecord[] {
    return [...this.world.reels.values()].filter((r) => r.pageId === pageId && r.phase === 'finished' && r.failure === undefined);
  }

  private status(reel: ReelRecord): Record<string, unknown> {
    const bytes = reel.media?.bytes ?? 0;
    const uploading = { status: reel.phase === 'started' ? 'not_started' : 'complete', bytes_transferred: bytes };
    if (reel.phase !== 'finished')
      return {
        video_status: 'upload_complete',
        uploading_phase: uploading,
        processing_phase: { status: 'not_started' },
        publishing_phase: { status: 'not_started' },
      };
    if (reel.failure !== undefined)
      return {
        video_status: 'error',
        uploading_phase: uploading,
        processing_phase: { status: 'error', errors: [{ code: 1363011, message: reel.failure }] },
        publishing_phase: { status: 'not_started' },
      };
    if (reel.pollsLeft > 0) {
      reel.pollsLeft -= 1;
      return {
        video_status: 'processing',
        uploading_phase: uploading,
        processing_phase: { status: 'in_progress' },
        publishing_phase: { status: 'not_started' },
      };
    }
    return {
      video_status: 'ready',
      uploading_phase: uploading,
      processing_phase: { status: 'complete' },
      publishing_phase: {
        status: 'complete',
        publish_status: 'published',
        publish_time: Math.floor((reel.finishedAt ?? reel.createdAt).getTime() / 1000),
      },
    };
  }
}

export function reelPermalink(id: string): string {
  return `https://www.facebook.com/reel/${id}`;
}

/** The rupload host's error shape: `{"debug_info":{"retriable":false,"type":…,"message":…}}`. */
function ruploadError(status: number, type: string, message: string): SimResponse {
  return json(status, { debug_info: { retriable: false, type, message } });
}
