/**
 * The Instagram (API with Instagram Login) fixture of the publisher contract suite: Business Login
 * for Instagram on www.instagram.com, the exchange on api.instagram.com, and the container flow on
 * graph.instagram.com with the account's own token (more-platforms.md §5).
 */
import { createHmac } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import nock from 'nock';
import { expect } from 'vitest';
import type { MediaInfo } from '../../../src/media/media.js';
import { createInstagramPublisher, type InstagramLoginOptions } from '../../../src/publishers/instagram/index.js';
import type { AccountRef, PublishResult, TokenSet } from '../../../src/publishers/publisher.js';
import { TEST_MEDIA_BASE } from '../../helpers/file-media.js';
import type { ContractCase, PublisherContract } from '../contract.js';
import { addJpeg, addVideo, newLog, publishRequest, recorded, REDIRECT_URI, type PublishLog } from '../meta/meta-fixtures.js';

export const IG_API = 'https://graph.instagram.com';
export const IG_OAUTH = 'https://api.instagram.com';
export const IG_APP_ID = 'ig-app-990';
export const IG_APP_SECRET = 'ig-app-secret-991';
export const IG_ID = '17841400000000001';
export const IG_SHORT_TOKEN = 'IGQshort';
export const IG_TOKEN = 'IGQlong';
export const IG_CODE = 'ig-code-1';
export const IG_SCOPES = ['instagram_business_basic', 'instagram_business_content_publish'];

export const IG_LOGIN_OPTIONS: InstagramLoginOptions = {
  appId: IG_APP_ID,
  appSecret: IG_APP_SECRET,
  apiUrl: IG_API,
  authorizeUrl: 'https://www.instagram.com/oauth/authorize',
  pollIntervalMs: 1,
  maxWaitMs: 2_000,
};

export const IG_LOGIN_ACCOUNT: AccountRef = { platformAccountId: IG_ID, handle: 'acme', displayName: 'Acme Inc' };
export const IG_LOGIN_TOKENS: TokenSet = {
  accessToken: IG_TOKEN,
  refreshToken: IG_TOKEN,
  scopes: IG_SCOPES.join(' '),
  extra: { connectedWith: 'instagram-login' },
};

/** HMAC-SHA256 of the token with the Instagram app's secret. */
export function igProof(token: string): string {
  return createHmac('sha256', IG_APP_SECRET).update(token).digest('hex');
}

export function igQuery(token: string, fields: Record<string, string> = {}): Record<string, string> {
  return { ...fields, access_token: token, appsecret_proof: igProof(token) };
}

export function igForm(token: string, fields: Record<string, string>): (body: Record<string, unknown>) => boolean {
  return (body) => isDeepStrictEqual({ ...body }, igQuery(token, fields));
}

export function igApi(): nock.Scope {
  return nock(IG_API);
}

function igPost(): nock.Scope {
  return nock(IG_API, { reqheaders: { 'content-type': /^application\/x-www-form-urlencoded/ } });
}

export function igContainer(fields: Record<string, string>, containerId: string): void {
  igPost().post(`/${IG_ID}/media`, igForm(IG_TOKEN, fields)).reply(200, { id: containerId });
}

export function igStatuses(containerId: string, ...answers: Array<Record<string, string>>): void {
  for (const answer of answers)
    igApi()
      .get(`/${containerId}`)
      .query(igQuery(IG_TOKEN, { fields: 'status_code,status' }))
      .reply(200, { id: containerId, ...answer });
}

export function igMediaPublish(containerId: string): nock.Interceptor {
  return igPost().post(`/${IG_ID}/media_publish`, igForm(IG_TOKEN, { creation_id: containerId }));
}

export function igPermalink(mediaId: string, permalink: string): void {
  igApi()
    .get(`/${mediaId}`)
    .query(igQuery(IG_TOKEN, { fields: 'permalink' }))
    .reply(200, { permalink, id: mediaId });
}

/** The whole sign-in: the code exchange (form), the long-lived exchange, the profile. */
export function arrangeInstagramLogin(profile: Record<string, unknown> = {}): void {
  nock(IG_OAUTH, { reqheaders: { 'content-type': /^application\/x-www-form-urlencoded/ } })
    .post('/oauth/access_token', (body) =>
      isDeepStrictEqual(
        { ...body },
        { client_id: IG_APP_ID, client_secret: IG_APP_SECRET, grant_type: 'authorization_code', redirect_uri: REDIRECT_URI, code: IG_CODE },
      ),
    )
    .reply(200, { data: [{ access_token: IG_SHORT_TOKEN, user_id: IG_ID, permissions: IG_SCOPES.join(',') }] });
  igApi()
    .get('/access_token')
    .query({ grant_type: 'ig_exchange_token', client_secret: IG_APP_SECRET, access_token: IG_SHORT_TOKEN })
    .reply(200, { access_token: IG_TOKEN, token_type: 'bearer', expires_in: 5_183_944 });
  igApi()
    .get('/me')
    .query(igQuery(IG_TOKEN, { fields: 'user_id,username,name,account_type,profile_picture_url' }))
    .reply(200, {
      user_id: IG_ID,
      id: '9000000000000001',
      username: 'acme',
      name: 'Acme Inc',
      account_type: 'BUSINESS',
      profile_picture_url: 'https://scontent.test/acme-ig.jpg',
      ...profile,
    });
}

/** The callback as Instagram sends it: the code carries Instagram's `#_` when copied from the address bar. */
export function igCallback(code = `${IG_CODE}#_`) {
  return { code, redirectUri: REDIRECT_URI, query: { code, state: 'instagram-login.state-123' }, variant: 'instagram-login' };
}

let log: PublishLog = newLog();
let media: MediaInfo[] = [];

function publishCase(
  arrange: ContractCase<PublishResult>['arrange'],
  caption: string,
  check: (result: PublishResult) => void,
): ContractCase<PublishResult> {
  return {
    async arrange(ctx) {
      log = newLog();
      media = [];
      await arrange(ctx);
    },
    act: (publisher, ctx) => publisher.publish(publishRequest(ctx.media, IG_LOGIN_ACCOUNT, { caption, media }, log, IG_LOGIN_TOKENS)),
    check,
  };
}

const FINISHED = { status_code: 'FINISHED', status: 'Finished: Media has been uploaded and it is ready to be published.' };
const IN_PROGRESS = { status_code: 'IN_PROGRESS', status: 'In Progress: Media is still being processed.' };
const DAY = 86_400_000;

export const instagramLoginContract: PublisherContract = {
  platform: 'instagram',
  create: () => createInstagramPublisher(undefined, IG_LOGIN_OPTIONS),
  consent: {
    redirectUri: REDIRECT_URI,
    expectedUrl: 'https://www.instagram.com/oauth/authorize',
    expectedParams: {
      client_id: IG_APP_ID,
      redirect_uri: REDIRECT_URI,
      response_type: 'code',
      state: 'state-123',
      scope: IG_SCOPES.join(','),
    },
  },

  connect: {
    arrange: () => arrangeInstagramLogin(),
    act: (publisher) => publisher.finishConnect(igCallback()),
    check(accounts) {
      const now = Date.now();
      expect(accounts).toEqual([
        {
          platformAccountId: IG_ID,
          handle: 'acme',
          displayName: 'Acme Inc',
          avatarUrl: 'https://scontent.test/acme-ig.jpg',
          tokens: {
            accessToken: IG_TOKEN,
            refreshToken: IG_TOKEN,
            expiresAt: expect.any(Date) as Date,
            refreshExpiresAt: expect.any(Date) as Date,
            scopes: IG_SCOPES.join(' '),
            extra: { connectedWith: 'instagram-login' },
          },
        },
      ]);
      const tokens = accounts[0]!.tokens;
      // The token lasts 60 days; IQSP renews it 8 days before its end.
      expect(Math.abs(tokens.refreshExpiresAt!.getTime() - (now + 5_183_944_000))).toBeLessThan(5_000);
      expect(Math.abs(tokens.expiresAt!.getTime() - (now + 5_183_944_000 - 8 * DAY))).toBeLessThan(5_000);
    },
  },

  refresh: {
    tokens: IG_LOGIN_TOKENS,
    arrange() {
      igApi()
        .get('/refresh_access_token')
        .query({ grant_type: 'ig_refresh_token', access_token: IG_TOKEN })
        .reply(200, { access_token: 'IGQrenewed', token_type: 'bearer', expires_in: 5_184_000 });
    },
    check(tokens) {
      expect(tokens).toMatchObject({ accessToken: 'IGQrenewed', refreshToken: 'IGQrenewed', extra: { connectedWith: 'instagram-login' } });
      expect(tokens.refreshExpiresAt!.getTime()).toBeGreaterThan(Date.now() + 59 * DAY);
    },
  },

  // Instagram Login documents no revocation: nothing is sent (nock would fail an unexpected request).
  revoke: {
    arrange() {},
    act: (publisher) => publisher.revoke(IG_LOGIN_ACCOUNT, IG_LOGIN_TOKENS),
    check: (result) => expect(result).toBeUndefined(),
  },

  publish: {
    image: publishCase(
      async (ctx) => {
        media = [await addJpeg(ctx.media, ctx.workDir, 'square')];
        igContainer({ image_url: `${TEST_MEDIA_BASE}/square`, caption: 'Square #iqsp' }, 'container-1');
        igStatuses('container-1', IN_PROGRESS, FINISHED);
        igMediaPublish('container-1').reply(recorded(log, 'media_publish', 200, { id: 'ig-media-1' }));
        igPermalink('ig-media-1', 'https://www.instagram.com/p/DAbc123/');
      },
      'Square #iqsp',
      (result) => {
        expect(result).toEqual({ kind: 'published', platformPostId: 'ig-media-1', permalink: 'https://www.instagram.com/p/DAbc123/' });
        expect(log.events).toEqual(['beforeCommit', 'media_publish']);
      },
    ),
    video: publishCase(
      async (ctx) => {
        media = [await addVideo(ctx.media, ctx.workDir, 'reel')];
        igContainer({ media_type: 'REELS', video_url: `${TEST_MEDIA_BASE}/reel`, caption: 'Reel' }, 'container-3');
        igStatuses('container-3', IN_PROGRESS, FINISHED);
        igMediaPublish('container-3').reply(recorded(log, 'media_publish', 200, { id: 'ig-media-3' }));
        igPermalink('ig-media-3', 'https://www.instagram.com/reel/DRee1/');
      },
      'Reel',
      (result) => {
        expect(result).toEqual({ kind: 'published', platformPostId: 'ig-media-3', permalink: 'https://www.instagram.com/reel/DRee1/' });
        expect(log.events).toEqual(['beforeCommit', 'media_publish']);
      },
    ),
  },

  errors: {
    retryable: publishCase(
      async (ctx) => {
        media = [await addJpeg(ctx.media, ctx.workDir, 'square')];
        igPost()
          .post(`/${IG_ID}/media`, igForm(IG_TOKEN, { image_url: `${TEST_MEDIA_BASE}/square`, caption: 'Capped' }))
          .reply(400, {
            error: {
              message: 'The maximum number of posts that can be published has been reached.',
              type: 'OAuthException',
              code: 9,
              error_subcode: 2207042,
            },
          });
      },
      'Capped',
      (result) => {
        expect(result).toEqual({
          kind: 'failed',
          failure: {
            class: 'retryable',
            message: 'This Instagram account reached its daily publishing limit; the post will be tried again later.',
            platformCode: 'meta:9/2207042',
          },
        });
        expect(log.events).toEqual([]);
      },
    ),
    reconnect: publishCase(
      async (ctx) => {
        media = [await addJpeg(ctx.media, ctx.workDir, 'square')];
        igPost()
          .post(`/${IG_ID}/media`, igForm(IG_TOKEN, { image_url: `${TEST_MEDIA_BASE}/square`, caption: 'Expired' }))
          .reply(400, {
            error: {
              message: 'Error validating access token: Session has expired.',
              type: 'OAuthException',
              code: 190,
              error_subcode: 463,
            },
          });
      },
      'Expired',
      (result) => {
        expect(result).toMatchObject({ kind: 'failed', failure: { class: 'reconnect', platformCode: 'meta:190/463', tokenExpired: true } });
      },
    ),
    content: publishCase(
      async (ctx) => {
        media = [await addJpeg(ctx.media, ctx.workDir, 'square')];
        igPost()
          .post(`/${IG_ID}/media`, igForm(IG_TOKEN, { image_url: `${TEST_MEDIA_BASE}/square`, caption: 'Odd' }))
          .reply(400, {
            error: { message: 'The image format is not supported.', type: 'OAuthException', code: 9004, error_subcode: 2207005 },
          });
      },
      'Odd',
      (result) => {
        expect(result).toEqual({
          kind: 'failed',
          failure: {
            class: 'content',
            message: 'Instagram does not support this image format; use a JPEG.',
            platformCode: 'meta:9004/2207005',
          },
        });
      },
    ),
    unknown: publishCase(
      async (ctx) => {
        media = [await addJpeg(ctx.media, ctx.workDir, 'square')];
        igContainer({ image_url: `${TEST_MEDIA_BASE}/square`, caption: 'Maybe' }, 'container-4');
        igStatuses('container-4', FINISHED);
        igMediaPublish('container-4').reply(
          recorded(log, 'media_publish', 500, {
            error: { message: 'Service temporarily unavailable', type: 'OAuthException', code: 2, is_transient: true },
          }),
        );
      },
      'Maybe',
      (result) => {
        expect(result).toMatchObject({ kind: 'failed', failure: { class: 'unknown', platformCode: 'meta:2' } });
        expect(log.events).toEqual(['beforeCommit', 'media_publish']);
      },
    ),
  },
};
