/**
 * Shared pieces of the Facebook and Instagram tests: the Meta app options, nock scopes for the
 * Graph API, exact matchers for the token-carrying query and form bodies, test media, and a
 * PublishRequest that records when `beforeCommit` ran.
 */
import { createHmac } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import nock from 'nock';
import type { MediaInfo } from '../../../src/media/media.js';
import type { MetaPublisherOptions } from '../../../src/publishers/meta/index.js';
import type { AccountRef, PostDraft, PublishRequest, TokenSet } from '../../../src/publishers/publisher.js';
import type { FileMediaAccess } from '../../helpers/file-media.js';
import { addImage, addVideoBytes, type MediaDir, useMediaDir } from '../../helpers/media.js';
import { useNock } from '../../helpers/nock.js';
import { newLog, publishRequest as sharedPublishRequest, type PublishLog } from '../../helpers/publish-request.js';

export const GRAPH_ORIGIN = 'https://graph.facebook.com';
export const V = '/v26.0';
export const APP_ID = 'app-1234';
export const APP_SECRET = 'app-secret-5678';
export const REDIRECT_URI = 'https://iqsp.test/oauth/callback';

export const META_OPTIONS: MetaPublisherOptions = {
  appId: APP_ID,
  appSecret: APP_SECRET,
  graphApiUrl: `${GRAPH_ORIGIN}${V}`,
  authorizeUrl: 'https://www.facebook.com/v26.0/dialog/oauth',
  pollIntervalMs: 1,
  maxWaitMs: 2_000,
};

export const USER_ID = 'user-42';
export const SHORT_USER_TOKEN = 'short-user-token';
export const LONG_USER_TOKEN = 'long-user-token';
export const PAGE_TOKEN = 'page-token-1';
export const AUTH_CODE = 'auth-code-1';

/** HMAC-SHA256 of the token with the app secret, computed here independently of the code. */
export function proof(token: string): string {
  return createHmac('sha256', APP_SECRET).update(token).digest('hex');
}

/** A nock scope on the Graph host; POSTs must be form-encoded. */
export function graph(): nock.Scope {
  return nock(GRAPH_ORIGIN);
}

export function formPost(origin: string = GRAPH_ORIGIN): nock.Scope {
  return nock(origin, { reqheaders: { 'content-type': /^application\/x-www-form-urlencoded/ } });
}

/** Where Meta documents video uploads; derived from the Graph host. */
export const GRAPH_VIDEO_ORIGIN = 'https://graph-video.facebook.com';

/** The exact query of a token-carrying GET/DELETE: the documented fields, the token and its proof. */
export function withToken(token: string, fields: Record<string, string> = {}): Record<string, string> {
  return { ...fields, access_token: token, appsecret_proof: proof(token) };
}

/** A body matcher: exactly these form fields plus the token and its proof, nothing more. */
export function formBody(token: string, fields: Record<string, string>): (body: Record<string, unknown>) => boolean {
  return (body) => isDeepStrictEqual({ ...body }, withToken(token, fields));
}

/** The token dance of Facebook Login, shared by both platforms' connect cases. */
export function arrangeLogin(grantedScopes: readonly string[]): void {
  graph()
    .get(`${V}/oauth/access_token`)
    .query({ client_id: APP_ID, redirect_uri: REDIRECT_URI, client_secret: APP_SECRET, code: AUTH_CODE })
    .reply(200, { access_token: SHORT_USER_TOKEN, token_type: 'bearer', expires_in: 5_400 });
  graph()
    .get(`${V}/oauth/access_token`)
    .query({ grant_type: 'fb_exchange_token', client_id: APP_ID, client_secret: APP_SECRET, fb_exchange_token: SHORT_USER_TOKEN })
    .reply(200, { access_token: LONG_USER_TOKEN, token_type: 'bearer', expires_in: 5_183_944 });
  graph()
    .get(`${V}/me`)
    .query(withToken(LONG_USER_TOKEN, { fields: 'id,name' }))
    .reply(200, { id: USER_ID, name: 'Ada Lovelace' });
  graph()
    .get(`${V}/me/permissions`)
    .query(withToken(LONG_USER_TOKEN))
    .reply(200, {
      data: [
        { permission: 'public_profile', status: 'granted' },
        ...grantedScopes.map((permission) => ({ permission, status: 'granted' })),
      ],
    });
}

export function callback(): { code: string; redirectUri: string; query: Record<string, string> } {
  return { code: AUTH_CODE, redirectUri: REDIRECT_URI, query: { code: AUTH_CODE, state: 'state-123' } };
}

export function addJpeg(media: FileMediaAccess, workDir: string, id: string, width = 1080, height = 1080): Promise<MediaInfo> {
  return addImage({ media, workDir }, { id, format: 'jpeg', extension: 'jpg', width, height, background: '#3366cc' });
}

/** Half-transparent, so a JPEG copy has to flatten it. */
export function addPng(media: FileMediaAccess, workDir: string, id: string, width = 1080, height = 1080): Promise<MediaInfo> {
  return addImage({ media, workDir }, { id, format: 'png', width, height, channels: 4, background: { r: 200, g: 50, b: 50, alpha: 0.5 } });
}

export function addWebp(media: FileMediaAccess, workDir: string, id: string): Promise<MediaInfo> {
  return addImage({ media, workDir }, { id, format: 'webp', width: 800, height: 600, background: '#22aa55' });
}

/**
 * Publishers trust MediaInfo, so a few bytes with an MP4 header stand in for a video: vertical
 * 1080×1920 and 12 s by default (a reel's shape: Facebook routes it to Reels).
 */
export function addVideo(
  media: FileMediaAccess,
  workDir: string,
  id: string,
  shape: Partial<Pick<MediaInfo, 'width' | 'height' | 'durationMs'>> = {},
): Promise<MediaInfo> {
  const box = Buffer.from([0, 0, 0, 0x18, 0x66, 0x74, 0x79, 0x70, 0x69, 0x73, 0x6f, 0x6d, 0, 0, 2, 0]);
  return addVideoBytes({ media, workDir }, id, Buffer.concat([box, Buffer.alloc(2_048, 7)]), {
    width: 1080,
    height: 1920,
    durationMs: 12_000,
    ...shape,
  });
}

/** A landscape 1920×1080 MP4: a Page video (`/videos`), not a reel. */
export const LANDSCAPE = { width: 1920, height: 1080 } as const;

/** What happened around a publish, in order: 'beforeCommit', the committing request, progress. */
export type { PublishLog };
export { newLog };

export function publishRequest(
  media: FileMediaAccess,
  account: AccountRef,
  draft: Partial<PostDraft>,
  log: PublishLog,
  tokens: TokenSet = { accessToken: PAGE_TOKEN },
): PublishRequest {
  return sharedPublishRequest({ account, tokens, draft, media, log });
}

/** A reply that also records that this request was made, for checking the order of events. */
export function recorded(log: PublishLog, event: string, status: number, body: unknown, headers?: Record<string, string>) {
  return (): [number, unknown, Record<string, string>] => {
    log.events.push(event);
    return [status, body, headers ?? {}];
  };
}

/**
 * Hooks for a quirk-test file, like the contract suite's: no real network, a temp folder with a
 * FileMediaAccess per test, and every arranged interceptor must have been used.
 */
export function useGraphMock(): MediaDir {
  useNock();
  return useMediaDir('iqsp-meta-');
}
