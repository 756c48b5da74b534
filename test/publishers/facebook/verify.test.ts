/** Facebook verify (issue 17): the Page's own posts since just before the commit, matched by message and time. */
import { describe, expect, it } from 'vitest';
import { createFacebookPublisher } from '../../../src/publishers/facebook/index.js';
import type { AccountRef, VerifyRequest } from '../../../src/publishers/publisher.js';
import { graph, META_OPTIONS, PAGE_TOKEN, useGraphMock, USER_ID, V, withToken } from '../meta/meta-fixtures.js';

const PAGE: AccountRef = { platformAccountId: 'page-1', platformUserId: USER_ID, displayName: 'Acme Inc' };
const publisher = createFacebookPublisher(META_OPTIONS);
const COMMITTED = new Date('2026-12-03T10:00:30.500Z');
const SINCE = String(Math.floor(COMMITTED.getTime() / 1000) - 120);

function request(overrides: Partial<VerifyRequest> = {}): VerifyRequest {
  return {
    account: PAGE,
    tokens: { accessToken: PAGE_TOKEN },
    text: 'Launch day\n\nhttps://example.com',
    mediaCount: 1,
    committedAt: COMMITTED,
    ...overrides,
  };
}

function publishedPosts(extra: Record<string, string> = {}) {
  return graph()
    .get(`${V}/page-1/published_posts`)
    .query(withToken(PAGE_TOKEN, { fields: 'id,message,created_time,permalink_url', since: SINCE, limit: '100', ...extra }));
}

describe('Facebook verify', () => {
  useGraphMock();

  it("finds the Page's post by its message and time", async () => {
    publishedPosts().reply(200, {
      data: [
        {
          id: 'page-1_3',
          message: 'Other',
          created_time: '2026-12-03T10:02:00+0000',
          permalink_url: 'https://www.facebook.com/acme/posts/3',
        },
        {
          id: 'page-1_2',
          message: 'Launch day\n\nhttps://example.com',
          created_time: '2026-12-03T10:00:31+0000',
          permalink_url: 'https://www.facebook.com/acme/posts/2',
        },
      ],
      paging: { cursors: { before: 'b', after: 'a' } },
    });
    expect(await publisher.verify!(request())).toEqual({
      kind: 'live',
      platformPostId: 'page-1_2',
      permalink: 'https://www.facebook.com/acme/posts/2',
    });
  });

  it('reads the next page, then says absent (a text post)', async () => {
    publishedPosts().reply(200, {
      data: [{ id: 'page-1_5', message: 'Not it', created_time: '2026-12-03T10:05:00+0000' }],
      paging: { cursors: { after: 'c1' }, next: 'https://graph.facebook.com/next' },
    });
    publishedPosts({ after: 'c1' }).reply(200, { data: [] });
    const result = await publisher.verify!(request({ mediaCount: 0 }));
    expect(result).toMatchObject({ kind: 'absent', reason: expect.stringContaining('Acme Inc') });
  });

  it('cannot tell when a post with media is not listed (a video is listed once processed): never a false "not published"', async () => {
    publishedPosts().reply(200, { data: [] });
    expect(await publisher.verify!(request({ mediaCount: 1 }))).toMatchObject({ kind: 'unknown' });
  });

  it('cannot tell when the Graph refuses', async () => {
    publishedPosts().reply(400, {
      error: { message: 'Error validating access token', type: 'OAuthException', code: 190, error_subcode: 460 },
    });
    expect(await publisher.verify!(request())).toMatchObject({ kind: 'unknown' });
  });
});
