/** Verify on Threads: the container's status when the attempt recorded it, else the account's threads around the commit. */
import nock from 'nock';
import { describe, expect, it } from 'vitest';
import type { VerifyRequest } from '../../../src/publishers/publisher.js';
import { useNock } from '../../helpers/nock.js';
import { ACCOUNT, API, arrangeStatus, graphError, threadsPublisher, TOKEN, tokens, USER } from './threads-fixtures.js';

useNock();
const committedAt = new Date('2026-09-01T12:00:00Z');
const since = String(Math.floor(committedAt.getTime() / 1000) - 120);

function request(extra: Partial<VerifyRequest> = {}): VerifyRequest {
  return { account: ACCOUNT, tokens: tokens(), text: 'Hello  world', mediaCount: 0, committedAt, ...extra };
}

function arrangeList(data: unknown[], after?: string, next?: string): void {
  nock(API)
    .get(`/${USER}/threads`)
    .query({ fields: 'id,permalink,text,timestamp', since, limit: '100', access_token: TOKEN, ...(after ? { after } : {}) })
    .reply(200, { data, paging: { cursors: { after: next ?? 'end' }, ...(next ? { next: 'https://graph.threads.net/next' } : {}) } });
}

const post = (id: string, text: string, at = '2026-09-01T12:00:03+0000') => ({
  id,
  text,
  timestamp: at,
  permalink: `https://www.threads.net/@acme/post/${id}`,
});

const verify = (r: VerifyRequest) => threadsPublisher().verify!(r);

describe('Threads verify', () => {
  it('finds the post among the threads since the commit, by its text (blanks folded), skipping known ids', async () => {
    arrangeList([post('m9', 'Hello world', '2026-09-01T12:05:00+0000'), post('m8', 'Hello world'), post('m7', 'Other')]);
    expect(await verify(request({ knownIds: ['m9'] }))).toEqual({
      kind: 'live',
      platformPostId: 'm8',
      permalink: 'https://www.threads.net/@acme/post/m8',
    });
  });

  it('nothing like it since the commit: absent', async () => {
    arrangeList([post('m7', 'Other')]);
    expect(await verify(request())).toMatchObject({ kind: 'absent' });
  });

  it('reads further pages, and says unknown when there is too much to read', async () => {
    arrangeList([post('m1', 'x')], undefined, 'c1');
    arrangeList([post('m2', 'Hello world')], 'c1');
    expect(await verify(request())).toMatchObject({ kind: 'live', platformPostId: 'm2' });
    for (let page = 0; page < 5; page += 1) arrangeList([post(`n${page}`, 'x')], page === 0 ? undefined : `p${page}`, `p${page + 1}`);
    expect(await verify(request())).toMatchObject({ kind: 'unknown' });
  });

  it('a container never published (FINISHED) is absent without reading the list', async () => {
    arrangeStatus('c1', 'FINISHED');
    expect(await verify(request({ platformId: 'c1' }))).toEqual({
      kind: 'absent',
      reason: 'Threads says the prepared post was never published',
    });
  });

  it('a container in ERROR is absent with its reason', async () => {
    arrangeStatus('c1', { status: 'ERROR', error_message: 'FAILED_DOWNLOADING_VIDEO' });
    expect(await verify(request({ platformId: 'c1' }))).toMatchObject({
      kind: 'absent',
      reason: expect.stringContaining('FAILED_DOWNLOADING_VIDEO') as string,
    });
  });

  it('a PUBLISHED container: live with the id and link from the list, unknown while it is not listed', async () => {
    arrangeStatus('c1', 'PUBLISHED');
    arrangeList([post('m8', 'Hello world')]);
    expect(await verify(request({ platformId: 'c1' }))).toMatchObject({ kind: 'live', platformPostId: 'm8' });
    arrangeStatus('c1', 'PUBLISHED');
    arrangeList([]);
    expect(await verify(request({ platformId: 'c1' }))).toMatchObject({ kind: 'unknown' });
  });

  it("a chain's later part: only the container can tell (replies are listed only with threads_read_replies)", async () => {
    arrangeStatus('c2', 'FINISHED');
    expect(await verify(request({ text: 'One\n---\nTwo', liveParts: ['m1'], platformId: 'c2' }))).toMatchObject({ kind: 'absent' });
    arrangeStatus('c2', 'PUBLISHED');
    expect(await verify(request({ text: 'One\n---\nTwo', liveParts: ['m1'], platformId: 'c2' }))).toMatchObject({ kind: 'unknown' });
    expect(await verify(request({ text: 'One\n---\nTwo', liveParts: ['m1'] }))).toMatchObject({ kind: 'unknown' });
  });

  it('a refused read is unknown, never absent', async () => {
    nock(API).get(`/${USER}/threads`).query(true).reply(400, graphError(190, 'Invalid OAuth access token'));
    expect(await verify(request())).toMatchObject({ kind: 'unknown' });
  });
});
