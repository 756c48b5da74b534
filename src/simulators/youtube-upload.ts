/**
 * videos.insert's resumable protocol as the simulator enforces it (more-platforms.md §2.4):
 * the session start (metadata checked as YouTube checks it, `X-Upload-Content-*` required), the
 * session URI in `Location`, then PUTs whose `Content-Range` continues exactly where the stored
 * bytes end, every request but the last a multiple of 256 KiB, `308` + `Range: bytes=0-n` while
 * bytes are missing, the status probe (`bytes *\/total`), `200` with the video resource once the
 * last byte is in (and to every later probe), `404` once a session expired. Bytes are counted
 * and hashed per request, never kept.
 */
import { randomBytes } from 'node:crypto';
import type { SimRequest, SimResponse } from './server.js';
import { header, json } from './server.js';
import { asRecord, googleError } from './youtube-shapes.js';

export const UPLOAD_GRANULE = 256 * 1024;
const KNOWN_PARTS = new Set([
  'snippet',
  'status',
  'contentDetails',
  'fileDetails',
  'id',
  'liveStreamingDetails',
  'localizations',
  'player',
  'processingDetails',
  'recordingDetails',
  'statistics',
  'suggestions',
  'topicDetails',
]);
const PRIVACY = new Set(['public', 'unlisted', 'private']);
/** Video categories YouTube assigns in most regions. */
const CATEGORIES = new Set(['1', '2', '10', '15', '17', '19', '20', '22', '23', '24', '25', '26', '27', '28', '29']);

export interface UploadChannel {
  id: string;
  title: string;
  handle?: string | undefined;
}

export interface YoutubeVideo {
  id: string;
  channel: UploadChannel;
  title: string;
  description: string;
  categoryId: string;
  privacyStatus: string;
  bytes: number;
  /** The requests' byte ranges as stored, with each fully kept request's SHA-256. */
  chunks: Array<{ start: number; end: number; sha256?: string | undefined }>;
  contentType: string;
  /** Status reads left that answer `uploaded` before `processed`. */
  processingReadsLeft: number;
  uploadStatus: 'uploaded' | 'processed' | 'failed' | 'rejected' | 'deleted';
  failureReason?: string | undefined;
  rejectionReason?: string | undefined;
  permalink: string;
  at: Date;
}

interface Session {
  id: string;
  channel: UploadChannel;
  total: number;
  contentType: string;
  metadata: { title: string; description: string; categoryId: string; privacyStatus: string };
  received: number;
  chunks: YoutubeVideo['chunks'];
  expired: boolean;
  video?: YoutubeVideo | undefined;
}

export interface UploadOptions {
  processingPolls: number;
}

export class YoutubeUploads {
  readonly videos: YoutubeVideo[] = [];
  private readonly sessions = new Map<string, Session>();
  /** Faults of the protocol itself: the next data request keeps at most this many bytes. */
  private readonly keepLimits: number[] = [];
  private readonly outcomes: Array<Pick<YoutubeVideo, 'uploadStatus' | 'failureReason' | 'rejectionReason'>> = [];

  constructor(
    private readonly options: UploadOptions,
    private readonly origin: () => string,
  ) {}

  /** Step 1: checks the metadata and the declared file, and opens a session. */
  start(request: SimRequest, channel: UploadChannel): SimResponse {
    if (request.query.uploadType !== 'resumable')
      return googleError(400, 'invalidParameter', 'This simulator takes videos.insert only as uploadType=resumable.', 'global');
    const parts = (request.query.part ?? '').split(',').filter(Boolean);
    if (parts.length === 0) return googleError(400, 'required', 'Required parameter: part', 'global');
    const unknown = parts.filter((p) => !KNOWN_PARTS.has(p));
    if (unknown.length > 0) return googleError(400, 'unexpectedPart', `The part parameter value ${unknown.join(',')} is not valid.`);
    if (!/^application\/json/i.test(header(request, 'content-type') ?? ''))
      return googleError(400, 'badContent', 'The metadata must be sent as application/json.', 'global');
    const totalText = header(request, 'x-upload-content-length');
    const total = Number(totalText);
    if (!totalText || !Number.isSafeInteger(total) || total <= 0)
      return googleError(400, 'badRequest', 'X-Upload-Content-Length must give the file size in bytes.', 'global');
    const contentType = header(request, 'x-upload-content-type') ?? '';
    if (!/^video\/[\w.+-]+$/i.test(contentType) && contentType !== 'application/octet-stream')
      return googleError(400, 'invalidContentType', 'X-Upload-Content-Type must be video/* or application/octet-stream.');
    const body = request.body.kind === 'json' ? asRecord(request.body.value) : undefined;
    if (!body) return googleError(400, 'parseError', 'The metadata is not a JSON object.', 'global');
    const snippet = asRecord(body.snippet) ?? {};
    const status = asRecord(body.status) ?? {};
    if (!parts.includes('snippet') && body.snippet !== undefined)
      return googleError(400, 'unexpectedPart', 'The snippet is sent but part does not name it.');
    const title = typeof snippet.title === 'string' ? snippet.title : '';
    if (title.trim() === '' || [...title].length > 100 || /[<>]/.test(title))
      return googleError(400, 'invalidTitle', 'The request metadata specifies an invalid or empty video title.');
    const description = typeof snippet.description === 'string' ? snippet.description : '';
    if (Buffer.byteLength(description) > 5000 || /[<>]/.test(description))
      return googleError(400, 'invalidDescription', 'The request metadata specifies an invalid video description.');
    const categoryId =
      snippet.categoryId === undefined
        ? '22'
        : typeof snippet.categoryId === 'string'
          ? snippet.categoryId
          : JSON.stringify(snippet.categoryId);
    if (!CATEGORIES.has(categoryId))
      return googleError(400, 'invalidCategoryId', 'The snippet.categoryId property specifies an invalid category ID.');
    // Since 2 Nov 2026 an upload without a privacy status is public.
    const privacyStatus =
      status.privacyStatus === undefined
        ? 'public'
        : typeof status.privacyStatus === 'string'
          ? status.privacyStatus
          : JSON.stringify(status.privacyStatus);
    if (!PRIVACY.has(privacyStatus))
      return googleError(400, 'invalidVideoMetadata', `The request metadata is invalid: privacyStatus "${privacyStatus}".`);
    const id = randomBytes(24).toString('base64url');
    this.sessions.set(id, {
      id,
      channel,
      total,
      contentType,
      metadata: { title, description, categoryId, privacyStatus },
      received: 0,
      chunks: [],
      expired: false,
    });
    const location = `${this.origin()}/upload/youtube/v3/videos?uploadType=resumable&part=${encodeURIComponent(parts.join(','))}&upload_id=${id}`;
    return { status: 200, headers: { location, 'x-guploader-uploadid': id, 'content-type': 'text/html; charset=UTF-8' }, body: '' };
  }

  /** Steps 2 and 3: a range of bytes, or the status probe. */
  put(request: SimRequest): SimResponse {
    const session = this.sessions.get(request.query.upload_id ?? '');
    if (!session || session.expired) return googleError(404, 'notFound', 'The upload session was not found or has expired.', 'global');
    if (session.video) return this.finished(session.video);
    const range = header(request, 'content-range') ?? '';
    const probe = /^bytes \*\/(\d+)$/.exec(range);
    if (probe) {
      if (Number(probe[1]) !== session.total)
        return googleError(400, 'badRequest', 'Content-Range total differs from X-Upload-Content-Length.', 'global');
      if (request.body.kind !== 'none')
        return googleError(400, 'badRequest', 'A status request carries no bytes (Content-Length: 0).', 'global');
      return this.incomplete(session);
    }
    const match = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(range);
    if (!match) return googleError(400, 'badRequest', `Content-Range "${range}" is not bytes first-last/total.`, 'global');
    const [start, end, total] = [Number(match[1]), Number(match[2]), Number(match[3])];
    if (total !== session.total)
      return googleError(400, 'badRequest', 'Content-Range total differs from X-Upload-Content-Length.', 'global');
    if (end < start || end >= total) return googleError(400, 'badRequest', `Content-Range ${start}-${end} is outside the file.`, 'global');
    if (start !== session.received)
      return googleError(
        400,
        'badRequest',
        `Content-Range starts at ${start}, but the session holds bytes 0-${session.received - 1}: resume from ${session.received}.`,
        'global',
      );
    const length = end - start + 1;
    const last = end === total - 1;
    if (!last && length % UPLOAD_GRANULE !== 0)
      return googleError(
        400,
        'badRequest',
        `Every request but the last must carry a multiple of ${UPLOAD_GRANULE} bytes; this one carries ${length}.`,
        'global',
      );
    if (request.body.kind !== 'bytes' || request.body.received.bytes !== length)
      return googleError(
        400,
        'badRequest',
        `Content-Range announces ${length} bytes; the request carried ${request.body.kind === 'bytes' ? request.body.received.bytes : 0}.`,
        'global',
      );
    const limit = this.keepLimits.shift();
    const kept = limit === undefined ? length : Math.min(length, Math.floor(limit / UPLOAD_GRANULE) * UPLOAD_GRANULE);
    if (kept > 0) session.chunks.push({ start, end: start + kept - 1, sha256: kept === length ? request.body.received.sha256 : undefined });
    session.received += kept;
    if (session.received < session.total) return this.incomplete(session);
    session.video = this.createVideo(session);
    return this.finished(session.video);
  }

  /** YouTube keeps only `bytes` (rounded down to 256 KiB) of the next data request, as it may. */
  keepFewerOnNextRequest(bytes: number): void {
    this.keepLimits.push(bytes);
  }

  /** Every open session ends, as a week of waiting would end it. */
  expireSessions(): void {
    for (const session of this.sessions.values()) if (!session.video) session.expired = true;
  }

  /** The next finished upload fails processing or is rejected. */
  nextOutcome(outcome: Pick<YoutubeVideo, 'uploadStatus' | 'failureReason' | 'rejectionReason'>): void {
    this.outcomes.push(outcome);
  }

  /** A status read: counts processing down. */
  readStatus(video: YoutubeVideo): void {
    if (video.uploadStatus !== 'uploaded') return;
    if (video.processingReadsLeft > 0) video.processingReadsLeft -= 1;
    else video.uploadStatus = 'processed';
  }

  private incomplete(session: Session): SimResponse {
    const headers: Record<string, string> = { 'x-guploader-uploadid': session.id, 'content-type': 'text/plain; charset=utf-8' };
    if (session.received > 0) headers.range = `bytes=0-${session.received - 1}`;
    return { status: 308, headers, body: '' };
  }

  private createVideo(session: Session): YoutubeVideo {
    const id = randomBytes(8).toString('base64url').slice(0, 11);
    const outcome = this.outcomes.shift();
    const video: YoutubeVideo = {
      id,
      channel: session.channel,
      ...session.metadata,
      bytes: session.received,
      chunks: session.chunks,
      contentType: session.contentType,
      processingReadsLeft: this.options.processingPolls,
      uploadStatus: 'uploaded',
      permalink: `https://www.youtube.com/watch?v=${id}`,
      at: new Date(),
      ...(outcome ? { ...outcome, processingReadsLeft: 0 } : {}),
    };
    this.videos.push(video);
    return video;
  }

  private finished(video: YoutubeVideo): SimResponse {
    return json(200, videoResource(video, ['snippet', 'status']));
  }
}

/** A video resource with the parts asked for. */
export function videoResource(video: YoutubeVideo, parts: readonly string[]): Record<string, unknown> {
  const resource: Record<string, unknown> = { kind: 'youtube#video', etag: `etag-${video.id}`, id: video.id };
  if (parts.includes('snippet'))
    resource.snippet = {
      publishedAt: video.at.toISOString(),
      channelId: video.channel.id,
      title: video.title,
      description: video.description,
      categoryId: video.categoryId,
      channelTitle: video.channel.title,
      liveBroadcastContent: 'none',
    };
  if (parts.includes('status'))
    resource.status = {
      uploadStatus: video.uploadStatus,
      ...(video.failureReason ? { failureReason: video.failureReason } : {}),
      ...(video.rejectionReason ? { rejectionReason: video.rejectionReason } : {}),
      privacyStatus: video.privacyStatus,
      license: 'youtube',
      embeddable: true,
      publicStatsViewable: true,
    };
  if (parts.includes('processingDetails'))
    resource.processingDetails = {
      processingStatus:
        video.uploadStatus === 'uploaded'
          ? 'processing'
          : video.uploadStatus === 'processed'
            ? 'succeeded'
            : video.uploadStatus === 'deleted'
              ? 'terminated'
              : 'failed',
    };
  return resource;
}
