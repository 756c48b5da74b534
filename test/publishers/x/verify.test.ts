/** X verify (issue 17): the account's posts since just before the commit, matched by text (links as t.co), media and time. */
import nock from 'nock';
import { describe, expect, it } from 'vitest';
import type { VerifyRequest } from '../../../src/publishers/publisher.js';
import { sameText } from '../../../src/publishers/x/verify.js';
import { useNock } from '../../helpers/nock.js';
import { ACCESS, ACCOUNT, API, xPublisher } from './x-fixtures.js';

useNock();

const bearer = { reqheaders: { authorization: `Bearer ${ACCESS}` } };
const COMMITTED = new Date('2026-12-03T10:00:30.500Z');
const SINCE = '2026-12-03T09:58:30Z';

function request(overrides: Partial<VerifyRequest> = {}): VerifyRequest {
  return {
    account: ACCOUNT,
    tokens: { accessToken: ACCESS },
    text: 'Launch day & more: https://example.com/launch?a=1',
    mediaCount: 1,
    committedAt: COMMITTED,
    ...overrides,
  };
}

function timeline(query: Record<string, string> = {}) {
  return nock(API, bearer)
    .get(`/2/users/${ACCOUNT.platformAccountId}/tweets`)
    .query({
      start_time: SINCE,
      max_results: '100',
      exclude: 'retweets',
      'tweet.fields': 'created_at,attachments,referenced_tweets',
      ...query,
    });
}

const verify = (r: VerifyRequest) => xPublisher().verify!(r);

describe('X verify', () => {
  it('finds the post as X shows it: links as t.co, & escaped, the media link appended; the right one among others', async () => {
    timeline().reply(200, {
      data: [
        { id: '103', text: 'Something else', created_at: '2026-12-03T10:05:00.000Z' },
        {
          id: '102',
          text: 'Launch day &amp; more: https://t.co/abcdefghij https://t.co/MEDIA12345',
          created_at: '2026-12-03T10:00:31.000Z',
          attachments: { media_keys: ['3_1'] },
        },
        // Same text without its media: not this post.
        { id: '101', text: 'Launch day &amp; more: https://t.co/zzzzzzzzzz', created_at: '2026-12-03T10:00:01.000Z' },
      ],
      meta: { result_count: 3, newest_id: '103', oldest_id: '101' },
    });
    expect(await verify(request())).toEqual({ kind: 'live', platformPostId: '102', permalink: 'https://x.com/acme/status/102' });
  });

  it('says absent when X shows no such post since the commit', async () => {
    timeline().reply(200, { meta: { result_count: 0 } });
    const result = await verify(request());
    expect(result).toMatchObject({ kind: 'absent' });
    expect(result.kind === 'absent' && result.reason).toContain('@acme');
  });

  it('reads every page before saying absent', async () => {
    timeline().reply(200, {
      data: [{ id: '9', text: 'a', created_at: '2026-12-03T10:01:00.000Z' }],
      meta: { result_count: 1, next_token: 'p2' },
    });
    timeline({ pagination_token: 'p2' }).reply(200, {
      data: [{ id: '8', text: 'Plain text', created_at: '2026-12-03T10:00:31.000Z' }],
      meta: { result_count: 1 },
    });
    expect(await verify(request({ text: 'Plain text', mediaCount: 0 }))).toMatchObject({ kind: 'live', platformPostId: '8' });
  });

  it('looks for a thread’s next part as a reply to the last live part', async () => {
    timeline().reply(200, {
      data: [
        { id: '21', text: 'two', created_at: '2026-12-03T10:00:31.000Z' },
        { id: '22', text: 'two', created_at: '2026-12-03T10:00:32.000Z', referenced_tweets: [{ type: 'replied_to', id: '20' }] },
      ],
      meta: { result_count: 2 },
    });
    expect(await verify(request({ text: 'one\n---\ntwo', mediaCount: 1, liveParts: ['20'] }))).toMatchObject({
      kind: 'live',
      platformPostId: '22',
    });
  });

  it('cannot tell when X refuses or does not answer', async () => {
    timeline().reply(401, { title: 'Unauthorized', detail: 'Unauthorized', type: 'about:blank', status: 401 });
    expect(await verify(request())).toMatchObject({ kind: 'unknown' });
    timeline().replyWithError({ code: 'ECONNRESET' });
    expect(await verify(request())).toMatchObject({ kind: 'unknown', reason: expect.stringContaining('X could not be reached') });
  });
});

describe('sameText', () => {
  it('compares links as links and ignores the media link X appends', () => {
    expect(sameText('See example.com now', 'See https://t.co/aaaaaaaaaa now', false)).toBe(true);
    expect(sameText('a <b> & c', 'a &lt;b&gt; &amp; c https://t.co/bbbbbbbbbb', true)).toBe(true);
    expect(sameText('', 'https://t.co/bbbbbbbbbb', true)).toBe(true);
    expect(sameText('Hello', 'Hello there', false)).toBe(false);
    expect(sameText('Hello', 'Hello https://t.co/bbbbbbbbbb', false)).toBe(false);
  });
});
