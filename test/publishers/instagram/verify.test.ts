/** Instagram verify (issue 17): the account's published media since just before the commit, matched by caption and time. */
import { describe, expect, it } from 'vitest';
import { createInstagramPublisher } from '../../../src/publishers/instagram/index.js';
import type { AccountRef, VerifyRequest } from '../../../src/publishers/publisher.js';
import { graph, META_OPTIONS, PAGE_TOKEN, useGraphMock, USER_ID, V, withToken } from '../meta/meta-fixtures.js';

const IG: AccountRef = { platformAccountId: 'ig-1', platformUserId: USER_ID, handle: 'acme', displayName: 'Acme' };
const publisher = createInstagramPublisher(META_OPTIONS);
const COMMITTED = new Date('2026-12-03T10:00:30.500Z');
const SINCE = String(Math.floor(COMMITTED.getTime() / 1000) - 120);

function request(overrides: Partial<VerifyRequest> = {}): VerifyRequest {
  return { account: IG, tokens: { accessToken: PAGE_TOKEN }, text: 'New in #spring', mediaCount: 1, committedAt: COMMITTED, ...overrides };
}

function recentMedia() {
  return graph()
    .get(`${V}/ig-1/media`)
    .query(withToken(PAGE_TOKEN, { fields: 'id,caption,timestamp,permalink', since: SINCE, limit: '100' }));
}

describe('Instagram verify', () => {
  useGraphMock();

  it('finds the media by caption and time', async () => {
    recentMedia().reply(200, {
      data: [
        { id: '1790', caption: 'New in #spring', timestamp: '2026-12-03T10:00:40+0000', permalink: 'https://www.instagram.com/p/ABC/' },
        // The same caption before the commit: an older post.
        { id: '1780', caption: 'New in #spring', timestamp: '2026-12-01T10:00:00+0000', permalink: 'https://www.instagram.com/p/OLD/' },
      ],
    });
    expect(await publisher.verify!(request())).toEqual({
      kind: 'live',
      platformPostId: '1790',
      permalink: 'https://www.instagram.com/p/ABC/',
    });
  });

  it('absent when none matches; cannot tell when refused', async () => {
    recentMedia().reply(200, { data: [] });
    expect(await publisher.verify!(request())).toMatchObject({ kind: 'absent', reason: expect.stringContaining('@acme') });
    recentMedia().reply(400, {
      error: { message: 'Error validating access token', type: 'OAuthException', code: 190, error_subcode: 460 },
    });
    expect(await publisher.verify!(request())).toMatchObject({ kind: 'unknown' });
  });
});
