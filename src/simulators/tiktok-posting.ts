/**
 * Direct Post on the TikTok simulator (platform-apis.md §4.4–4.9): video init (FILE_UPLOAD with
 * its chunk arithmetic, or PULL_FROM_URL), the chunk PUTs checked strictly (order, sizes,
 * Content-Range, Content-Type), photo posts pulled from their URLs for real, and the status
 * of each post, which moves one step per status read: PROCESSING_UPLOAD or
 * PROCESSING_DOWNLOAD, then PUBLISH_COMPLETE (or FAILED with TikTok's fail_reason).
 */
import { NumericIds, randomToken, tiktokLogId } from './ids.js';
import { fetchMedia, sniffType, type FetchedMedia } from './media-fetch.js';
import { header, receivedFile, type SimRequest, type SimResponse } from './server.js';
import type { PrivacyLevel, TiktokAccountSpec, TiktokPublished, TiktokSimulatorOptions } from './tiktok.js';
import { asRecord, envelope, objectBody } from './tiktok-shapes.js';

const PRIVACY_LEVELS = new Set<string>(['PUBLIC_TO_EVERYONE', 'MUTUAL_FOLLOW_FRIENDS', 'FOLLOWER_OF_CREATOR', 'SELF_ONLY']);
const VIDEO_CONTENT_TYPES = new Set(['video/mp4', 'video/quicktime', 'video/webm']);
const MIB = 1024 * 1024;
/**
 * Chunk limits read strictly both ways ("5 MB" may mean 5,000,000 or 5 MiB): a chunk must be at
 * least 5 MiB and at most 64,000,000 bytes (Media Transfer Guide).
 */
const MIN_CHUNK = 5 * MIB;
const MAX_CHUNK = 64_000_000;
const MAX_VIDEO_BYTES = 4 * 1024 * MIB;
const MAX_PHOTO_BYTES = 20 * MIB;
const UPLOAD_URL_LIFETIME_MS = 3600_000;
const WEB = 'https://www.tiktok.com';

interface ChunkUpload {
  uploadId: string;
  uploadToken: string;
  videoSize: number;
  chunkSize: number;
  totalChunks: number;
  nextIndex: number;
  received: number;
  chunkSha256: string[];
  head: Buffer;
  expiresAt: number;
}

interface Publish {
  id: string;
  openId: string;
  kind: 'video' | 'photo';
  title?: string | undefined;
  description?: string | undefined;
  privacyLevel: PrivacyLevel;
  upload?: ChunkUpload | undefined;
  /** Media being pulled: settles when every download is done. */
  pulling?: Promise<void> | undefined;
  pulled: FetchedMedia[];
  pulledBytes: number;
  inputDone: boolean;
  failReason?: string | undefined;
  pollsLeft: number;
  moderationLeft: number;
  postId?: string | undefined;
  complete: boolean;
  at: Date;
}

export class TiktokPosting {
  /** Every post that reached PUBLISH_COMPLETE, in order. */
  readonly published: TiktokPublished[] = [];
  readonly mediaFetches: Array<{ url: string; ok: boolean; bytes?: number | undefined; reason?: string | undefined }> = [];
  private readonly publishes = new Map<string, Publish>();
  private readonly uploads = new Map<string, Publish>();
  private readonly publishIds = new NumericIds('1000000000000000001');
  private readonly postIds = new NumericIds('7391000000000000001');

  constructor(
    private readonly options: TiktokSimulatorOptions,
    /** The simulator's origin, where upload URLs point. */
    private readonly baseUrl: () => string,
    /** Aborted when the simulator closes, ending downloads in flight. */
    private readonly signal: AbortSignal,
  ) {}

  /** Posts of this creator that went live (creator_info's and user/info's counts). */
  completedCount(openId: string): number {
    return [...this.publishes.values()].filter((p) => p.openId === openId && p.complete).length;
  }

  /** Checks shared by video and photo Direct Posts; undefined when the post may go ahead. */
  private directPostProblem(account: TiktokAccountSpec, privacy: unknown): SimResponse | undefined {
    if (typeof privacy !== 'string' || !PRIVACY_LEVELS.has(privacy))
      return envelope(400, {}, 'invalid_params', 'post_info.privacy_level is required.');
    if (!account.privacyLevelOptions.includes(privacy as PrivacyLevel))
      return envelope(400, {}, 'privacy_level_option_mismatch', 'privacy_level is not one of the privacy_level_options of creator_info.');
    if (!this.options.audited && (privacy !== 'SELF_ONLY' || !account.isPrivate))
      return envelope(
        403,
        {},
        'unaudited_client_can_only_post_to_private_accounts',
        'Please review our integration guidelines at https://developers.tiktok.com/doc/content-sharing-guidelines/',
      );
    const cap = this.options.dailyPostCap;
    const dayAgo = Date.now() - 24 * 3600_000;
    if (
      cap !== undefined &&
      [...this.publishes.values()].filter((p) => p.openId === account.openId && p.at.getTime() > dayAgo).length >= cap
    )
      return envelope(403, {}, 'spam_risk_too_many_posts', 'The daily post cap from the API is reached for the current user.');
    return undefined;
  }

  private unverified(url: string): boolean {
    const prefixes = this.options.verifiedUrlPrefixes;
    return prefixes !== undefined && !prefixes.some((prefix) => url.startsWith(prefix));
  }

  videoInit(request: SimRequest, account: TiktokAccountSpec): SimResponse {
    const body = objectBody(request);
    const postInfo = asRecord(body?.post_info);
    const source = asRecord(body?.source_info);
    if (!body || !postInfo || !source) return envelope(400, {}, 'invalid_params', 'post_info and source_info are required.');
    const title = postInfo.title;
    if (title !== undefined && (typeof title !== 'string' || title.length > 2_200))
      return envelope(400, {}, 'invalid_params', 'post_info.title must be at most 2200 UTF-16 characters.');
    const problem = this.directPostProblem(account, postInfo.privacy_level);
    if (problem) return problem;
    const publish = this.newPublish(
      account,
      'video',
      postInfo.privacy_level as PrivacyLevel,
      typeof title === 'string' ? title : undefined,
      undefined,
    );

    if (source.source === 'PULL_FROM_URL') {
      const url = source.video_url;
      if (typeof url !== 'string') return envelope(400, {}, 'invalid_params', 'source_info.video_url is required for PULL_FROM_URL.');
      if (this.unverified(url))
        return envelope(403, {}, 'url_ownership_unverified', 'The domain or URL prefix of video_url is not verified for this app.');
      this.startPull(publish, [url], 'video');
      return envelope(200, { publish_id: publish.id });
    }
    if (source.source !== 'FILE_UPLOAD')
      return envelope(400, {}, 'invalid_params', 'source_info.source must be FILE_UPLOAD or PULL_FROM_URL.');
    const plan = chunkPlanProblem(source.video_size, source.chunk_size, source.total_chunk_count);
    if (typeof plan === 'string') return envelope(400, {}, 'invalid_params', plan);
    const upload: ChunkUpload = {
      uploadId: this.publishIds.take(),
      uploadToken: randomToken('', 24),
      ...plan,
      nextIndex: 0,
      received: 0,
      chunkSha256: [],
      head: Buffer.alloc(0),
      expiresAt: Date.now() + UPLOAD_URL_LIFETIME_MS,
    };
    publish.upload = upload;
    this.uploads.set(upload.uploadId, publish);
    const uploadUrl = `${this.baseUrl()}/video/?upload_id=${upload.uploadId}&upload_token=${encodeURIComponent(upload.uploadToken)}`;
    return envelope(200, { publish_id: publish.id, upload_url: uploadUrl });
  }

  /** One chunk: in order, with Content-Range, Content-Type and byte count exactly as init promised. */
  putChunk(request: SimRequest): SimResponse {
    const publish = this.uploads.get(request.query.upload_id ?? '');
    const upload = publish?.upload;
    if (!publish || !upload || request.query.upload_token !== upload.uploadToken)
      return envelope(404, {}, 'invalid_params', 'upload_id or upload_token is not valid.');
    if (upload.expiresAt < Date.now()) return envelope(400, {}, 'invalid_params', 'The upload_url has expired (it is valid for one hour).');
    if (upload.nextIndex >= upload.totalChunks) return envelope(400, {}, 'invalid_params', 'Every chunk was already uploaded.');
    const contentType = (header(request, 'content-type') ?? '').split(';')[0]?.trim() ?? '';
    if (!VIDEO_CONTENT_TYPES.has(contentType))
      return envelope(400, {}, 'invalid_params', `Content-Type must be video/mp4, video/quicktime or video/webm, not "${contentType}".`);
    const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(header(request, 'content-range') ?? '');
    if (!range) return envelope(400, {}, 'invalid_params', 'Content-Range must read "bytes {first}-{last}/{total}".');
    const [first, last, total] = [Number(range[1]), Number(range[2]), Number(range[3])];
    const index = upload.nextIndex;
    const isLast = index === upload.totalChunks - 1;
    const expectedFirst = index * upload.chunkSize;
    const expectedLast = isLast ? upload.videoSize - 1 : expectedFirst + upload.chunkSize - 1;
    if (total !== upload.videoSize)
      return envelope(400, {}, 'invalid_params', `Content-Range total ${total} is not the video_size ${upload.videoSize}.`);
    if (first !== expectedFirst || last !== expectedLast)
      return envelope(
        400,
        {},
        'invalid_params',
        `Chunk ${index} must be bytes ${expectedFirst}-${expectedLast}/${upload.videoSize}; got ${first}-${last}/${total}.`,
      );
    const file = receivedFile(request.body);
    const bytes = file?.bytes ?? 0;
    if (bytes !== last - first + 1)
      return envelope(400, {}, 'invalid_params', `Chunk ${index} carried ${bytes} bytes; Content-Range announces ${last - first + 1}.`);
    upload.nextIndex += 1;
    upload.received += bytes;
    upload.chunkSha256.push(file?.sha256 ?? '');
    if (index === 0 && file) upload.head = file.head;
    if (!isLast) return { status: 206, headers: { 'content-range': `bytes 0-${last}/${upload.videoSize}` } };
    // The whole file is in: with Direct Post the post now goes live after processing.
    publish.inputDone = true;
    const type = sniffType(upload.head);
    if (!type || !VIDEO_CONTENT_TYPES.has(type)) publish.failReason = 'file_format_check_failed';
    return { status: 201 };
  }

  contentInit(request: SimRequest, account: TiktokAccountSpec, scopes: readonly string[]): SimResponse {
    const body = objectBody(request);
    const postInfo = asRecord(body?.post_info);
    const source = asRecord(body?.source_info);
    if (!body || !postInfo || !source) return envelope(400, {}, 'invalid_params', 'post_info and source_info are required.');
    if (body.media_type !== 'PHOTO') return envelope(400, {}, 'invalid_params', 'media_type must be PHOTO.');
    const mode = body.post_mode;
    if (mode !== 'DIRECT_POST' && mode !== 'MEDIA_UPLOAD')
      return envelope(400, {}, 'invalid_params', 'post_mode must be DIRECT_POST or MEDIA_UPLOAD.');
    const needed = mode === 'DIRECT_POST' ? 'video.publish' : 'video.upload';
    if (!scopes.includes(needed))
      return envelope(
        401,
        {},
        'scope_not_authorized',
        `The user did not authorize the scope required for completing this request (${needed}).`,
      );
    if (mode === 'MEDIA_UPLOAD')
      return envelope(400, {}, 'invalid_params', 'Inbox (MEDIA_UPLOAD) posts are not simulated; IQSP uses DIRECT_POST.');
    const { title, description } = postInfo;
    if (title !== undefined && (typeof title !== 'string' || title.length > 90))
      return envelope(400, {}, 'invalid_params', 'post_info.title must be at most 90 characters.');
    if (description !== undefined && (typeof description !== 'string' || description.length > 4_000))
      return envelope(400, {}, 'invalid_params', 'post_info.description must be at most 4000 characters.');
    if (source.source !== 'PULL_FROM_URL') return envelope(400, {}, 'invalid_params', 'Photo posts support only PULL_FROM_URL.');
    const images = source.photo_images;
    if (!Array.isArray(images) || images.length < 1 || images.length > 35 || images.some((u) => typeof u !== 'string'))
      return envelope(400, {}, 'invalid_params', 'source_info.photo_images must list 1 to 35 URLs.');
    const cover = source.photo_cover_index;
    if (typeof cover !== 'number' || !Number.isInteger(cover) || cover < 0 || cover >= images.length)
      return envelope(400, {}, 'invalid_params', 'source_info.photo_cover_index must index photo_images.');
    const problem = this.directPostProblem(account, postInfo.privacy_level);
    if (problem) return problem;
    const urls = images as string[];
    if (urls.some((u) => this.unverified(u)))
      return envelope(403, {}, 'url_ownership_unverified', 'The domain or URL prefix of photo_images is not verified for this app.');
    const publish = this.newPublish(
      account,
      'photo',
      postInfo.privacy_level as PrivacyLevel,
      typeof title === 'string' ? title : undefined,
      typeof description === 'string' ? description : undefined,
    );
    this.startPull(publish, urls, 'photo');
    return envelope(200, { publish_id: publish.id });
  }

  private newPublish(
    account: TiktokAccountSpec,
    kind: Publish['kind'],
    privacyLevel: PrivacyLevel,
    title: string | undefined,
    description: string | undefined,
  ): Publish {
    const publish: Publish = {
      id: `${kind === 'video' ? 'v' : 'p'}_pub_${kind === 'video' ? 'file' : 'url'}~v2-1.${this.publishIds.take()}`,
      openId: account.openId,
      kind,
      title,
      description,
      privacyLevel,
      pulled: [],
      pulledBytes: 0,
      inputDone: false,
      pollsLeft: this.options.processingPolls,
      moderationLeft: privacyLevel === 'SELF_ONLY' ? 0 : this.options.moderationPolls,
      complete: false,
      at: new Date(),
    };
    this.publishes.set(publish.id, publish);
    return publish;
  }

  /** TikTok downloads in the background after answering init; the status shows the outcome. */
  private startPull(publish: Publish, urls: string[], kind: 'video' | 'photo'): void {
    publish.pulling = (async () => {
      for (const url of urls) {
        const result = await fetchMedia(url, this.signal);
        this.mediaFetches.push(result.ok ? { url, ok: true, bytes: result.media.bytes } : { url, ok: false, reason: result.reason });
        if (!result.ok) {
          publish.failReason = kind === 'video' ? 'video_pull_failed' : 'photo_pull_failed';
          break;
        }
        publish.pulled.push(result.media);
        publish.pulledBytes += result.media.bytes;
        const type = result.media.type;
        if (kind === 'photo' && type !== 'image/jpeg' && type !== 'image/webp') publish.failReason = 'file_format_check_failed';
        else if (kind === 'photo' && result.media.bytes > MAX_PHOTO_BYTES) publish.failReason = 'picture_size_check_failed';
        else if (kind === 'video' && (!type || !VIDEO_CONTENT_TYPES.has(type))) publish.failReason = 'file_format_check_failed';
        if (publish.failReason) break;
      }
      publish.inputDone = true;
    })();
  }

  async statusFetch(request: SimRequest, account: TiktokAccountSpec): Promise<SimResponse> {
    const publishId = objectBody(request)?.publish_id;
    const publish = typeof publishId === 'string' ? this.publishes.get(publishId) : undefined;
    if (!publish || publish.openId !== account.openId)
      return envelope(400, {}, 'invalid_publish_id', 'publish_id does not exist for this user.');
    // A download that is about to finish is awaited briefly, so polls see a settled state promptly.
    if (publish.pulling) await Promise.race([publish.pulling, new Promise((resolve) => setTimeout(resolve, 50))]);
    return statusAnswer(this.advance(publish));
  }

  /** One status read: moves the post one step on and returns what TikTok would report. */
  private advance(publish: Publish): Record<string, unknown> {
    const processing = publish.upload ? 'PROCESSING_UPLOAD' : 'PROCESSING_DOWNLOAD';
    const progress = publish.upload ? { uploaded_bytes: publish.upload.received } : { downloaded_bytes: publish.pulledBytes };
    if (!publish.inputDone) return { status: processing, ...progress };
    if (publish.failReason) return { status: 'FAILED', fail_reason: publish.failReason, ...progress };
    if (publish.pollsLeft > 0) {
      publish.pollsLeft -= 1;
      return { status: processing, ...progress };
    }
    if (!publish.complete) this.complete(publish);
    const ids: string[] = [];
    if (publish.moderationLeft > 0) publish.moderationLeft -= 1;
    else if (publish.postId) ids.push(publish.postId);
    return { status: 'PUBLISH_COMPLETE', ...progress, publicaly_available_post_id: ids };
  }

  private complete(publish: Publish): void {
    publish.complete = true;
    const account = this.options.accounts.find((a) => a.openId === publish.openId);
    const username = account?.username ?? publish.openId;
    // TikTok never gives the public id of a private (SELF_ONLY) post.
    if (publish.privacyLevel !== 'SELF_ONLY') publish.postId = this.postIds.take();
    const upload = publish.upload;
    this.published.push({
      accountId: publish.openId,
      username,
      publishId: publish.id,
      postId: publish.postId,
      kind: publish.kind,
      title: publish.title,
      description: publish.description,
      privacyLevel: publish.privacyLevel,
      media: upload
        ? [{ bytes: upload.received, chunkSha256: upload.chunkSha256, type: sniffType(upload.head) }]
        : publish.pulled.map((m) => ({ url: m.url, bytes: m.bytes, sha256: m.sha256, type: m.type })),
      permalink: publish.postId ? `${WEB}/@${username}/${publish.kind}/${publish.postId}` : `${WEB}/@${username}`,
      at: new Date(),
    });
  }

  /** Runs every post whose media is in to its end, as if TikTok had been left alone long enough. */
  async finishProcessing(): Promise<void> {
    for (const publish of this.publishes.values()) {
      await publish.pulling;
      if (!publish.inputDone || publish.failReason || publish.complete) continue;
      publish.pollsLeft = 0;
      this.advance(publish);
    }
  }
}

/**
 * The FILE_UPLOAD rules of the Media Transfer Guide: total_chunk_count = floor(video_size /
 * chunk_size) within 1–1000; a video under 5 MB goes whole (chunk_size = video_size); chunks
 * are 5–64 MB; a video over 64 MB is split; the last chunk takes the rest, up to 128 MB.
 * Returns the plan, or what is wrong with it.
 */
export function chunkPlanProblem(
  videoSize: unknown,
  chunkSize: unknown,
  totalChunkCount: unknown,
): { videoSize: number; chunkSize: number; totalChunks: number } | string {
  const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
  if (!isCount(videoSize) || !isCount(chunkSize) || !isCount(totalChunkCount))
    return 'video_size, chunk_size and total_chunk_count must be positive integers.';
  if (videoSize > MAX_VIDEO_BYTES) return `video_size ${videoSize} is over 4 GB.`;
  if (chunkSize > videoSize) return `chunk_size ${chunkSize} is larger than video_size ${videoSize}.`;
  if (totalChunkCount !== Math.floor(videoSize / chunkSize))
    return `total_chunk_count must be floor(video_size / chunk_size) = ${Math.floor(videoSize / chunkSize)}, not ${totalChunkCount}.`;
  if (totalChunkCount > 1000) return 'total_chunk_count must be at most 1000.';
  if (videoSize < MIN_CHUNK)
    return chunkSize === videoSize
      ? { videoSize, chunkSize, totalChunks: 1 }
      : `A video under 5 MB is uploaded whole: chunk_size must equal video_size (${videoSize}).`;
  if (chunkSize < MIN_CHUNK || chunkSize > MAX_CHUNK) return `chunk_size ${chunkSize} must be between 5 MB and 64 MB.`;
  if (totalChunkCount === 1 && videoSize > MAX_CHUNK) return 'A video over 64 MB must be uploaded in several chunks.';
  // The last chunk (the rest) is under 2 × chunk_size ≤ 128 MB by the floor rule, so TikTok's
  // 128 MB cap on it needs no check of its own.
  return { videoSize, chunkSize, totalChunks: totalChunkCount };
}

/**
 * The status answer, written by hand: `publicaly_available_post_id` holds 64-bit ids that TikTok
 * sends as bare JSON numbers, which JSON.stringify cannot write without rounding them.
 */
function statusAnswer(data: Record<string, unknown>): SimResponse {
  const { publicaly_available_post_id: ids, ...rest } = data;
  const base = JSON.stringify(rest).slice(0, -1);
  const idList = Array.isArray(ids) ? `,"publicaly_available_post_id":[${ids.join(',')}]` : '';
  const body = `{"data":${base}${idList}},"error":{"code":"ok","message":"","log_id":"${tiktokLogId()}"}}`;
  return { status: 200, headers: { 'content-type': 'application/json; charset=UTF-8' }, body };
}
