/** The Facebook Pages fixture of the publisher contract suite. */
import type nock from 'nock';
import { expect } from 'vitest';
import type { MediaInfo } from '../../../src/media/media.js';
import { createFacebookPublisher } from '../../../src/publishers/facebook/index.js';
import type { AccountRef, PublishResult, TokenSet } from '../../../src/publishers/publisher.js';
import { TEST_MEDIA_BASE } from '../../helpers/file-media.js';
import type { ContractCase, PublisherContract } from '../contract.js';
import {
  addJpeg,
  addVideo,
  LANDSCAPE,
  APP_ID,
  arrangeLogin,
  callback,
  formBody,
  formPost,
  GRAPH_VIDEO_ORIGIN,
  graph,
  LONG_USER_TOKEN,
  META_OPTIONS,
  newLog,
  PAGE_TOKEN,
  publishRequest,
  recorded,
  REDIRECT_URI,
  USER_ID,
  V,
  withToken,
  type PublishLog,
} from '../meta/meta-fixtures.js';

const PAGE_ID = 'page-1';
const SCOPES = ['pages_show_list', 'pages_read_engagement', 'pages_manage_posts'];
const PAGE: AccountRef = { platformAccountId: PAGE_ID, platformUserId: USER_ID, displayName: 'Acme Inc' };
const TOKENS: TokenSet = {
  accessToken: PAGE_TOKEN,
  scopes: `public_profile ${SCOPES.join(' ')}`,
  extra: { userAccessToken: LONG_USER_TOKEN },
};

let log: PublishLog = newLog();
let media: MediaInfo[] = [];

function permalinkLookup(postId: string, permalink: string): void {
  graph()
    .get(`${V}/${postId}`)
    .query(withToken(PAGE_TOKEN, { fields: 'permalink_url' }))
    .reply(200, { permalink_url: permalink, id: postId });
}

/** A publish case: `arrange` registers media and interceptors, `check` the result and the order. */
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
    act: (publisher, ctx) => publisher.publish(publishRequest(ctx.media, PAGE, { caption, media }, log, TOKENS)),
    check,
  };
}

const TEXT = 'Hello from IQSP';

function feedPost(): nock.Interceptor {
  return formPost().post(`${V}/${PAGE_ID}/feed`, formBody(PAGE_TOKEN, { message: TEXT }));
}

export const facebookContract: PublisherContract = {
  platform: 'facebook',
  create: () => createFacebookPublisher(META_OPTIONS),
  consent: {
    redirectUri: REDIRECT_URI,
    expectedUrl: 'https://www.facebook.com/v26.0/dialog/oauth',
    expectedParams: {
      client_id: APP_ID,
      redirect_uri: REDIRECT_URI,
      state: 'state-123',
      response_type: 'code',
      scope: SCOPES.join(','),
    },
  },

  connect: {
    arrange() {
      arrangeLogin(SCOPES);
      graph()
        .get(`${V}/me/accounts`)
        .query(withToken(LONG_USER_TOKEN, { fields: 'id,name,access_token,picture.type(large),tasks', limit: '100' }))
        .reply(200, {
          data: [
            {
              id: PAGE_ID,
              name: 'Acme Inc',
              access_token: PAGE_TOKEN,
              picture: { data: { url: 'https://scontent.test/acme.jpg', width: 200, height: 200 } },
              tasks: ['ANALYZE', 'ADVERTISE', 'MODERATE', 'CREATE_CONTENT', 'MANAGE'],
            },
            {
              id: 'page-2',
              name: 'Acme Shop',
              access_token: 'page-token-2',
              picture: { data: { url: 'https://scontent.test/shop.jpg' } },
              tasks: ['CREATE_CONTENT'],
            },
          ],
          paging: { cursors: { before: 'b', after: 'a' } },
        });
    },
    act: (publisher) => publisher.finishConnect(callback()),
    check(accounts) {
      const tokens = (accessToken: string): TokenSet => ({
        accessToken,
        scopes: `public_profile ${SCOPES.join(' ')}`,
        extra: { userAccessToken: LONG_USER_TOKEN },
      });
      expect(accounts).toEqual([
        {
          platformAccountId: PAGE_ID,
          platformUserId: USER_ID,
          displayName: 'Acme Inc',
          avatarUrl: 'https://scontent.test/acme.jpg',
          tokens: tokens(PAGE_TOKEN),
        },
        {
          platformAccountId: 'page-2',
          platformUserId: USER_ID,
          displayName: 'Acme Shop',
          avatarUrl: 'https://scontent.test/shop.jpg',
          tokens: tokens('page-token-2'),
        },
      ]);
      expect(accounts[0]?.tokens.expiresAt).toBeUndefined();
    },
  },

  revoke: {
    arrange() {
      graph().delete(`${V}/${USER_ID}/permissions`).query(withToken(LONG_USER_TOKEN)).reply(200, { success: true });
    },
    act: (publisher) => publisher.revoke(PAGE, TOKENS),
    check: (result) => expect(result).toBeUndefined(),
  },

  publish: {
    text: publishCase(
      () => {
        formPost()
          .post(`${V}/${PAGE_ID}/feed`, formBody(PAGE_TOKEN, { message: 'Hello from IQSP' }))
          .reply(recorded(log, 'POST feed', 200, { id: `${PAGE_ID}_111` }));
        permalinkLookup(`${PAGE_ID}_111`, 'https://www.facebook.com/acme/posts/pfbid0111');
      },
      'Hello from IQSP',
      (result) => {
        expect(result).toEqual({
          kind: 'published',
          platformPostId: `${PAGE_ID}_111`,
          permalink: 'https://www.facebook.com/acme/posts/pfbid0111',
        });
        expect(log.events).toEqual(['beforeCommit', 'POST feed']);
      },
    ),

    image: publishCase(
      async (ctx) => {
        media = [await addJpeg(ctx.media, ctx.workDir, 'photo-a')];
        formPost()
          .post(`${V}/${PAGE_ID}/photos`, formBody(PAGE_TOKEN, { url: `${TEST_MEDIA_BASE}/photo-a`, caption: 'One photo' }))
          .reply(recorded(log, 'POST photos', 200, { id: 'photo-1', post_id: `${PAGE_ID}_222` }));
        permalinkLookup(`${PAGE_ID}_222`, 'https://www.facebook.com/photo/?fbid=222');
      },
      'One photo',
      (result) => {
        expect(result).toEqual({
          kind: 'published',
          platformPostId: `${PAGE_ID}_222`,
          permalink: 'https://www.facebook.com/photo/?fbid=222',
        });
        expect(log.events).toEqual(['beforeCommit', 'POST photos']);
      },
    ),

    images: publishCase(
      async (ctx) => {
        media = [await addJpeg(ctx.media, ctx.workDir, 'photo-a'), await addJpeg(ctx.media, ctx.workDir, 'photo-b', 1200, 800)];
        for (const [index, id] of ['photo-a', 'photo-b'].entries())
          formPost()
            .post(`${V}/${PAGE_ID}/photos`, formBody(PAGE_TOKEN, { url: `${TEST_MEDIA_BASE}/${id}`, published: 'false' }))
            .reply(recorded(log, `POST photos ${id}`, 200, { id: `fbid-${index + 1}` }));
        formPost()
          .post(
            `${V}/${PAGE_ID}/feed`,
            formBody(PAGE_TOKEN, {
              message: 'Two photos',
              'attached_media[0]': '{"media_fbid":"fbid-1"}',
              'attached_media[1]': '{"media_fbid":"fbid-2"}',
            }),
          )
          .reply(recorded(log, 'POST feed', 200, { id: `${PAGE_ID}_333` }));
        permalinkLookup(`${PAGE_ID}_333`, 'https://www.facebook.com/acme/posts/pfbid0333');
      },
      'Two photos',
      (result) => {
        expect(result).toEqual({
          kind: 'published',
          platformPostId: `${PAGE_ID}_333`,
          permalink: 'https://www.facebook.com/acme/posts/pfbid0333',
        });
        expect(log.events).toEqual(['POST photos photo-a', 'POST photos photo-b', 'beforeCommit', 'POST feed']);
        const total = media.reduce((sum, m) => sum + m.sizeBytes, 0);
        expect(log.progress).toEqual([
          { phase: 'uploading', bytesSent: media[0]!.sizeBytes, bytesTotal: total },
          { phase: 'uploading', bytesSent: total, bytesTotal: total },
          { phase: 'publishing' },
        ]);
      },
    ),

    video: publishCase(
      async (ctx) => {
        media = [await addVideo(ctx.media, ctx.workDir, 'clip', LANDSCAPE)];
        formPost(GRAPH_VIDEO_ORIGIN)
          .post(`${V}/${PAGE_ID}/videos`, formBody(PAGE_TOKEN, { file_url: `${TEST_MEDIA_BASE}/clip`, description: 'A clip' }))
          .reply(recorded(log, 'POST videos', 200, { id: 'video-9' }));
        const status = graph()
          .get(`${V}/video-9`)
          .query(withToken(PAGE_TOKEN, { fields: 'status,permalink_url' }));
        status.reply(200, { id: 'video-9', status: { video_status: 'processing', processing_phase: { status: 'in_progress' } } });
        graph()
          .get(`${V}/video-9`)
          .query(withToken(PAGE_TOKEN, { fields: 'status,permalink_url' }))
          .reply(200, { id: 'video-9', status: { video_status: 'ready' }, permalink_url: '/acme/videos/video-9/' });
      },
      'A clip',
      (result) => {
        expect(result).toEqual({
          kind: 'published',
          platformPostId: 'video-9',
          permalink: 'https://www.facebook.com/acme/videos/video-9/',
        });
        expect(log.events).toEqual(['beforeCommit', 'POST videos']);
        expect(log.progress).toEqual([{ phase: 'publishing' }, { phase: 'processing' }]);
      },
    ),
  },

  errors: {
    retryable: publishCase(
      () => {
        feedPost().reply(
          recorded(
            log,
            'POST feed',
            400,
            { error: { message: '(#32) Page request limit reached', type: 'OAuthException', code: 32, fbtrace_id: 'A1' } },
            {
              'x-business-use-case-usage': JSON.stringify({
                [PAGE_ID]: [{ type: 'pages', call_count: 100, total_cputime: 20, total_time: 31, estimated_time_to_regain_access: 7 }],
              }),
            },
          ),
        );
      },
      TEXT,
      (result) => {
        expect(result).toEqual({
          kind: 'failed',
          failure: {
            class: 'retryable',
            message: 'Facebook rate-limited IQSP (code 32); the post will be tried again when the limit resets.',
            platformCode: 'meta:32',
            retryAfterMs: 7 * 60_000,
          },
        });
        expect(log.events).toEqual(['beforeCommit', 'POST feed']);
      },
    ),

    reconnect: publishCase(
      () => {
        feedPost().reply(400, {
          error: {
            message: `Error validating access token: Session has expired (${PAGE_TOKEN}).`,
            type: 'OAuthException',
            code: 190,
            error_subcode: 463,
          },
        });
      },
      TEXT,
      (result) => {
        expect(result).toEqual({
          kind: 'failed',
          failure: {
            class: 'reconnect',
            message: 'Facebook access for this account has expired; connect it again.',
            platformCode: 'meta:190/463',
            tokenExpired: true,
          },
        });
      },
    ),

    content: publishCase(
      async (ctx) => {
        media = [await addJpeg(ctx.media, ctx.workDir, 'photo-a')];
        formPost()
          .post(`${V}/${PAGE_ID}/photos`, formBody(PAGE_TOKEN, { url: `${TEST_MEDIA_BASE}/photo-a`, caption: 'Blocked' }))
          .reply(400, {
            error: {
              message: 'It looks like you were misusing this feature by going too fast.',
              type: 'OAuthException',
              code: 368,
              error_user_msg: 'This content goes against our Community Standards.',
            },
          });
      },
      'Blocked',
      (result) => {
        expect(result).toEqual({
          kind: 'failed',
          failure: {
            class: 'content',
            message:
              'Facebook blocked this post as abusive or against its policies (This content goes against our Community Standards); change the post before trying again.',
            platformCode: 'meta:368',
          },
        });
      },
    ),

    unknown: publishCase(
      () => {
        feedPost().replyWithError({ code: 'ECONNRESET', message: 'socket hang up' });
      },
      TEXT,
      (result) => {
        expect(result).toEqual({
          kind: 'failed',
          failure: {
            class: 'unknown',
            message:
              'Facebook may have published this post, but its answer never came (the connection to graph.facebook.com failed); look at Facebook before posting again.',
            platformCode: 'network',
          },
        });
        expect(log.events).toEqual(['beforeCommit']);
      },
    ),
  },
};
