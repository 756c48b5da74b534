/** The Instagram (API with Facebook Login) fixture of the publisher contract suite. */
import { expect } from 'vitest';
import type { MediaInfo } from '../../../src/media/media.js';
import { createInstagramPublisher } from '../../../src/publishers/instagram/index.js';
import type { AccountRef, PublishResult, TokenSet } from '../../../src/publishers/publisher.js';
import { TEST_MEDIA_BASE } from '../../helpers/file-media.js';
import type { ContractCase, PublisherContract } from '../contract.js';
import {
  addJpeg,
  addVideo,
  APP_ID,
  arrangeLogin,
  callback,
  formBody,
  formPost,
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

export const IG_ID = '17841400000000001';
export const SCOPES = ['instagram_basic', 'instagram_content_publish', 'pages_show_list', 'pages_read_engagement', 'business_management'];
export const IG_ACCOUNT: AccountRef = { platformAccountId: IG_ID, platformUserId: USER_ID, handle: 'acme', displayName: 'Acme Inc' };
export const IG_TOKENS: TokenSet = { accessToken: PAGE_TOKEN, extra: { userAccessToken: LONG_USER_TOKEN } };

let log: PublishLog = newLog();
let media: MediaInfo[] = [];

/** GET /{container}?fields=status_code,status answering each status in turn. */
export function containerStatuses(containerId: string, ...answers: Array<Record<string, string>>): void {
  for (const answer of answers)
    graph()
      .get(`${V}/${containerId}`)
      .query(withToken(PAGE_TOKEN, { fields: 'status_code,status' }))
      .reply(200, { id: containerId, ...answer });
}

export function createContainer(fields: Record<string, string>, containerId: string, onReply?: () => void): void {
  formPost()
    .post(`${V}/${IG_ID}/media`, formBody(PAGE_TOKEN, fields))
    .reply(() => {
      onReply?.();
      return [200, { id: containerId }];
    });
}

export function permalinkLookup(mediaId: string, permalink: string): void {
  graph()
    .get(`${V}/${mediaId}`)
    .query(withToken(PAGE_TOKEN, { fields: 'permalink' }))
    .reply(200, { permalink, id: mediaId });
}

function mediaPublish(containerId: string) {
  return formPost().post(`${V}/${IG_ID}/media_publish`, formBody(PAGE_TOKEN, { creation_id: containerId }));
}

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
    act: (publisher, ctx) => publisher.publish(publishRequest(ctx.media, IG_ACCOUNT, { caption, media }, log, IG_TOKENS)),
    check,
  };
}

const FINISHED = { status_code: 'FINISHED', status: 'Finished: Media has been uploaded and it is ready to be published.' };
const IN_PROGRESS = { status_code: 'IN_PROGRESS', status: 'In Progress: Media is still being processed.' };

export const instagramContract: PublisherContract = {
  platform: 'instagram',
  create: () => createInstagramPublisher(META_OPTIONS),
  consent: {
    redirectUri: REDIRECT_URI,
    expectedUrl: 'https://www.facebook.com/v26.0/dialog/oauth',
    expectedParams: { client_id: APP_ID, redirect_uri: REDIRECT_URI, state: 'state-123', response_type: 'code', scope: SCOPES.join(',') },
  },

  connect: {
    arrange() {
      arrangeLogin(SCOPES);
      graph()
        .get(`${V}/me/accounts`)
        .query(withToken(LONG_USER_TOKEN, { fields: 'id,name,access_token,instagram_business_account', limit: '100' }))
        .reply(200, {
          data: [
            { id: 'page-1', name: 'Acme Inc', access_token: PAGE_TOKEN, instagram_business_account: { id: IG_ID } },
            { id: 'page-2', name: 'Acme Blog', access_token: 'page-token-2' },
          ],
        });
      graph()
        .get(`${V}/${IG_ID}`)
        .query(withToken(LONG_USER_TOKEN, { fields: 'id,username,name,profile_picture_url' }))
        .reply(200, { id: IG_ID, username: 'acme', name: 'Acme Inc', profile_picture_url: 'https://scontent.test/acme-ig.jpg' });
    },
    act: (publisher) => publisher.finishConnect(callback()),
    check(accounts) {
      expect(accounts).toEqual([
        {
          platformAccountId: IG_ID,
          platformUserId: USER_ID,
          handle: 'acme',
          displayName: 'Acme Inc',
          avatarUrl: 'https://scontent.test/acme-ig.jpg',
          tokens: { accessToken: PAGE_TOKEN, scopes: `public_profile ${SCOPES.join(' ')}`, extra: { userAccessToken: LONG_USER_TOKEN } },
        },
      ]);
    },
  },

  revoke: {
    arrange() {
      graph().delete(`${V}/${USER_ID}/permissions`).query(withToken(LONG_USER_TOKEN)).reply(200, { success: true });
    },
    act: (publisher) => publisher.revoke(IG_ACCOUNT, IG_TOKENS),
    check: (result) => expect(result).toBeUndefined(),
  },

  publish: {
    image: publishCase(
      async (ctx) => {
        media = [await addJpeg(ctx.media, ctx.workDir, 'square')];
        createContainer({ image_url: `${TEST_MEDIA_BASE}/square`, caption: 'Square #iqsp' }, 'container-1');
        containerStatuses('container-1', IN_PROGRESS, FINISHED);
        mediaPublish('container-1').reply(recorded(log, 'media_publish', 200, { id: 'ig-media-1' }));
        permalinkLookup('ig-media-1', 'https://www.instagram.com/p/DAbc123/');
      },
      'Square #iqsp',
      (result) => {
        expect(result).toEqual({ kind: 'published', platformPostId: 'ig-media-1', permalink: 'https://www.instagram.com/p/DAbc123/' });
        expect(log.events).toEqual(['beforeCommit', 'media_publish']);
        expect(log.progress).toEqual([{ phase: 'processing' }, { phase: 'publishing' }]);
      },
    ),

    images: publishCase(
      async (ctx) => {
        media = [await addJpeg(ctx.media, ctx.workDir, 'one'), await addVideo(ctx.media, ctx.workDir, 'two')];
        createContainer({ is_carousel_item: 'true', image_url: `${TEST_MEDIA_BASE}/one` }, 'child-1', () => log.events.push('child-1'));
        createContainer({ is_carousel_item: 'true', media_type: 'VIDEO', video_url: `${TEST_MEDIA_BASE}/two` }, 'child-2', () =>
          log.events.push('child-2'),
        );
        containerStatuses('child-1', FINISHED);
        containerStatuses('child-2', IN_PROGRESS, FINISHED);
        createContainer({ media_type: 'CAROUSEL', children: 'child-1,child-2', caption: 'Carousel' }, 'parent-1', () =>
          log.events.push('parent'),
        );
        containerStatuses('parent-1', FINISHED);
        mediaPublish('parent-1').reply(recorded(log, 'media_publish', 200, { id: 'ig-media-2' }));
        permalinkLookup('ig-media-2', 'https://www.instagram.com/p/DCar0us/');
      },
      'Carousel',
      (result) => {
        expect(result).toEqual({ kind: 'published', platformPostId: 'ig-media-2', permalink: 'https://www.instagram.com/p/DCar0us/' });
        expect(log.events).toEqual(['child-1', 'child-2', 'parent', 'beforeCommit', 'media_publish']);
      },
    ),

    video: publishCase(
      async (ctx) => {
        media = [await addVideo(ctx.media, ctx.workDir, 'reel')];
        createContainer({ media_type: 'REELS', video_url: `${TEST_MEDIA_BASE}/reel`, caption: 'Reel' }, 'container-3');
        containerStatuses('container-3', IN_PROGRESS, IN_PROGRESS, FINISHED);
        mediaPublish('container-3').reply(recorded(log, 'media_publish', 200, { id: 'ig-media-3' }));
        permalinkLookup('ig-media-3', 'https://www.instagram.com/reel/DRee1/');
      },
      'Reel',
      (result) => {
        expect(result).toEqual({ kind: 'published', platformPostId: 'ig-media-3', permalink: 'https://www.instagram.com/reel/DRee1/' });
        expect(log.events).toEqual(['beforeCommit', 'media_publish']);
        expect(log.progress).toEqual([{ phase: 'processing' }, { phase: 'processing' }, { phase: 'publishing' }]);
      },
    ),
  },

  errors: {
    retryable: publishCase(
      async (ctx) => {
        media = [await addJpeg(ctx.media, ctx.workDir, 'square')];
        formPost()
          .post(`${V}/${IG_ID}/media`, formBody(PAGE_TOKEN, { image_url: `${TEST_MEDIA_BASE}/square`, caption: 'Busy' }))
          .reply(
            400,
            { error: { message: 'There have been too many calls for this Instagram account.', type: 'OAuthException', code: 80002 } },
            {
              'x-business-use-case-usage': JSON.stringify({
                [IG_ID]: [{ type: 'instagram', call_count: 100, total_cputime: 3, total_time: 4, estimated_time_to_regain_access: 15 }],
              }),
            },
          );
      },
      'Busy',
      (result) => {
        expect(result).toEqual({
          kind: 'failed',
          failure: {
            class: 'retryable',
            message: 'Instagram rate-limited IQSP (code 80002); the post will be tried again when the limit resets.',
            platformCode: 'meta:80002',
            retryAfterMs: 15 * 60_000,
          },
        });
        expect(log.events).toEqual([]);
      },
    ),

    reconnect: publishCase(
      async (ctx) => {
        media = [await addJpeg(ctx.media, ctx.workDir, 'square')];
        formPost()
          .post(`${V}/${IG_ID}/media`, formBody(PAGE_TOKEN, { image_url: `${TEST_MEDIA_BASE}/square`, caption: 'Revoked' }))
          .reply(400, {
            error: {
              message: 'Error validating access token: The session has been invalidated.',
              type: 'OAuthException',
              code: 190,
              error_subcode: 467,
            },
          });
      },
      'Revoked',
      (result) => {
        expect(result).toEqual({
          kind: 'failed',
          failure: {
            class: 'reconnect',
            message: 'Instagram access for this account is no longer valid (logged out or revoked); connect it again.',
            platformCode: 'meta:190/467',
            tokenExpired: false,
          },
        });
      },
    ),

    content: publishCase(
      async (ctx) => {
        media = [await addJpeg(ctx.media, ctx.workDir, 'square')];
        formPost()
          .post(`${V}/${IG_ID}/media`, formBody(PAGE_TOKEN, { image_url: `${TEST_MEDIA_BASE}/square`, caption: 'Unreachable' }))
          .reply(400, {
            error: {
              message: 'Only photo or video can be accepted as media type.',
              type: 'OAuthException',
              code: 9004,
              error_subcode: 2207052,
              error_user_title: 'Media download has failed.',
              error_user_msg: 'The media could not be fetched from this URI',
            },
          });
      },
      'Unreachable',
      (result) => {
        expect(result).toEqual({
          kind: 'failed',
          failure: {
            class: 'content',
            message:
              'Instagram could not download the media from IQSP (The media could not be fetched from this URI); make sure PUBLIC_URL is reachable from the internet, then post again.',
            platformCode: 'meta:9004/2207052',
          },
        });
      },
    ),

    unknown: publishCase(
      async (ctx) => {
        media = [await addJpeg(ctx.media, ctx.workDir, 'square')];
        createContainer({ image_url: `${TEST_MEDIA_BASE}/square`, caption: 'Maybe' }, 'container-4');
        containerStatuses('container-4', FINISHED);
        mediaPublish('container-4').reply(
          recorded(log, 'media_publish', 500, {
            error: { message: 'Service temporarily unavailable', type: 'OAuthException', code: 2, is_transient: true },
          }),
        );
      },
      'Maybe',
      (result) => {
        expect(result).toEqual({
          kind: 'failed',
          failure: {
            class: 'unknown',
            message:
              'Instagram had a problem while publishing (Service temporarily unavailable); the post may be live, so look at Instagram before posting again.',
            platformCode: 'meta:2',
          },
        });
        expect(log.events).toEqual(['beforeCommit', 'media_publish']);
      },
    ),
  },
};
