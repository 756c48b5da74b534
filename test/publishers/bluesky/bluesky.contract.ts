/** The Bluesky fixture of the shared publisher contract (test/publishers/contract-suite.ts). */
import nock from 'nock';
import { expect } from 'vitest';
import type { PublishResult } from '../../../src/publishers/publisher.js';
import { addImage, addVideoBytes } from '../../helpers/media.js';
import { mp4Header } from '../../helpers/mp4.js';
import type { ContractCase, PublisherContract } from '../contract.js';
import {
  ACCESS,
  ACCOUNT,
  arrangeAsMetadata,
  arrangeAsPost,
  arrangeIdentity,
  arrangePds,
  blueskyPublisher,
  CLIENT_ID,
  clientKid,
  DID,
  dpopJwk,
  ENTRYWAY,
  HANDLE,
  PDS,
  publishRequest,
  REDIRECT,
  REFRESH,
  SCOPE,
  storedTokens,
  TID,
  validAssertion,
  VIDEO,
} from './bluesky-fixtures.js';

const RKEY_URI = new RegExp(`^at://${DID}/app\\.bsky\\.feed\\.post/[234567a-z]{13}$`);
const CREATED = (rkey = '3lbsimrkey222') => ({
  status: 200,
  body: { uri: `at://${DID}/app.bsky.feed.post/${rkey}`, cid: 'bafyreicid', validationStatus: 'valid' },
});

/** createRecord with exactly `record`'s fields (createdAt any ISO time), the rkey a TID chosen by IQSP. */
function createRecordBody(expected: Record<string, unknown>) {
  return (body: Record<string, unknown>): boolean => {
    const record = body.record as Record<string, unknown>;
    const { createdAt, ...rest } = record;
    return (
      body.repo === DID &&
      body.collection === 'app.bsky.feed.post' &&
      typeof body.rkey === 'string' &&
      TID.test(body.rkey) &&
      body.validate === true &&
      Object.keys(body).length === 5 &&
      typeof createdAt === 'string' &&
      !Number.isNaN(Date.parse(createdAt)) &&
      JSON.stringify(rest) === JSON.stringify({ $type: 'app.bsky.feed.post', text: expected.text, ...expected })
    );
  };
}

function published(result: PublishResult): void {
  expect(result).toEqual({
    kind: 'published',
    platformPostId: `at://${DID}/app.bsky.feed.post/3lbsimrkey222`,
    permalink: `https://bsky.app/profile/${DID}/post/3lbsimrkey222`,
  });
}

/** A text post whose createRecord answers `reply`. */
function textCase(
  reply: { status: number; body: unknown; headers?: Record<string, string> },
  check: ContractCase<PublishResult>['check'],
): ContractCase<PublishResult> {
  return {
    arrange() {
      arrangeAsMetadata();
      arrangePds('POST', 'com.atproto.repo.createRecord', { body: createRecordBody({ text: 'Hello' }), firstOfRun: true, reply });
    },
    act: (publisher, ctx) => publisher.publish(publishRequest(ctx.media, 'Hello', [])),
    check,
  };
}

const BLOB = (cid: string, mimeType: string, size: number) => ({ $type: 'blob', ref: { $link: cid }, mimeType, size });

export const blueskyContract: PublisherContract = {
  platform: 'bluesky',
  create: () => blueskyPublisher(),
  consent: {
    started: {
      arrange() {
        nock(ENTRYWAY).get('/.well-known/oauth-protected-resource').reply(404);
        arrangeAsMetadata();
        arrangeAsPost(
          '/oauth/par',
          (f) =>
            validAssertion(f) &&
            f.response_type === 'code' &&
            f.redirect_uri === REDIRECT &&
            f.scope === SCOPE &&
            f.code_challenge_method === 'S256' &&
            /^[A-Za-z0-9_-]{43}$/.test(f.code_challenge ?? '') &&
            typeof f.state === 'string' &&
            f.login_hint === undefined,
          { status: 201, body: { request_uri: 'urn:ietf:params:oauth:request_uri:req-1', expires_in: 299 } },
        );
      },
      act: (publisher) => publisher.startConsent!({ state: 'iqsp-state', redirectUri: REDIRECT }),
      check(started) {
        const url = new URL(started.url);
        expect(`${url.origin}${url.pathname}`).toBe(`${ENTRYWAY}/oauth/authorize`);
        expect(Object.fromEntries(url.searchParams)).toEqual({
          client_id: CLIENT_ID,
          request_uri: 'urn:ietf:params:oauth:request_uri:req-1',
        });
        const secret = JSON.parse(started.secret ?? '{}') as { state: string; value: Record<string, unknown> };
        expect(secret.state).toBe(started.state);
        expect(secret.value).toMatchObject({
          iss: ENTRYWAY,
          appState: 'iqsp-state',
          authMethod: { method: 'private_key_jwt', kid: clientKid() },
        });
        expect(secret.value.dpopJwk).toHaveProperty('d');
      },
    },
  },

  connect: {
    arrange() {
      arrangeIdentity();
      arrangeAsPost(
        '/oauth/token',
        (f) =>
          validAssertion(f) &&
          f.grant_type === 'authorization_code' &&
          f.code === 'code-1' &&
          f.redirect_uri === REDIRECT &&
          f.code_verifier === 'verifier-1',
        {
          status: 200,
          body: { access_token: ACCESS, token_type: 'DPoP', expires_in: 3600, refresh_token: REFRESH, scope: SCOPE, sub: DID },
        },
      );
      arrangePds('GET', 'app.bsky.actor.getProfile', {
        query: { actor: DID },
        firstOfRun: true,
        reply: {
          status: 200,
          body: { did: DID, handle: HANDLE, displayName: 'Acme', avatar: 'https://cdn.bsky.app/img/avatar/plain/acme@jpeg' },
        },
      });
    },
    act: (publisher) => {
      const value = {
        iss: ENTRYWAY,
        dpopJwk: dpopJwk(),
        authMethod: { method: 'private_key_jwt', kid: clientKid() },
        verifier: 'verifier-1',
        appState: 'iqsp-state',
      };
      return publisher.finishConnect({
        code: 'code-1',
        redirectUri: REDIRECT,
        query: { code: 'code-1', state: 'lib-state', iss: ENTRYWAY },
        roundTripSecret: JSON.stringify({ state: 'lib-state', value }),
      });
    },
    check(accounts) {
      expect(accounts).toHaveLength(1);
      const [account] = accounts;
      expect(account).toMatchObject({
        platformAccountId: DID,
        platformUserId: DID,
        handle: HANDLE,
        displayName: 'Acme',
        avatarUrl: 'https://cdn.bsky.app/img/avatar/plain/acme@jpeg',
        tokens: { accessToken: ACCESS, refreshToken: REFRESH, scopes: SCOPE },
      });
      const session = JSON.parse(account?.tokens.extra?.session ?? '{}') as Record<string, unknown>;
      expect(session).toMatchObject({
        iss: ENTRYWAY,
        sub: DID,
        aud: `${PDS}/`,
        tokenType: 'DPoP',
        authMethod: { method: 'private_key_jwt' },
      });
      expect(session.dpopJwk).toHaveProperty('d');
      expect(account?.tokens.expiresAt?.getTime()).toBeGreaterThan(Date.now() + 3_500_000);
    },
  },

  refresh: {
    tokens: storedTokens(),
    arrange() {
      arrangeIdentity();
      arrangeAsPost('/oauth/token', (f) => validAssertion(f) && f.grant_type === 'refresh_token' && f.refresh_token === REFRESH, {
        status: 200,
        body: {
          access_token: 'bsky-access-2',
          token_type: 'DPoP',
          expires_in: 3600,
          refresh_token: 'bsky-refresh-2',
          scope: SCOPE,
          sub: DID,
        },
      });
    },
    check(tokens) {
      expect(tokens).toMatchObject({ accessToken: 'bsky-access-2', refreshToken: 'bsky-refresh-2', scopes: SCOPE });
      expect(JSON.parse(tokens.extra?.session ?? '{}')).toMatchObject({ sub: DID, iss: ENTRYWAY });
    },
  },

  revoke: {
    arrange() {
      arrangeAsMetadata();
      arrangeAsPost('/oauth/revoke', (f) => validAssertion(f) && f.token === ACCESS, { status: 200, body: {} });
    },
    act: (publisher) => publisher.revoke(ACCOUNT, storedTokens()),
    check: () => undefined,
  },

  publish: {
    text: textCase(CREATED(), (result) => published(result)),
    image: {
      async arrange(ctx) {
        const image = await addImage(ctx, { id: 'img-1', format: 'png', width: 64, height: 48, background: '#c82850' });
        arrangeAsMetadata();
        arrangePds('POST', 'com.atproto.repo.uploadBlob', {
          firstOfRun: true,
          contentType: 'image/png',
          reply: { status: 200, body: { blob: BLOB('bafkreiimg', 'image/png', image.sizeBytes) } },
        });
        arrangePds('POST', 'com.atproto.repo.createRecord', {
          body: createRecordBody({
            text: 'A picture',
            embed: {
              $type: 'app.bsky.embed.images',
              images: [{ image: BLOB('bafkreiimg', 'image/png', image.sizeBytes), alt: '', aspectRatio: { width: 64, height: 48 } }],
            },
          }),
          reply: CREATED(),
        });
      },
      async act(publisher, ctx) {
        const image = await addImage(ctx, { id: 'img-1', format: 'png', width: 64, height: 48, background: '#c82850' });
        return publisher.publish(publishRequest(ctx.media, 'A picture', [image]));
      },
      check: (result) => published(result),
    },
    video: {
      arrange(ctx) {
        const bytes = Buffer.concat([mp4Header({ durationMs: 4000, width: 1080, height: 1920 }), Buffer.alloc(50_000, 3)]);
        const size = bytes.length;
        arrangeAsMetadata();
        arrangePds('GET', 'com.atproto.server.getServiceAuth', {
          query: { aud: 'did:web:video.bsky.app', lxm: 'app.bsky.video.getUploadLimits' },
          firstOfRun: true,
          reply: { status: 200, body: { token: 'svc-limits' } },
        });
        nock(VIDEO, { reqheaders: { authorization: 'Bearer svc-limits' } })
          .get('/xrpc/app.bsky.video.getUploadLimits')
          .reply(200, { canUpload: true, remainingDailyVideos: 25, remainingDailyBytes: 10_000_000_000 });
        arrangePds('GET', 'com.atproto.server.getServiceAuth', {
          query: { aud: 'did:web:morel.us-east.host.bsky.network', lxm: 'com.atproto.repo.uploadBlob', exp: /^\d+$/ as unknown as string },
          reply: { status: 200, body: { token: 'svc-upload' } },
        });
        nock(VIDEO, { reqheaders: { authorization: 'Bearer svc-upload', 'content-type': 'video/mp4', 'content-length': String(size) } })
          .post('/xrpc/app.bsky.video.uploadVideo')
          .query({ did: DID, name: /^[0-9a-f]{16}\.mp4$/ as unknown as string })
          .reply(200, { did: DID, jobId: 'job-1', state: 'JOB_STATE_CREATED' });
        nock(VIDEO)
          .get('/xrpc/app.bsky.video.getJobStatus')
          .query({ jobId: 'job-1' })
          .reply(200, { jobStatus: { did: DID, jobId: 'job-1', state: 'JOB_STATE_ENCODING', progress: 50 } });
        nock(VIDEO)
          .get('/xrpc/app.bsky.video.getJobStatus')
          .query({ jobId: 'job-1' })
          .reply(200, {
            jobStatus: { did: DID, jobId: 'job-1', state: 'JOB_STATE_COMPLETED', blob: BLOB('bafkreivid', 'video/mp4', size) },
          });
        arrangePds('POST', 'com.atproto.repo.createRecord', {
          body: createRecordBody({
            text: 'A video',
            embed: {
              $type: 'app.bsky.embed.video',
              video: BLOB('bafkreivid', 'video/mp4', size),
              aspectRatio: { width: 1080, height: 1920 },
            },
          }),
          reply: CREATED(),
        });
        return addVideoBytes(ctx, 'vid-1', bytes, { width: 1080, height: 1920 }).then(() => undefined);
      },
      async act(publisher, ctx) {
        const bytes = Buffer.concat([mp4Header({ durationMs: 4000, width: 1080, height: 1920 }), Buffer.alloc(50_000, 3)]);
        const video = await addVideoBytes(ctx, 'vid-1', bytes, { width: 1080, height: 1920 });
        return publisher.publish(publishRequest(ctx.media, 'A video', [video]));
      },
      check: (result) => published(result),
    },
  },

  errors: {
    retryable: textCase(
      {
        status: 429,
        body: { error: 'RateLimitExceeded', message: 'Rate Limit Exceeded' },
        headers: { 'RateLimit-Reset': String(Math.floor(Date.now() / 1000) + 600) },
      },
      (result) => {
        expect(result).toMatchObject({ kind: 'failed', failure: { class: 'retryable', platformCode: 'bluesky:RateLimitExceeded' } });
        const wait = result.kind === 'failed' ? (result.failure.retryAfterMs ?? 0) : 0;
        expect(wait).toBeGreaterThan(500_000);
        expect(wait).toBeLessThanOrEqual(600_000);
      },
    ),
    reconnect: textCase(
      {
        status: 401,
        body: { error: 'InvalidToken', message: 'Token has been revoked' },
        headers: { 'WWW-Authenticate': 'DPoP error="invalid_token", error_description="Token has been revoked"' },
      },
      (result) => expect(result).toMatchObject({ kind: 'failed', failure: { class: 'reconnect', tokenExpired: true } }),
    ),
    content: textCase(
      { status: 400, body: { error: 'InvalidRequest', message: 'Record/text must not be longer than 300 graphemes' } },
      (result) =>
        expect(result).toMatchObject({
          kind: 'failed',
          failure: {
            class: 'content',
            platformCode: 'bluesky:InvalidRequest',
            message: expect.stringContaining('300 graphemes') as string,
          },
        }),
    ),
    unknown: textCase({ status: 502, body: { error: 'UpstreamFailure', message: 'Upstream Failure' } }, (result) =>
      expect(result).toMatchObject({ kind: 'failed', failure: { class: 'unknown', platformCode: 'bluesky:UpstreamFailure' } }),
    ),
  },
};

export { RKEY_URI };
