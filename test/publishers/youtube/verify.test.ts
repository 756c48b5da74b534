/** Verify: by the video id when the upload answered it, else the uploads playlist around the commit, by title. */
import nock from 'nock';
import { describe, expect, it } from 'vitest';
import type { VerifyRequest } from '../../../src/publishers/publisher.js';
import { useNock } from '../../helpers/nock.js';
import { ACCESS, API, CHANNEL_ID, UPLOADS, arrangeChannel, createPublisher } from './helpers.js';

useNock();

const TWO_MINUTES_AGO = () => new Date(Date.now() - 2 * 60_000);

function request(overrides: Partial<VerifyRequest> = {}): VerifyRequest {
  return {
    account: { platformAccountId: CHANNEL_ID, handle: 'acme', displayName: 'Acme Inc' },
    tokens: { accessToken: ACCESS },
    text: 'Launch day\nOur new product',
    mediaCount: 1,
    committedAt: TWO_MINUTES_AGO(),
    ...overrides,
  };
}

function arrangeUploads(items: Array<{ id: string; title: string; at: Date }>): void {
  nock(API, { reqheaders: { authorization: `Bearer ${ACCESS}` } })
    .get('/youtube/v3/playlistItems')
    .query({ part: 'snippet', maxResults: '50', playlistId: UPLOADS })
    .reply(200, {
      kind: 'youtube#playlistItemListResponse',
      items: items.map((v) => ({
        kind: 'youtube#playlistItem',
        snippet: { publishedAt: v.at.toISOString(), title: v.title, resourceId: { kind: 'youtube#video', videoId: v.id } },
      })),
    });
}

describe('YouTube verify', () => {
  it('by id: live while processing or processed, absent when rejected or gone', async () => {
    const publisher = createPublisher();
    const status = (body: Record<string, unknown>) =>
      nock(API, { reqheaders: { authorization: `Bearer ${ACCESS}` } })
        .get('/youtube/v3/videos')
        .query({ part: 'status', id: 'vid-1' })
        .reply(200, body);
    status({ items: [{ id: 'vid-1', status: { uploadStatus: 'processed' } }] });
    expect(await publisher.verify!(request({ platformId: 'vid-1' }))).toEqual({
      kind: 'live',
      platformPostId: 'vid-1',
      permalink: 'https://www.youtube.com/watch?v=vid-1',
    });
    status({ items: [{ id: 'vid-1', status: { uploadStatus: 'rejected', rejectionReason: 'duplicate' } }] });
    expect(await publisher.verify!(request({ platformId: 'vid-1' }))).toEqual({
      kind: 'absent',
      reason: 'YouTube rejected the video (duplicate)',
    });
    status({ items: [] });
    expect(await publisher.verify!(request({ platformId: 'vid-1' }))).toMatchObject({ kind: 'absent' });
  });

  it('without an id: finds the upload with the same title after the commit, skipping known ids and older uploads', async () => {
    const publisher = createPublisher();
    const committedAt = TWO_MINUTES_AGO();
    arrangeChannel();
    arrangeUploads([
      { id: 'other', title: 'Launch day', at: new Date(committedAt.getTime() + 5_000) },
      { id: 'mine', title: 'Launch day', at: new Date(committedAt.getTime() + 3_000) },
      { id: 'old', title: 'Launch day', at: new Date(committedAt.getTime() - 86_400_000) },
    ]);
    expect(await publisher.verify!(request({ committedAt, knownIds: ['other'] }))).toEqual({
      kind: 'live',
      platformPostId: 'mine',
      permalink: 'https://www.youtube.com/watch?v=mine',
    });
  });

  it('without an id: absent once the listing had time; unknown right after the commit', async () => {
    const publisher = createPublisher();
    arrangeChannel();
    arrangeUploads([{ id: 'old', title: 'Launch day', at: new Date(Date.now() - 86_400_000) }]);
    expect(await publisher.verify!(request())).toMatchObject({ kind: 'absent' });
    arrangeChannel();
    arrangeUploads([]);
    expect(await publisher.verify!(request({ committedAt: new Date() }))).toMatchObject({ kind: 'unknown' });
  });

  it('a refusal or a network error tells nothing', async () => {
    const publisher = createPublisher();
    nock(API)
      .get('/youtube/v3/videos')
      .query(true)
      .reply(403, { error: { code: 403, errors: [{ reason: 'quotaExceeded' }] } });
    expect(await publisher.verify!(request({ platformId: 'vid-1' }))).toEqual({
      kind: 'unknown',
      reason: 'YouTube did not say (quotaExceeded)',
    });
    nock(API)
      .get('/youtube/v3/channels')
      .query(true)
      .replyWithError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    expect(await publisher.verify!(request())).toMatchObject({ kind: 'unknown' });
  });
});
