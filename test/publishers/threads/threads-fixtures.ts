/** Shared pieces of the Threads tests: the publisher under test, its endpoints, test media and requests. */
import nock from 'nock';
import type { MediaInfo } from '../../../src/media/media.js';
import type { AccountRef, Publisher, PublishRequest, TokenSet } from '../../../src/publishers/publisher.js';
import { createThreadsPublisher, type ThreadsPublisherOptions } from '../../../src/publishers/threads/index.js';
import type { FileMediaAccess } from '../../helpers/file-media.js';
import { addImage, addVideoBytes } from '../../helpers/media.js';
import { publishRequest as sharedPublishRequest } from '../../helpers/publish-request.js';

export const ORIGIN = 'https://graph.threads.net';
export const API = `${ORIGIN}/v1.0`;
export const AUTHORIZE = 'https://threads.net/oauth/authorize';
export const APP_ID = 'threads-app-id';
export const APP_SECRET = 'threads-app-secret';
export const TOKEN = 'THlong-lived-token';
export const USER = '26000000000000001';
export const SCOPES = 'threads_basic,threads_content_publish,threads_manage_replies';

export function threadsPublisher(overrides: Partial<ThreadsPublisherOptions> = {}): Publisher {
  return createThreadsPublisher({
    appId: APP_ID,
    appSecret: APP_SECRET,
    apiUrl: API,
    authorizeUrl: AUTHORIZE,
    pollIntervalMs: 1,
    maxWaitMs: 5_000,
    ...overrides,
  });
}

export const ACCOUNT: AccountRef = { platformAccountId: USER, platformUserId: USER, handle: 'acme', displayName: 'Acme Inc' };

export function tokens(): TokenSet {
  return {
    accessToken: TOKEN,
    refreshToken: TOKEN,
    expiresAt: new Date(Date.now() + 30 * 86_400_000),
    refreshExpiresAt: new Date(Date.now() + 59 * 86_400_000),
  };
}

export function publishRequest(
  media: FileMediaAccess,
  caption: string,
  files: MediaInfo[],
  extra: Partial<PublishRequest> = {},
): PublishRequest {
  return { ...sharedPublishRequest({ account: ACCOUNT, tokens: tokens(), draft: { caption, media: files }, media }), ...extra };
}

export function jpegFile(media: FileMediaAccess, workDir: string, id = 'img-1'): Promise<MediaInfo> {
  return addImage(
    { media, workDir },
    { id, format: 'jpeg', extension: 'jpg', width: 80, height: 60, background: { r: 10, g: 120, b: 200 }, originalName: `${id}.jpg` },
  );
}

export function pngFile(media: FileMediaAccess, workDir: string, id = 'img-2'): Promise<MediaInfo> {
  return addImage(
    { media, workDir },
    { id, format: 'png', width: 64, height: 48, background: { r: 200, g: 40, b: 90 }, originalName: `${id}.png` },
  );
}

export function videoFile(media: FileMediaAccess, workDir: string, id = 'vid-1'): Promise<MediaInfo> {
  const bytes = Buffer.alloc(4096);
  bytes.write('ftypisom', 4, 'latin1');
  return addVideoBytes({ media, workDir }, id, bytes, {
    kind: 'video',
    mimeType: 'video/mp4',
    durationMs: 12_000,
    width: 720,
    height: 1280,
    originalName: `${id}.mp4`,
  });
}

/** POST {api}/{user}/threads with exactly `fields` (and the token), answering `id` or `reply`. */
export function arrangeContainer(fields: Record<string, string>, reply: { status: number; body: unknown } | string): void {
  const answer = typeof reply === 'string' ? { status: 200, body: { id: reply } } : reply;
  nock(API)
    .post(`/${USER}/threads`, { ...fields, access_token: TOKEN })
    .matchHeader('content-type', 'application/x-www-form-urlencoded')
    .reply(answer.status, answer.body as nock.Body);
}

/** GET {api}/{container}?fields=status,error_message, once per status given. */
export function arrangeStatus(container: string, ...statuses: Array<string | Record<string, unknown>>): void {
  for (const status of statuses)
    nock(API)
      .get(`/${container}`)
      .query({ fields: 'status,error_message', access_token: TOKEN })
      .reply(200, typeof status === 'string' ? { status, id: container } : { id: container, ...status });
}

export function arrangePublish(
  container: string,
  reply: { status: number; body: unknown; headers?: Record<string, string> } | string,
): void {
  const answer = typeof reply === 'string' ? { status: 200, body: { id: reply } } : reply;
  nock(API)
    .post(`/${USER}/threads_publish`, { creation_id: container, access_token: TOKEN })
    .reply(answer.status, answer.body as nock.Body, answer.headers);
}

export function arrangePermalink(mediaId: string, permalink?: string): void {
  nock(API)
    .get(`/${mediaId}`)
    .query({ fields: 'permalink', access_token: TOKEN })
    .reply(200, permalink ? { permalink, id: mediaId } : { id: mediaId });
}

export function graphError(code: number, message: string, extra: Record<string, unknown> = {}): { error: Record<string, unknown> } {
  return { error: { message, type: 'OAuthException', code, fbtrace_id: 'AbC', ...extra } };
}

export const mediaUrl = (id: string): string => `https://iqsp.test/media/${id}`;
