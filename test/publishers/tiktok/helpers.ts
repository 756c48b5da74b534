/**
 * Shared pieces of the TikTok tests: the publisher under test, TikTok's envelope, nock body
 * matchers that compare every field, and small real media files.
 */
import { isDeepStrictEqual } from 'node:util';
import type { MediaInfo } from '../../../src/media/media.js';
import type { PublishRequest, Publisher } from '../../../src/publishers/publisher.js';
import { createTiktokPublisher } from '../../../src/publishers/tiktok/index.js';
import type { TiktokPublisherOptions } from '../../../src/publishers/tiktok/index.js';
import { addImage, addVideoBytes } from '../../helpers/media.js';
import { newLog, publishRequest as sharedPublishRequest, type PublishLog } from '../../helpers/publish-request.js';
import type { ContractContext } from '../contract.js';

export const API = 'https://open.tiktokapis.com';
export const AUTHORIZE = 'https://www.tiktok.com/v2/auth/authorize/';
export const UPLOAD_HOST = 'https://open-upload.tiktokapis.com';
export const UPLOAD_PATH = '/upload/?upload_id=7000000000000000001&upload_token=upload-token-1';
export const REDIRECT = 'https://iqsp.example.com/oauth/tiktok/callback';
export const CLIENT = { client_key: 'tt-client-key', client_secret: 'tt-client-secret' };
export const SCOPE = 'user.info.basic,user.info.profile,video.publish';
export const ACCESS = 'act.tiktok-access-1';
export const JSON_HEADERS = { authorization: `Bearer ${ACCESS}`, 'content-type': 'application/json; charset=UTF-8' };
export const FORM_HEADERS = { 'content-type': 'application/x-www-form-urlencoded' };

export function createPublisher(overrides: Partial<TiktokPublisherOptions> = {}): Publisher {
  return createTiktokPublisher({
    clientKey: CLIENT.client_key,
    clientSecret: CLIENT.client_secret,
    apiUrl: API,
    authorizeUrl: AUTHORIZE,
    pollIntervalMs: 1,
    maxWaitMs: 2_000,
    ...overrides,
  });
}

/** TikTok's success envelope. */
export function ok(data: Record<string, unknown>): Record<string, unknown> {
  return { data, error: { code: 'ok', message: '', log_id: '20260101000000ABCDEF' } };
}

/** TikTok's error envelope. */
export function apiError(code: string, message = ''): Record<string, unknown> {
  return { data: {}, error: { code, message, log_id: '20260101000000ABCDEF' } };
}

/** A nock body matcher that requires exactly these fields (form or JSON), logging any difference. */
export function exactly(expected: unknown): (body: unknown) => boolean {
  return (body) => {
    // Form bodies arrive as null-prototype objects; compare plain data.
    const same = isDeepStrictEqual(JSON.parse(JSON.stringify(body)), expected);
    if (!same) console.error('request body differs', { expected, actual: body });
    return same;
  };
}

export function creatorInfo(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return ok({
    creator_avatar_url: 'https://p16-sign.tiktokcdn.com/avatar.jpeg',
    creator_username: 'acme',
    creator_nickname: 'Acme Inc',
    privacy_level_options: ['PUBLIC_TO_EVERYONE', 'MUTUAL_FOLLOW_FRIENDS', 'SELF_ONLY'],
    comment_disabled: false,
    duet_disabled: false,
    stitch_disabled: false,
    max_video_post_duration_sec: 600,
    ...overrides,
  });
}

/** A status answer as raw JSON text, so 64-bit post ids stay unrounded numbers as TikTok sends them. */
export function statusText(status: string, extra = ''): string {
  return `{"data":{"status":"${status}"${extra}},"error":{"code":"ok","message":"","log_id":"20260101000000ABCDEF"}}`;
}

export function addJpeg(ctx: ContractContext, id: string, format: 'jpeg' | 'png' | 'webp' = 'jpeg'): Promise<MediaInfo> {
  return addImage(ctx, { id, format, width: 64, height: 48, background: '#3366cc' });
}

/** A small "video" of `size` patterned bytes (publishers trust MediaInfo, not the container). */
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

/** What happened around a publish: 'commit' when `beforeCommit` ran, the requests a test records, progress. */
export type RequestLog = PublishLog;
export { newLog };

/** A request for the TikTok account "acme"; its `beforeCommit` logs 'commit'. */
export function publishRequest(
  ctx: ContractContext,
  media: MediaInfo[],
  options: { caption?: string; privacy?: string; log?: RequestLog } = {},
): PublishRequest {
  return sharedPublishRequest({
    account: { platformAccountId: 'open-1', platformUserId: 'open-1', handle: 'acme', displayName: 'Acme Inc' },
    tokens: { accessToken: ACCESS, refreshToken: 'rft.tiktok-refresh-1' },
    draft: {
      caption: options.caption ?? 'Launch day #acme',
      media,
      options: options.privacy === undefined ? {} : { privacy: options.privacy },
    },
    media: ctx.media,
    log: options.log,
    commitEvent: 'commit',
  });
}

/** A socket-level failure as nock should raise it (an Error with a code, as Node's net layer does). */
export function socketError(code: 'ECONNRESET' | 'ECONNREFUSED'): Error {
  return Object.assign(new Error(code === 'ECONNRESET' ? 'socket hang up' : `connect ${code}`), { code });
}
