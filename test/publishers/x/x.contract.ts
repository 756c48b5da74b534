/** The X fixture of the shared publisher contract (test/publishers/contract-suite.ts). */
import { readFile } from 'node:fs/promises';
import nock from 'nock';
import { expect, vi } from 'vitest';
import type { PublishProgress, PublishResult } from '../../../src/publishers/publisher.js';
import type { ContractCase, PublisherContract } from '../contract.js';
import type { MatcherThis } from './x-fixtures.js';
import {
  ACCESS,
  API,
  AUTHORIZE,
  BASIC,
  CLIENT_ID,
  isAppend,
  jpegFile,
  pngFile,
  publishRequest,
  SCOPES,
  segmentOf,
  videoFile,
  xPublisher,
} from './x-fixtures.js';

const REDIRECT = 'https://iqsp.test/oauth/x/callback';
const bearer = { reqheaders: { authorization: `Bearer ${ACCESS}` } };

/**
 * Bodies are matched with nock's exact object comparison (every field, nothing more): a
 * mismatch leaves the interceptor unused and the request unmatched, which the suite reports.
 */

/** initialize with the documented JSON fields; answers the media id. */
function arrangeInitialize(mediaId: string, mediaType: string, totalBytes: number, category: string): void {
  nock(API, bearer)
    .post('/2/media/upload/initialize', { media_type: mediaType, total_bytes: totalBytes, media_category: category })
    .matchHeader('content-type', 'application/json')
    .reply(200, { data: { id: mediaId, media_key: `3_${mediaId}`, expires_after_secs: 86_400 } });
}

function arrangeAppends(mediaId: string, bytes: Buffer): void {
  const segments = Math.ceil(bytes.length / (64 * 1024));
  for (let i = 0; i < segments; i += 1)
    nock(API, bearer)
      .post(`/2/media/upload/${mediaId}/append`, function (this: MatcherThis, body: unknown) {
        return isAppend(this, body, i, segmentOf(bytes, i));
      })
      .reply(200, {});
}

function arrangeFinalize(mediaId: string, processing?: Record<string, unknown>): void {
  nock(API, bearer)
    .post(`/2/media/upload/${mediaId}/finalize`)
    .reply(200, {
      data: {
        id: mediaId,
        media_key: `3_${mediaId}`,
        size: 1,
        expires_after_secs: 86_400,
        ...(processing ? { processing_info: processing } : {}),
      },
    });
}

function arrangeTweet(
  expected: nock.DataMatcherMap,
  reply: { status: number; body: Record<string, unknown>; headers?: Record<string, string> },
): void {
  nock(API, bearer)
    .post('/2/tweets', expected)
    .matchHeader('content-type', 'application/json')
    .reply(reply.status, reply.body, reply.headers);
}

const CREATED = { status: 201, body: { data: { id: '1901', text: 'Hello', edit_history_post_ids: ['1901'] } } };

function published(result: PublishResult, id = '1901'): void {
  expect(result).toEqual({ kind: 'published', platformPostId: id, permalink: `https://x.com/acme/status/${id}` });
}

/** A text-only post whose POST /2/tweets answers `reply`. */
function textCase(reply: Parameters<typeof arrangeTweet>[1], check: ContractCase<PublishResult>['check']): ContractCase<PublishResult> {
  return {
    arrange: () => arrangeTweet({ text: 'Hello' }, reply),
    act: (publisher, ctx) => publisher.publish(publishRequest(ctx.media, 'Hello', [])),
    check,
  };
}

const FIXED_NOW = Date.parse('2026-09-01T12:00:00Z');

// Media cases create their files in `arrange` (the interceptors need the exact bytes) and again
// in `act`, which rewrites identical bytes and registers the same ids with the fresh context.

export const xContract: PublisherContract = {
  platform: 'x',
  create: () => xPublisher(),
  consent: {
    redirectUri: REDIRECT,
    expectedUrl: AUTHORIZE,
    expectedParams: {
      response_type: 'code',
      client_id: CLIENT_ID,
      redirect_uri: REDIRECT,
      scope: SCOPES,
      state: 'state-123',
      code_challenge: 'challenge-abc',
      code_challenge_method: 'S256',
    },
  },

  connect: {
    arrange() {
      nock(API, { reqheaders: { authorization: BASIC, 'content-type': 'application/x-www-form-urlencoded' } })
        .post('/2/oauth2/token', { grant_type: 'authorization_code', code: 'code-1', redirect_uri: REDIRECT, code_verifier: 'verifier-1' })
        .reply(200, { token_type: 'bearer', expires_in: 7200, access_token: ACCESS, scope: SCOPES, refresh_token: 'refresh-1' });
      nock(API, bearer)
        .get('/2/users/me')
        .query({ 'user.fields': 'profile_image_url' })
        .reply(200, {
          data: {
            id: '1500',
            name: 'Acme Inc',
            username: 'acme',
            profile_image_url: 'https://pbs.twimg.com/profile_images/1/a_normal.jpg',
          },
        });
    },
    act: (publisher) =>
      publisher.finishConnect({ code: 'code-1', redirectUri: REDIRECT, codeVerifier: 'verifier-1', query: { code: 'code-1', state: 's' } }),
    check(accounts) {
      expect(accounts).toHaveLength(1);
      const [account] = accounts;
      expect(account).toMatchObject({
        platformAccountId: '1500',
        platformUserId: '1500',
        handle: 'acme',
        displayName: 'Acme Inc',
        avatarUrl: 'https://pbs.twimg.com/profile_images/1/a_normal.jpg',
        tokens: { accessToken: ACCESS, refreshToken: 'refresh-1', scopes: SCOPES },
      });
      const lifetime = account!.tokens.expiresAt!.getTime() - Date.now();
      expect(lifetime).toBeGreaterThan(7_190_000);
      expect(lifetime).toBeLessThanOrEqual(7_200_000);
    },
  },

  refresh: {
    tokens: { accessToken: 'old-access', refreshToken: 'old-refresh', scopes: SCOPES },
    arrange() {
      nock(API, { reqheaders: { authorization: BASIC, 'content-type': 'application/x-www-form-urlencoded' } })
        .post('/2/oauth2/token', { grant_type: 'refresh_token', refresh_token: 'old-refresh' })
        .reply(200, { token_type: 'bearer', expires_in: 7200, access_token: 'new-access', scope: SCOPES, refresh_token: 'new-refresh' });
    },
    check(tokens) {
      expect(tokens.accessToken).toBe('new-access');
      expect(tokens.refreshToken).toBe('new-refresh');
      expect(tokens.scopes).toBe(SCOPES);
      expect(tokens.expiresAt!.getTime()).toBeGreaterThan(Date.now() + 7_000_000);
    },
  },

  revoke: {
    arrange() {
      const scope = nock(API, { reqheaders: { authorization: BASIC, 'content-type': 'application/x-www-form-urlencoded' } });
      scope
        .post('/2/oauth2/revoke', { token: 'x-refresh-token', token_type_hint: 'refresh_token' })
        .reply(200, { revoked: true })
        .post('/2/oauth2/revoke', { token: ACCESS, token_type_hint: 'access_token' })
        .reply(200, { revoked: true });
    },
    act: (publisher) =>
      publisher.revoke(
        { platformAccountId: '1500', handle: 'acme', displayName: 'Acme Inc' },
        { accessToken: ACCESS, refreshToken: 'x-refresh-token' },
      ),
    check: (result) => expect(result).toBeUndefined(),
  },

  publish: {
    text: textCase(CREATED, (result) => published(result)),

    image: {
      async arrange(ctx) {
        const image = await pngFile(ctx.media, ctx.workDir);
        const bytes = await readFile(`${ctx.workDir}/img-1.png`);
        arrangeInitialize('710', 'image/png', image.sizeBytes, 'tweet_image');
        arrangeAppends('710', bytes);
        arrangeFinalize('710');
        arrangeTweet({ text: 'Hello', media: { media_ids: ['710'] } }, CREATED);
      },
      async act(publisher, ctx) {
        const image = await pngFile(ctx.media, ctx.workDir);
        return publisher.publish(publishRequest(ctx.media, 'Hello', [image]));
      },
      check: (result) => published(result),
    },

    images: {
      async arrange(ctx) {
        const png = await pngFile(ctx.media, ctx.workDir);
        const jpeg = await jpegFile(ctx.media, ctx.workDir);
        arrangeInitialize('711', 'image/png', png.sizeBytes, 'tweet_image');
        arrangeAppends('711', await readFile(`${ctx.workDir}/img-1.png`));
        arrangeFinalize('711');
        arrangeInitialize('712', 'image/jpeg', jpeg.sizeBytes, 'tweet_image');
        arrangeAppends('712', await readFile(`${ctx.workDir}/img-2.jpg`));
        arrangeFinalize('712');
        // Media only: X accepts a post without text when media is attached.
        arrangeTweet({ media: { media_ids: ['711', '712'] } }, CREATED);
      },
      async act(publisher, ctx) {
        const png = await pngFile(ctx.media, ctx.workDir);
        const jpeg = await jpegFile(ctx.media, ctx.workDir);
        return publisher.publish(publishRequest(ctx.media, '', [png, jpeg]));
      },
      check: (result) => published(result),
    },

    video: (() => {
      const progress: PublishProgress[] = [];
      const commits: number[] = [];
      return {
        async arrange(ctx) {
          progress.length = 0;
          commits.length = 0;
          const video = await videoFile(ctx.media, ctx.workDir);
          arrangeInitialize('713', 'video/mp4', video.sizeBytes, 'tweet_video');
          arrangeAppends('713', await readFile(`${ctx.workDir}/vid-1.mp4`));
          arrangeFinalize('713', { state: 'pending', check_after_secs: 1 });
          const status = nock(API, bearer).get('/2/media/upload').query({ command: 'STATUS', media_id: '713' });
          status.reply(200, { data: { id: '713', processing_info: { state: 'in_progress', check_after_secs: 2, progress_percent: 40 } } });
          nock(API, bearer)
            .get('/2/media/upload')
            .query({ command: 'STATUS', media_id: '713' })
            .reply(200, { data: { id: '713', processing_info: { state: 'succeeded', progress_percent: 100 } } });
          arrangeTweet({ text: 'Watch', media: { media_ids: ['713'] } }, CREATED);
        },
        async act(publisher, ctx) {
          const video = await videoFile(ctx.media, ctx.workDir);
          return publisher.publish(
            publishRequest(ctx.media, 'Watch', [video], {
              onProgress: (p) => progress.push(p),
              beforeCommit: async () => {
                commits.push(progress.length);
              },
            }),
          );
        },
        check(result) {
          published(result);
          expect(progress.filter((p) => p.phase === 'uploading').map((p) => p.bytesSent)).toEqual([65_536, 131_072, 150_000]);
          expect(progress.filter((p) => p.phase === 'processing')).toHaveLength(2);
          // beforeCommit ran once, after every upload and processing step.
          expect(commits).toEqual([progress.length]);
          expect(progress.at(-1)).toEqual({ phase: 'publishing' });
        },
      } satisfies ContractCase<PublishResult>;
    })(),
  },

  errors: {
    retryable: {
      arrange: () =>
        arrangeTweet(
          { text: 'Hello' },
          {
            status: 429,
            body: { title: 'Too Many Requests', detail: 'Too Many Requests', type: 'about:blank', status: 429 },
            headers: { 'x-rate-limit-limit': '100', 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': String(FIXED_NOW / 1000 + 600) },
          },
        ),
      async act(publisher, ctx) {
        vi.useFakeTimers({ toFake: ['Date'], now: FIXED_NOW });
        try {
          return await publisher.publish(publishRequest(ctx.media, 'Hello', []));
        } finally {
          vi.useRealTimers();
        }
      },
      check: (result) =>
        expect(result).toEqual({
          kind: 'failed',
          failure: {
            class: 'retryable',
            message: "X's rate limit for this account or app is reached; posting can resume when it resets.",
            retryAfterMs: 600_000,
            platformCode: 'x:429',
          },
        }),
    },
    reconnect: textCase(
      { status: 401, body: { title: 'Unauthorized', type: 'about:blank', status: 401, detail: 'Unauthorized' } },
      (result) =>
        expect(result).toEqual({
          kind: 'failed',
          failure: {
            class: 'reconnect',
            message: 'X no longer accepts this connection; it must be refreshed or the account connected again.',
            tokenExpired: true,
            platformCode: 'x:401',
          },
        }),
    ),
    content: textCase(
      {
        status: 403,
        body: {
          detail: 'You are not allowed to create a Tweet with duplicate content.',
          type: 'about:blank',
          title: 'Forbidden',
          status: 403,
        },
      },
      (result) =>
        expect(result).toEqual({
          kind: 'failed',
          failure: {
            class: 'content',
            message: 'X refused this post because the account already posted the same text; change the caption before posting again.',
            platformCode: 'x:duplicate',
          },
        }),
    ),
    unknown: textCase(
      { status: 503, body: { title: 'Service Unavailable', detail: 'Service Unavailable', type: 'about:blank', status: 503 } },
      (result) =>
        expect(result).toEqual({
          kind: 'failed',
          failure: {
            class: 'unknown',
            message: 'X answered 503 while posting; X may have published it; check before posting again.',
            platformCode: 'x:503',
          },
        }),
    ),
  },
};
