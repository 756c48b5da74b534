/** The Threads fixture of the shared publisher contract (test/publishers/contract-suite.ts). */
import nock from 'nock';
import { expect } from 'vitest';
import type { PublishResult } from '../../../src/publishers/publisher.js';
import type { ContractCase, PublisherContract } from '../contract.js';
import {
  ACCOUNT,
  API,
  APP_ID,
  APP_SECRET,
  arrangeContainer,
  arrangePermalink,
  arrangePublish,
  arrangeStatus,
  AUTHORIZE,
  graphError,
  jpegFile,
  mediaUrl,
  ORIGIN,
  pngFile,
  publishRequest,
  SCOPES,
  threadsPublisher,
  TOKEN,
  USER,
  videoFile,
} from './threads-fixtures.js';

const REDIRECT = 'https://iqsp.test/oauth/threads/callback';
const LINK = 'https://www.threads.net/@acme/post/DAbCdEf';

function published(result: PublishResult, id = '18100'): void {
  expect(result).toEqual({ kind: 'published', platformPostId: id, permalink: LINK });
}

/** A text post whose threads_publish answers `reply`. */
function textCase(reply: Parameters<typeof arrangePublish>[1], check: ContractCase<PublishResult>['check']): ContractCase<PublishResult> {
  return {
    arrange() {
      arrangeContainer({ media_type: 'TEXT', text: 'Hello' }, '17900');
      arrangeStatus('17900', 'FINISHED');
      arrangePublish('17900', reply);
    },
    act: (publisher, ctx) => publisher.publish(publishRequest(ctx.media, 'Hello', [])),
    check,
  };
}

export const threadsContract: PublisherContract = {
  platform: 'threads',
  create: () => threadsPublisher(),
  consent: {
    redirectUri: REDIRECT,
    expectedUrl: AUTHORIZE,
    expectedParams: { client_id: APP_ID, redirect_uri: REDIRECT, scope: SCOPES, response_type: 'code', state: 'state-123' },
  },

  connect: {
    arrange() {
      nock(ORIGIN)
        .post('/oauth/access_token', {
          client_id: APP_ID,
          client_secret: APP_SECRET,
          code: 'code-1',
          grant_type: 'authorization_code',
          redirect_uri: REDIRECT,
        })
        .matchHeader('content-type', 'application/x-www-form-urlencoded')
        .reply(200, { access_token: 'THshort', user_id: USER });
      nock(ORIGIN)
        .get('/access_token')
        .query({ grant_type: 'th_exchange_token', client_secret: APP_SECRET, access_token: 'THshort' })
        .reply(200, { access_token: TOKEN, token_type: 'bearer', expires_in: 5_183_944 });
      nock(API)
        .get('/me')
        .query({ fields: 'id,username,name,threads_profile_picture_url', access_token: TOKEN })
        .reply(200, { id: USER, username: 'acme', name: 'Acme Inc', threads_profile_picture_url: 'https://scontent.test/acme.jpg' });
    },
    // Threads appends `#_` to the code; it is not part of it.
    act: (publisher) => publisher.finishConnect({ code: 'code-1#_', redirectUri: REDIRECT, query: { code: 'code-1#_', state: 's' } }),
    check(accounts) {
      expect(accounts).toHaveLength(1);
      const [account] = accounts;
      expect(account).toMatchObject({
        platformAccountId: USER,
        platformUserId: USER,
        handle: 'acme',
        displayName: 'Acme Inc',
        avatarUrl: 'https://scontent.test/acme.jpg',
        tokens: { accessToken: TOKEN, refreshToken: TOKEN },
      });
      // The token dies in 60 days; IQSP renews it after 30.
      const dies = account!.tokens.refreshExpiresAt!.getTime() - Date.now();
      expect(dies).toBeGreaterThan(5_183_944_000 - 10_000);
      expect(dies).toBeLessThanOrEqual(5_183_944_000);
      expect(account!.tokens.refreshExpiresAt!.getTime() - account!.tokens.expiresAt!.getTime()).toBe(30 * 86_400_000);
    },
  },

  refresh: {
    tokens: { accessToken: 'THold', refreshToken: 'THold', refreshExpiresAt: new Date(Date.now() + 20 * 86_400_000) },
    arrange() {
      nock(ORIGIN)
        .get('/refresh_access_token')
        .query({ grant_type: 'th_refresh_token', access_token: 'THold' })
        .reply(200, { access_token: 'THnew', token_type: 'bearer', expires_in: 5_183_944 });
    },
    check(tokens) {
      expect(tokens.accessToken).toBe('THnew');
      expect(tokens.refreshToken).toBe('THnew');
      expect(tokens.refreshExpiresAt!.getTime()).toBeGreaterThan(Date.now() + 59 * 86_400_000);
    },
  },

  // Threads has no revocation endpoint: revoking sends nothing (an unmatched request would fail).
  revoke: {
    arrange: () => undefined,
    act: (publisher) => publisher.revoke(ACCOUNT, { accessToken: TOKEN }),
    check: (result) => expect(result).toBeUndefined(),
  },

  publish: {
    text: {
      arrange() {
        arrangeContainer({ media_type: 'TEXT', text: 'Hello' }, '17900');
        arrangeStatus('17900', 'FINISHED');
        arrangePublish('17900', '18100');
        arrangePermalink('18100', LINK);
      },
      act: (publisher, ctx) => publisher.publish(publishRequest(ctx.media, 'Hello', [])),
      check: (result) => published(result),
    },
    image: {
      async arrange(ctx) {
        await jpegFile(ctx.media, ctx.workDir);
        arrangeContainer({ media_type: 'IMAGE', image_url: mediaUrl('img-1'), text: 'A photo' }, '17901');
        arrangeStatus('17901', 'IN_PROGRESS', 'FINISHED');
        arrangePublish('17901', '18100');
        arrangePermalink('18100', LINK);
      },
      async act(publisher, ctx) {
        const file = await jpegFile(ctx.media, ctx.workDir);
        return publisher.publish(publishRequest(ctx.media, 'A photo', [file]));
      },
      check: (result) => published(result),
    },
    images: {
      async arrange() {
        arrangeContainer({ media_type: 'IMAGE', image_url: mediaUrl('img-1'), is_carousel_item: 'true' }, '17911');
        arrangeContainer({ media_type: 'IMAGE', image_url: mediaUrl('img-2'), is_carousel_item: 'true' }, '17912');
        arrangeStatus('17911', 'FINISHED');
        arrangeStatus('17912', 'IN_PROGRESS', 'FINISHED');
        arrangeContainer({ media_type: 'CAROUSEL', children: '17911,17912', text: 'Two' }, '17913');
        arrangeStatus('17913', 'FINISHED');
        arrangePublish('17913', '18100');
        arrangePermalink('18100', LINK);
      },
      async act(publisher, ctx) {
        const files = [await jpegFile(ctx.media, ctx.workDir), await pngFile(ctx.media, ctx.workDir)];
        return publisher.publish(publishRequest(ctx.media, 'Two', files));
      },
      check: (result) => published(result),
    },
    video: {
      arrange() {
        arrangeContainer({ media_type: 'VIDEO', video_url: mediaUrl('vid-1'), text: 'A clip' }, '17921');
        arrangeStatus('17921', 'IN_PROGRESS', 'IN_PROGRESS', 'FINISHED');
        arrangePublish('17921', '18100');
        arrangePermalink('18100', LINK);
      },
      async act(publisher, ctx) {
        const file = await videoFile(ctx.media, ctx.workDir);
        return publisher.publish(publishRequest(ctx.media, 'A clip', [file]));
      },
      check: (result) => published(result),
    },
  },

  errors: {
    retryable: textCase(
      {
        status: 400,
        body: graphError(4, '(#4) Application request limit reached', { is_transient: true }),
        headers: { 'x-app-usage': '{"call_count":100}', 'retry-after': '120' },
      },
      (result) => {
        expect(result).toMatchObject({ kind: 'failed', failure: { class: 'retryable', platformCode: 'threads:4', retryAfterMs: 300_000 } });
      },
    ),
    reconnect: textCase(
      {
        status: 400,
        body: graphError(190, 'Error validating access token: Session has expired on Tuesday, 01-Sep-26 10:00:00 PDT.', {
          error_subcode: 463,
        }),
      },
      (result) => {
        expect(result).toMatchObject({
          kind: 'failed',
          failure: { class: 'reconnect', tokenExpired: true, platformCode: 'threads:190/463' },
        });
      },
    ),
    content: {
      arrange() {
        arrangeContainer({ media_type: 'VIDEO', video_url: mediaUrl('vid-1'), text: 'A clip' }, '17921');
        arrangeStatus('17921', 'IN_PROGRESS', { status: 'ERROR', error_message: 'INVALID_DURATION' });
      },
      async act(publisher, ctx) {
        const file = await videoFile(ctx.media, ctx.workDir);
        return publisher.publish(publishRequest(ctx.media, 'A clip', [file]));
      },
      check(result) {
        expect(result).toMatchObject({ kind: 'failed', failure: { class: 'content', platformCode: 'threads:container:INVALID_DURATION' } });
        if (result.kind === 'failed') expect(result.failure.message).toContain('the video is too long or too short');
      },
    },
    unknown: textCase({ status: 500, body: graphError(1, 'An unknown error occurred', { is_transient: true }) }, (result) => {
      expect(result).toMatchObject({ kind: 'failed', failure: { class: 'unknown', platformCode: 'threads:1' } });
    }),
  },
};
