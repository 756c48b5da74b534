/** TikTok verify (issue 17): one status fetch by the publish id; without it, nothing can be told. */
import nock from 'nock';
import { describe, expect, it } from 'vitest';
import type { VerifyRequest } from '../../../src/publishers/publisher.js';
import { useNock } from '../../helpers/nock.js';
import { ACCESS, API, JSON_HEADERS, apiError, createPublisher, exactly, ok } from './helpers.js';

useNock();

function request(overrides: Partial<VerifyRequest> = {}): VerifyRequest {
  return {
    account: { platformAccountId: 'open-id-1', handle: 'acme', displayName: 'Acme' },
    tokens: { accessToken: ACCESS },
    text: 'Launch',
    mediaCount: 1,
    committedAt: new Date('2026-12-03T10:00:00.000Z'),
    platformId: 'v_pub_file~v2-1.123',
    ...overrides,
  };
}

function status() {
  return nock(API, { reqheaders: JSON_HEADERS }).post('/v2/post/publish/status/fetch/', exactly({ publish_id: 'v_pub_file~v2-1.123' }));
}

const verify = (r: VerifyRequest) => createPublisher().verify!(r);

describe('TikTok verify', () => {
  it('live with its public id (read from the raw text: 64-bit ids)', async () => {
    status().reply(
      200,
      '{"data":{"status":"PUBLISH_COMPLETE","publicaly_available_post_id":[7312345678901234567]},"error":{"code":"ok","message":""}}',
      { 'content-type': 'application/json' },
    );
    expect(await verify(request())).toEqual({
      kind: 'live',
      platformPostId: '7312345678901234567',
      permalink: 'https://www.tiktok.com/@acme/video/7312345678901234567',
    });
  });

  it('live without a public id (a private post): the profile is the link', async () => {
    status().reply(200, ok({ status: 'PUBLISH_COMPLETE', publicaly_available_post_id: [] }));
    expect(await verify(request())).toEqual({
      kind: 'live',
      platformPostId: 'v_pub_file~v2-1.123',
      permalink: 'https://www.tiktok.com/@acme',
    });
  });

  it('absent when TikTok says FAILED, even with error.code ok', async () => {
    status().reply(200, ok({ status: 'FAILED', fail_reason: 'file_format_check_failed' }));
    expect(await verify(request())).toEqual({ kind: 'absent', reason: 'TikTok did not publish it (file_format_check_failed)' });
  });

  it('cannot tell while processing, for the inbox, on errors, or without a publish id (nothing asked)', async () => {
    status().reply(200, ok({ status: 'PROCESSING_UPLOAD' }));
    expect(await verify(request())).toMatchObject({ kind: 'unknown', reason: 'TikTok is still processing it' });
    status().reply(200, ok({ status: 'SEND_TO_USER_INBOX' }));
    expect(await verify(request())).toMatchObject({ kind: 'unknown' });
    status().reply(401, apiError('access_token_invalid'));
    expect(await verify(request())).toMatchObject({ kind: 'unknown', reason: 'TikTok did not say (access_token_invalid)' });
    status().replyWithError({ code: 'ECONNRESET' });
    expect(await verify(request())).toMatchObject({ kind: 'unknown' });
    expect(await verify(request({ platformId: undefined }))).toMatchObject({ kind: 'unknown' });
  });
});
