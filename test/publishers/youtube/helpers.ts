/**
 * Shared pieces of the YouTube tests: the publisher under test, Google's error shapes, nock
 * interceptors for the resumable upload, and small patterned "videos".
 */
import nock from 'nock';
import type { MediaInfo } from '../../../src/media/media.js';
import type { PublishRequest, Publisher } from '../../../src/publishers/publisher.js';
import { createYoutubePublisher } from '../../../src/publishers/youtube/index.js';
import type { YoutubePublisherOptions } from '../../../src/publishers/youtube/index.js';
import { addVideoBytes } from '../../helpers/media.js';
import { newLog, publishRequest as sharedPublishRequest, type PublishLog } from '../../helpers/publish-request.js';
import type { ContractContext } from '../contract.js';
import { exactly } from '../tiktok/helpers.js';

export { exactly };
export const API = 'https://www.googleapis.com';
export const AUTHORIZE = 'https://accounts.google.com/o/oauth2/v2/auth';
export const TOKEN_HOST = 'https://oauth2.googleapis.com';
export const REDIRECT = 'https://iqsp.example.com/oauth/youtube/callback';
export const CLIENT = { client_id: '1234-iqsp.apps.googleusercontent.com', client_secret: 'GOCSPX-test-secret' };
export const SCOPE = 'https://www.googleapis.com/auth/youtube.upload https://www.googleapis.com/auth/youtube.readonly';
export const ACCESS = 'ya29.youtube-access-1';
export const REFRESH = '1//0g-youtube-refresh-1';
export const CHANNEL_ID = 'UCacmeChannel00000000001';
export const UPLOADS = 'UUacmeChannel00000000001';
export const SESSION_PATH = '/upload/youtube/v3/videos';
export const SESSION_QUERY = { uploadType: 'resumable', part: 'snippet,status', upload_id: 'AEnB2Uo-session-1' };
export const SESSION_URI = `${API}${SESSION_PATH}?uploadType=resumable&part=snippet,status&upload_id=AEnB2Uo-session-1`;
export const FORM_HEADERS = { 'content-type': 'application/x-www-form-urlencoded' };
export const GRANULE = 256 * 1024;

export function createPublisher(overrides: Partial<YoutubePublisherOptions> = {}): Publisher {
  return createYoutubePublisher({
    clientId: CLIENT.client_id,
    clientSecret: CLIENT.client_secret,
    apiUrl: API,
    authorizeUrl: AUTHORIZE,
    tokenUrl: `${TOKEN_HOST}/token`,
    pollIntervalMs: 1,
    maxWaitMs: 2_000,
    retryDelayMs: 1,
    ...overrides,
  });
}

/** A Data API error as Google sends it. */
export function googleError(code: number, reason: string, message: string, domain = 'youtube.api'): Record<string, unknown> {
  return { error: { code, message, errors: [{ message, domain, reason }] } };
}

/** A small "video" of `size` patterned bytes (publishers trust MediaInfo, not the container); vertical and 15 s: a Short. */
export async function addVideo(
  ctx: ContractContext,
  id: string,
  size: number,
  info: Partial<MediaInfo> = {},
): Promise<{ media: MediaInfo; bytes: Buffer }> {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i += 1) bytes[i] = (i * 7) % 251;
  const media = await addVideoBytes(ctx, id, bytes, { width: 1080, height: 1920, durationMs: 15_000, ...info });
  return { media, bytes };
}

export type RequestLog = PublishLog;
export { newLog };

/** A request for the channel "Acme Inc"; its `beforeCommit` logs 'commit'. */
export function publishRequest(
  ctx: { media: ContractContext['media'] },
  media: MediaInfo[],
  options: { caption?: string; privacy?: string; log?: RequestLog; onPlatformRef?: (ref: string) => Promise<void> } = {},
): PublishRequest {
  const request = sharedPublishRequest({
    account: { platformAccountId: CHANNEL_ID, handle: 'acme', displayName: 'Acme Inc' },
    tokens: { accessToken: ACCESS, refreshToken: REFRESH },
    draft: {
      caption: options.caption ?? 'Launch day\nOur new product, in 15 seconds.',
      media,
      options: options.privacy === undefined ? {} : { privacy: options.privacy },
    },
    media: ctx.media,
    log: options.log,
    commitEvent: 'commit',
  });
  return { ...request, onPlatformRef: options.onPlatformRef };
}

/** The metadata videos.insert is started with. */
export function metadata(title: string, description: string, privacyStatus = 'public'): Record<string, unknown> {
  return { snippet: { title, description, categoryId: '22' }, status: { privacyStatus } };
}

/** Step 1: the session start, answering the session URI in Location. */
export function arrangeStart(size: number, meta: Record<string, unknown>, log?: RequestLog): nock.Scope {
  return nock(API, {
    reqheaders: {
      authorization: `Bearer ${ACCESS}`,
      'content-type': 'application/json; charset=UTF-8',
      'x-upload-content-length': String(size),
      'x-upload-content-type': 'video/mp4',
    },
  })
    .post(SESSION_PATH, exactly(meta))
    .query({ uploadType: 'resumable', part: 'snippet,status' })
    .reply(() => {
      log?.events.push('start');
      return [200, '', { Location: SESSION_URI, 'X-GUploader-UploadID': 'AEnB2Uo-session-1' }];
    });
}

/** Step 2: one range of bytes with its exact headers and body; answers `status` (308 with `held` bytes, or 200 with the video). */
export function arrangeRange(
  bytes: Buffer,
  start: number,
  end: number,
  answer: { status: 308; held?: number } | { status: 200 | 201 | 503 | 404; body?: unknown },
  log?: RequestLog,
): void {
  const slice = bytes.subarray(start, end + 1);
  nock(API, {
    reqheaders: {
      authorization: `Bearer ${ACCESS}`,
      'content-type': 'video/mp4',
      'content-length': String(slice.length),
      'content-range': `bytes ${start}-${end}/${bytes.length}`,
    },
  })
    .put(SESSION_PATH, (body: unknown) => body === slice.toString('hex'))
    .query(SESSION_QUERY)
    .reply(() => {
      log?.events.push(`put ${start}-${end}`);
      if (answer.status === 308) return [308, '', answer.held ? { Range: `bytes=0-${answer.held - 1}` } : {}];
      return [answer.status, JSON.stringify(answer.body ?? {}), { 'Content-Type': 'application/json; charset=UTF-8' }];
    });
}

/** Step 3: the status probe. */
export function arrangeProbe(
  total: number,
  answer: { status: 308; held?: number } | { status: number; body?: unknown },
  log?: RequestLog,
): void {
  nock(API, { reqheaders: { authorization: `Bearer ${ACCESS}`, 'content-range': `bytes */${total}`, 'content-length': '0' } })
    .put(SESSION_PATH)
    .query(SESSION_QUERY)
    .reply(() => {
      log?.events.push('probe');
      if (answer.status === 308) return [308, '', 'held' in answer && answer.held ? { Range: `bytes=0-${answer.held - 1}` } : {}];
      return [
        answer.status,
        JSON.stringify('body' in answer ? (answer.body ?? {}) : {}),
        { 'Content-Type': 'application/json; charset=UTF-8' },
      ];
    });
}

/** The video resource a finished upload answers. */
export function videoResource(id: string, uploadStatus = 'uploaded', extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    kind: 'youtube#video',
    etag: 'etag-1',
    id,
    snippet: { title: 'Launch day', channelId: CHANNEL_ID },
    status: { uploadStatus, privacyStatus: 'public', ...extra },
  };
}

/** A processing-status read answering `uploadStatus`. */
export function arrangeStatus(id: string, uploadStatus: string, extra: Record<string, unknown> = {}): void {
  nock(API, { reqheaders: { authorization: `Bearer ${ACCESS}` } })
    .get('/youtube/v3/videos')
    .query({ part: 'status,processingDetails', id })
    .reply(200, {
      kind: 'youtube#videoListResponse',
      items: [
        {
          kind: 'youtube#video',
          id,
          status: { uploadStatus, privacyStatus: 'public', ...extra },
          processingDetails: { processingStatus: uploadStatus === 'processed' ? 'succeeded' : 'processing' },
        },
      ],
    });
}

export function channelList(): Record<string, unknown> {
  return {
    kind: 'youtube#channelListResponse',
    pageInfo: { totalResults: 1, resultsPerPage: 5 },
    items: [
      {
        kind: 'youtube#channel',
        id: CHANNEL_ID,
        snippet: {
          title: 'Acme Inc',
          customUrl: '@acme',
          thumbnails: { default: { url: 'https://yt3.ggpht.com/acme=s88', width: 88, height: 88 } },
        },
        contentDetails: { relatedPlaylists: { likes: '', uploads: UPLOADS } },
        status: { privacyStatus: 'public', longUploadsStatus: 'allowed' },
      },
    ],
  };
}

export function arrangeChannel(body: Record<string, unknown> = channelList(), status = 200, token = ACCESS): void {
  nock(API, { reqheaders: { authorization: `Bearer ${token}` } })
    .get('/youtube/v3/channels')
    .query({ part: 'snippet,contentDetails,status', mine: 'true' })
    .reply(status, body);
}
