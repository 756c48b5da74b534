/** X threads at the request level (nock): exact bodies of each part, the order of commits and live parts, resuming. */
import nock from 'nock';
import { describe, expect, it } from 'vitest';
import type { PublishResult } from '../../../src/publishers/publisher.js';
import { useMediaDir } from '../../helpers/media.js';
import { useNock } from '../../helpers/nock.js';
import { ACCESS, API, pngFile, publishRequest, xPublisher } from './x-fixtures.js';

const bearer = { reqheaders: { authorization: `Bearer ${ACCESS}` } };
const dir = useMediaDir('iqsp-x-thread-');
useNock();

function failure(result: PublishResult) {
  if (result.kind !== 'failed') throw new Error(`expected a failure, got ${JSON.stringify(result)}`);
  return result.failure;
}

/** A publish request that logs each commit and each live part, in order. */
function logged(caption: string, files: Parameters<typeof publishRequest>[2], liveParts?: string[]) {
  const events: string[] = [];
  const request = publishRequest(dir.media, caption, files, {
    beforeCommit: () => Promise.resolve(void events.push('commit')),
    onPartLive: (index, id) => Promise.resolve(void events.push(`live ${index} ${id}`)),
    liveParts,
  });
  return { request, events };
}

describe('X threads', () => {
  it('sends part 1 with the media, then each part in reply to the one before, one commit per part', async () => {
    const image = await pngFile(dir.media, dir.workDir);
    nock(API, bearer)
      .post('/2/media/upload/initialize')
      .reply(200, { data: { id: '700' } });
    nock(API, bearer).post('/2/media/upload/700/append').reply(200, {});
    nock(API, bearer)
      .post('/2/media/upload/700/finalize')
      .reply(200, { data: { id: '700' } });
    nock(API, bearer)
      .post('/2/tweets', { text: 'One', media: { media_ids: ['700'] } })
      .reply(201, { data: { id: '11' } })
      .post('/2/tweets', { text: 'Two', reply: { in_reply_to_tweet_id: '11' } })
      .reply(201, { data: { id: '12' } })
      .post('/2/tweets', { text: 'Three', reply: { in_reply_to_tweet_id: '12' } })
      .reply(201, { data: { id: '13' } });
    const { request, events } = logged('One\n---\nTwo\n---\nThree', [image]);
    expect(await xPublisher().publish(request)).toEqual({
      kind: 'published',
      platformPostId: '11',
      permalink: 'https://x.com/acme/status/11',
    });
    expect(events).toEqual(['commit', 'live 0 11', 'commit', 'live 1 12', 'commit', 'live 2 13']);
  });

  it("a refused part 2 leaves part 1 live and keeps the class and X's reason (the caller says which parts are live)", async () => {
    nock(API, bearer)
      .post('/2/tweets', { text: 'First' })
      .reply(201, { data: { id: '21' } })
      .post('/2/tweets', { text: 'Second', reply: { in_reply_to_tweet_id: '21' } })
      .reply(
        403,
        { title: 'Forbidden', detail: 'You are not permitted to perform this action.', type: 'about:blank', status: 403 },
        { 'content-type': 'application/problem+json' },
      );
    const { request, events } = logged('First --- Second --- Third', []);
    expect(failure(await xPublisher().publish(request))).toEqual({
      class: 'content',
      message: 'X refused this post (X said: You are not permitted to perform this action); change it before posting again.',
      platformCode: 'x:403',
    });
    expect(events).toEqual(['commit', 'live 0 21', 'commit']);
  });

  it('resumes after the live parts: no upload, the first new part replies to the last live one', async () => {
    const image = await pngFile(dir.media, dir.workDir);
    nock(API, bearer)
      .post('/2/tweets', { text: 'Three', reply: { in_reply_to_tweet_id: '32' } })
      .reply(201, { data: { id: '33' } });
    const { request, events } = logged('One --- Two --- Three', [image], ['31', '32']);
    expect(await xPublisher().publish(request)).toEqual({
      kind: 'published',
      platformPostId: '31',
      permalink: 'https://x.com/acme/status/31',
    });
    expect(events).toEqual(['commit', 'live 2 33']);
  });

  it('a thread already all live sends nothing and links its first post', async () => {
    const { request, events } = logged('One --- Two', [], ['41', '42']);
    expect(await xPublisher().publish(request)).toEqual({
      kind: 'published',
      platformPostId: '41',
      permalink: 'https://x.com/acme/status/41',
    });
    expect(events).toEqual([]);
  });

  it('a caption without --- sends exactly the body it always did, untrimmed, with one commit', async () => {
    nock(API, bearer)
      .post('/2/tweets', { text: '  Plain -- text\n' })
      .reply(201, { data: { id: '52' } });
    const { request, events } = logged('  Plain -- text\n', []);
    expect(await xPublisher().publish(request)).toMatchObject({ kind: 'published', platformPostId: '52' });
    expect(events).toEqual(['commit', 'live 0 52']);
  });
});
