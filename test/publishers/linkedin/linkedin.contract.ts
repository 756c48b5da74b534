/** The LinkedIn fixture of the shared publisher contract (test/publishers/contract-suite.ts). */
import { readFile } from 'node:fs/promises';
import nock from 'nock';
import { expect, vi } from 'vitest';
import type { PublishResult } from '../../../src/publishers/publisher.js';
import { newLog } from '../../helpers/publish-request.js';
import type { ContractCase, PublisherContract } from '../contract.js';
import {
  ACCESS,
  API,
  arrangePost,
  AUTHORIZE,
  CLIENT_ID,
  CLIENT_SECRET,
  jpegFile,
  LINKEDIN_SCOPE_LIST,
  linkedinPublisher,
  MEMBER,
  ORG,
  PAGE,
  PERMALINK,
  PERSON,
  pngFile,
  postBody,
  publishRequest,
  rest,
  sameBytes,
  SCOPES,
  SHARE,
  SUB,
  videoFile,
  WWW,
} from './linkedin-fixtures.js';

const REDIRECT = 'https://iqsp.test/oauth/linkedin/callback';
const FORM = { reqheaders: { 'content-type': 'application/x-www-form-urlencoded' } };
const UPLOAD = `${WWW}/dms-uploads`;

function published(result: PublishResult): void {
  expect(result).toEqual({ kind: 'published', platformPostId: SHARE, permalink: PERMALINK });
}

/** initializeUpload for an image of `owner`, then exactly one PUT of the whole file. */
function arrangeImage(owner: string, image: string, token: string, bytes: Buffer): void {
  rest()
    .post('/rest/images', { initializeUploadRequest: { owner } })
    .query({ action: 'initializeUpload' })
    .reply(200, { value: { uploadUrlExpiresAt: 1_790_000_000_000, uploadUrl: `${UPLOAD}/${token}`, image } });
  nock(WWW, {
    reqheaders: { authorization: `Bearer ${ACCESS}`, 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) },
  })
    .put(`/dms-uploads/${token}`, (body) => sameBytes(body, bytes))
    .reply(201, '');
}

/** A text-only member post whose POST /rest/posts answers `reply`. */
function textCase(reply: Parameters<typeof arrangePost>[1], check: ContractCase<PublishResult>['check']): ContractCase<PublishResult> {
  return {
    arrange: () => arrangePost(postBody(PERSON, 'Hello'), reply),
    act: (publisher, ctx) => publisher.publish(publishRequest(ctx.media, 'Hello', [])),
    check,
  };
}

// Just before midnight UTC: a 429 waits for the daily reset.
const FIXED_NOW = Date.parse('2026-09-01T23:50:00Z');

export const linkedinContract: PublisherContract = {
  platform: 'linkedin',
  create: () => linkedinPublisher(),
  consent: {
    redirectUri: REDIRECT,
    expectedUrl: AUTHORIZE,
    expectedParams: { response_type: 'code', client_id: CLIENT_ID, redirect_uri: REDIRECT, state: 'state-123', scope: SCOPES },
  },

  connect: {
    arrange() {
      nock(WWW, FORM)
        .post('/oauth/v2/accessToken', {
          grant_type: 'authorization_code',
          code: 'code-1',
          redirect_uri: REDIRECT,
          client_id: CLIENT_ID,
          client_secret: CLIENT_SECRET,
        })
        .reply(200, {
          access_token: ACCESS,
          expires_in: 5_184_000,
          scope: LINKEDIN_SCOPE_LIST,
          token_type: 'Bearer',
          id_token: 'eyJ.id.token',
        });
      nock(API, { reqheaders: { authorization: `Bearer ${ACCESS}` }, badheaders: ['linkedin-version'] })
        .get('/v2/userinfo')
        .reply(200, { sub: SUB, name: 'Ada Okafor', given_name: 'Ada', family_name: 'Okafor', picture: 'https://media.licdn.com/ada.jpg' });
      rest()
        .get('/rest/organizationAcls')
        .query({ q: 'roleAssignee', state: 'APPROVED', start: '0', count: '50' })
        .reply(200, {
          paging: { start: 0, count: 50, total: 3 },
          elements: [
            { roleAssignee: PERSON, state: 'APPROVED', role: 'ADMINISTRATOR', organization: ORG },
            { roleAssignee: PERSON, state: 'APPROVED', role: 'ANALYST', organization: 'urn:li:organization:7700001' },
            { roleAssignee: PERSON, state: 'APPROVED', role: 'CONTENT_ADMINISTRATOR', organization: 'urn:li:organization:5591022' },
          ],
        });
      rest().get('/rest/organizations/2414183').reply(200, { id: 2414183, localizedName: 'Acme Inc', vanityName: 'acme' });
      rest().get('/rest/organizations/5591022').reply(200, { id: 5591022, localizedName: 'Acme Labs', vanityName: 'acme-labs' });
    },
    act: (publisher) => publisher.finishConnect({ code: 'code-1', redirectUri: REDIRECT, query: { code: 'code-1', state: 's' } }),
    check(accounts) {
      expect(accounts.map(({ tokens: _tokens, ...a }) => a)).toEqual([
        { platformAccountId: PERSON, platformUserId: SUB, displayName: 'Ada Okafor', avatarUrl: 'https://media.licdn.com/ada.jpg' },
        { platformAccountId: ORG, platformUserId: SUB, handle: 'acme', displayName: 'Acme Inc' },
        { platformAccountId: 'urn:li:organization:5591022', platformUserId: SUB, handle: 'acme-labs', displayName: 'Acme Labs' },
      ]);
      for (const account of accounts)
        expect(account.tokens).toMatchObject({ accessToken: ACCESS, refreshToken: undefined, scopes: SCOPES });
      const lifetime = accounts[0]!.tokens.expiresAt!.getTime() - Date.now();
      expect(lifetime).toBeGreaterThan(5_184_000_000 - 10_000);
      expect(lifetime).toBeLessThanOrEqual(5_184_000_000);
      const publisher = linkedinPublisher();
      expect(new Set(accounts.map((a) => publisher.revocationGroup?.(a)))).toEqual(new Set([SUB]));
    },
  },

  refresh: {
    tokens: { accessToken: 'old-access', refreshToken: 'old-refresh', scopes: SCOPES, refreshExpiresAt: new Date('2027-06-01T00:00:00Z') },
    arrange() {
      nock(WWW, FORM)
        .post('/oauth/v2/accessToken', {
          grant_type: 'refresh_token',
          refresh_token: 'old-refresh',
          client_id: CLIENT_ID,
          client_secret: CLIENT_SECRET,
        })
        .reply(200, {
          access_token: 'new-access',
          expires_in: 5_184_000,
          refresh_token: 'new-refresh',
          refresh_token_expires_in: 15_000_000,
          scope: LINKEDIN_SCOPE_LIST,
        });
    },
    check(tokens) {
      expect(tokens.accessToken).toBe('new-access');
      expect(tokens.refreshToken).toBe('new-refresh');
      expect(tokens.scopes).toBe(SCOPES);
      expect(tokens.expiresAt!.getTime()).toBeGreaterThan(Date.now() + 5_000_000_000);
    },
  },

  revoke: {
    arrange() {
      nock(WWW, FORM).post('/oauth/v2/revoke', { client_id: CLIENT_ID, client_secret: CLIENT_SECRET, token: ACCESS }).reply(200, '');
    },
    act: (publisher) => publisher.revoke(MEMBER, { accessToken: ACCESS }),
    check: (result) => expect(result).toBeUndefined(),
  },

  publish: {
    text: {
      // Reserved characters of LinkedIn's little text go escaped.
      arrange: () => arrangePost(postBody(PERSON, 'Hello \\(world\\) \\#launch \\@team 100% sure\\_')),
      act: (publisher, ctx) => publisher.publish(publishRequest(ctx.media, 'Hello (world) #launch @team 100% sure_', [])),
      check: (result) => published(result),
    },

    image: {
      async arrange(ctx) {
        await pngFile(ctx.media, ctx.workDir);
        arrangeImage(PERSON, 'urn:li:image:C4E1', 'img-token-1', await readFile(`${ctx.workDir}/img-1.png`));
        // A member's image has no status read (it needs a Page's token): it is attached at once.
        arrangePost(postBody(PERSON, 'Hello', { media: { id: 'urn:li:image:C4E1' } }));
      },
      async act(publisher, ctx) {
        return publisher.publish(publishRequest(ctx.media, 'Hello', [await pngFile(ctx.media, ctx.workDir)]));
      },
      check: (result) => published(result),
    },

    images: {
      async arrange(ctx) {
        await pngFile(ctx.media, ctx.workDir);
        await jpegFile(ctx.media, ctx.workDir);
        arrangeImage(ORG, 'urn:li:image:C4E2', 'img-token-2', await readFile(`${ctx.workDir}/img-1.png`));
        rest()
          .get(`/rest/images/${encodeURIComponent('urn:li:image:C4E2')}`)
          .reply(200, { id: 'urn:li:image:C4E2', status: 'AVAILABLE' });
        arrangeImage(ORG, 'urn:li:image:C4E3', 'img-token-3', await readFile(`${ctx.workDir}/img-2.jpg`));
        rest()
          .get(`/rest/images/${encodeURIComponent('urn:li:image:C4E3')}`)
          .reply(200, { id: 'urn:li:image:C4E3', status: 'PROCESSING' });
        rest()
          .get(`/rest/images/${encodeURIComponent('urn:li:image:C4E3')}`)
          .reply(200, { id: 'urn:li:image:C4E3', status: 'AVAILABLE' });
        arrangePost(postBody(ORG, 'Two', { multiImage: { images: [{ id: 'urn:li:image:C4E2' }, { id: 'urn:li:image:C4E3' }] } }));
      },
      async act(publisher, ctx) {
        const files = [await pngFile(ctx.media, ctx.workDir), await jpegFile(ctx.media, ctx.workDir)];
        return publisher.publish(publishRequest(ctx.media, 'Two', files, { account: PAGE }));
      },
      check: (result) => published(result),
    },

    video: (() => {
      const log = newLog();
      return {
        async arrange(ctx) {
          log.events.length = 0;
          log.progress.length = 0;
          const video = await videoFile(ctx.media, ctx.workDir);
          const bytes = await readFile(`${ctx.workDir}/vid-1.mp4`);
          const urn = 'urn:li:video:C5F1';
          const ranges = [
            [0, 65_535],
            [65_536, 131_071],
            [131_072, 149_999],
          ] as const;
          rest()
            .post('/rest/videos', {
              initializeUploadRequest: { owner: ORG, fileSizeBytes: video.sizeBytes, uploadCaptions: false, uploadThumbnail: false },
            })
            .query({ action: 'initializeUpload' })
            .reply(200, {
              value: {
                uploadUrlsExpireAt: 1_790_000_000_000,
                video: urn,
                uploadToken: 'upload-token-1',
                uploadInstructions: ranges.map(([first, last], i) => ({ uploadUrl: `${UPLOAD}/v/${i}`, firstByte: first, lastByte: last })),
              },
            });
          ranges.forEach(([first, last], i) =>
            nock(WWW, { reqheaders: { 'content-type': 'application/octet-stream', 'content-length': String(last - first + 1) } })
              .put(`/dms-uploads/v/${i}`, (body) => {
                const ok = sameBytes(body, bytes.subarray(first, last + 1));
                if (ok) log.events.push(`part ${i}`);
                return ok;
              })
              .reply(200, '', { etag: `etag-${i}` }),
          );
          rest()
            .post('/rest/videos', {
              finalizeUploadRequest: { video: urn, uploadToken: 'upload-token-1', uploadedPartIds: ['etag-0', 'etag-1', 'etag-2'] },
            })
            .query({ action: 'finalizeUpload' })
            .reply(200, '');
          const status = `/rest/videos/${encodeURIComponent(urn)}`;
          rest().get(status).reply(200, { id: urn, status: 'PROCESSING' });
          rest().get(status).reply(200, { id: urn, status: 'AVAILABLE' });
          arrangePost(postBody(ORG, 'Watch', { media: { id: urn } }));
        },
        async act(publisher, ctx) {
          const video = await videoFile(ctx.media, ctx.workDir);
          return publisher.publish(publishRequest(ctx.media, 'Watch', [video], { account: PAGE, log }));
        },
        check(result) {
          published(result);
          expect(log.events).toEqual(['part 0', 'part 1', 'part 2', 'beforeCommit']);
          expect(log.progress.filter((p) => p.phase === 'uploading').map((p) => p.bytesSent)).toEqual([65_536, 131_072, 150_000]);
          expect(log.progress.filter((p) => p.phase === 'processing')).toHaveLength(1);
          expect(log.progress.at(-1)).toEqual({ phase: 'publishing' });
        },
      } satisfies ContractCase<PublishResult>;
    })(),
  },

  errors: {
    retryable: {
      arrange: () =>
        arrangePost(postBody(PERSON, 'Hello'), {
          status: 429,
          body: { status: 429, message: 'Resource level throttle APPLICATION DAY limit for calls to this resource is reached.' },
        }),
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
            message:
              "LinkedIn's daily limit for this account or app is reached; LinkedIn resets it at 00:00 UTC, and posting resumes then.",
            retryAfterMs: 10 * 60_000,
            platformCode: 'linkedin:429',
          },
        }),
    },
    reconnect: textCase(
      {
        status: 401,
        body: { status: 401, serviceErrorCode: 65600, code: 'EXPIRED_ACCESS_TOKEN', message: 'The token used in the request has expired' },
      },
      (result) =>
        expect(result).toEqual({
          kind: 'failed',
          failure: {
            class: 'reconnect',
            message:
              'LinkedIn no longer accepts this connection (its access lasts 60 days); it must be refreshed or the account connected again.',
            tokenExpired: true,
            platformCode: 'linkedin:65600',
          },
        }),
    ),
    content: textCase(
      {
        status: 400,
        body: {
          status: 400,
          message: 'Length of commentary 3012 exceeds the maximum of 3000 (/commentary)',
          errorDetails: {
            inputErrors: [
              {
                description: 'Length of commentary 3012 exceeds the maximum of 3000',
                input: { inputPath: { fieldPath: '/commentary' } },
                code: 'FIELD_LENGTH_TOO_LONG',
              },
            ],
          },
        },
      },
      (result) =>
        expect(result).toEqual({
          kind: 'failed',
          failure: {
            class: 'content',
            message:
              'LinkedIn refused the text as too long (LinkedIn said: Length of commentary 3012 exceeds the maximum of 3000 (/commentary)); shorten it to 3,000 characters.',
            platformCode: 'linkedin:FIELD_LENGTH_TOO_LONG',
          },
        }),
    ),
    unknown: textCase({ status: 504, body: { status: 504, message: 'Gateway Timeout' } }, (result) =>
      expect(result).toEqual({
        kind: 'failed',
        failure: {
          class: 'unknown',
          message: 'LinkedIn answered 504 while posting; LinkedIn may have published it; check the feed before posting again.',
          platformCode: 'linkedin:504',
        },
      }),
    ),
  },
};
